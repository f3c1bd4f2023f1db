/**
 * The browser's credential store: one record in an IndexedDB object store of the page's origin.
 * IndexedDB writes are transactional, so a crash leaves the old credential or the new one.
 */
import { MfaClientError } from './client-errors.js';
import { checkCredential, type CredentialStore, type StoredCredential } from './credential-store.js';

/** Options of {@link IndexedDbCredentialStore}. */
export interface IndexedDbCredentialStoreOptions {
  /** Database name; `milagro-mfa` by default. */
  readonly database?: string;
  /** Record key, to keep several users' credentials apart in one origin; `default` by default. */
  readonly key?: string;
  /** The IndexedDB factory; `globalThis.indexedDB` by default. */
  readonly indexedDB?: IDBFactory;
}

const OBJECT_STORE = 'credentials';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function completion(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** Keeps the credential in IndexedDB (browser). */
export class IndexedDbCredentialStore implements CredentialStore {
  readonly #database: string;
  readonly #key: string;
  readonly #factory: IDBFactory | undefined;
  #db: Promise<IDBDatabase> | undefined;

  constructor(options: IndexedDbCredentialStoreOptions = {}) {
    this.#database = options.database ?? 'milagro-mfa';
    this.#key = options.key ?? 'default';
    this.#factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  }

  async load(): Promise<StoredCredential | undefined> {
    const value = await this.#run('readonly', (store) => request(store.get(this.#key)));
    return value === undefined ? undefined : checkCredential(value);
  }

  async save(credential: StoredCredential): Promise<void> {
    // A JSON round trip keeps the record plain data (no prototypes, no undefined fields).
    const record: unknown = JSON.parse(JSON.stringify(checkCredential(credential)));
    await this.#run('readwrite', (store) => request(store.put(record, this.#key)));
  }

  async clear(): Promise<void> {
    await this.#run('readwrite', (store) => request(store.delete(this.#key)));
  }

  /** Closes the database connection (a later call opens it again). */
  close(): void {
    const db = this.#db;
    this.#db = undefined;
    void db?.then((d) => d.close(), () => undefined);
  }

  async #run<T>(mode: IDBTransactionMode, body: (store: IDBObjectStore) => Promise<T>): Promise<T> {
    try {
      const db = await this.#open();
      const tx = db.transaction(OBJECT_STORE, mode);
      const done = completion(tx);
      const result = await body(tx.objectStore(OBJECT_STORE));
      await done;
      return result;
    } catch (cause) {
      if (cause instanceof MfaClientError) throw cause;
      throw new MfaClientError('STORE_FAILED', 'IndexedDB is not available or failed', { cause });
    }
  }

  #open(): Promise<IDBDatabase> {
    const factory = this.#factory;
    if (factory === undefined) return Promise.reject(new Error('no IndexedDB in this environment'));
    this.#db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = factory.open(this.#database, 1);
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(OBJECT_STORE)) req.result.createObjectStore(OBJECT_STORE);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB open failed'));
      req.onblocked = () => reject(new Error('IndexedDB open blocked by another connection'));
    });
    this.#db.catch(() => (this.#db = undefined));
    return this.#db;
  }
}
