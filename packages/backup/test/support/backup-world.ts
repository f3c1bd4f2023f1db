/**
 * The parties of a backup, in one process, from real components: identities of `@milagro/pki` in
 * memory key stores, SQLite databases, and a content store whose blocks live as files in a
 * directory (so big backups cost disk, not memory). Messages go over an in-memory bus with the
 * `Messenger` shape; the real-process test runs the same code over `@milagro/messaging` and Helia.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { MemoryKeyStore, type KeyStore } from '@milagro/keystore';
import { createIdentity, identityRecipientKey, identitySigner, IdentityResolver, type OwnedIdentity } from '@milagro/pki';
import { openSqliteDatabase, type SqlDatabase } from '@milagro/storage';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { BackupFiduciary, createBackup, recoveryPublicKey, type BackupMessage, type BackupMessenger, type FiduciaryEvent } from '../../src/index.js';

/** A content store over a directory: one file per block. Checks nothing on read (tests tamper with it). */
export class DirectoryBlockStore {
  readonly pinned = new Set<string>();
  constructor(readonly dir: string) {}

  static async create(dir: string): Promise<DirectoryBlockStore> {
    await mkdir(dir, { recursive: true });
    return new DirectoryBlockStore(dir);
  }

  path(cid: CID | string): string {
    return join(this.dir, cid.toString());
  }

  async put(bytes: Uint8Array): Promise<CID> {
    const cid = CID.createV1(raw.code, await sha256.digest(bytes));
    await writeFile(this.path(cid), bytes);
    return cid;
  }

  async putDag(value: unknown, options?: { pin?: boolean }): Promise<CID> {
    const bytes = dagCbor.encode(value);
    const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes));
    await writeFile(this.path(cid), bytes);
    if (options?.pin === true) this.pinned.add(cid.toString());
    return cid;
  }

  async get(cid: CID | string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.path(cid)));
  }

  async getDag<T = unknown>(cid: CID | string): Promise<T> {
    return dagCbor.decode(await this.get(cid));
  }

  async pin(cid: CID | string): Promise<void> {
    this.pinned.add(cid.toString());
  }

  async unpin(cid: CID | string): Promise<void> {
    this.pinned.delete(cid.toString());
  }

  async remove(cid: CID | string): Promise<void> {
    await rm(this.path(cid));
  }

  async has(cid: CID | string): Promise<boolean> {
    return readFile(this.path(cid)).then(
      () => true,
      () => false,
    );
  }

  async isPinned(cid: CID | string): Promise<boolean> {
    return this.pinned.has(cid.toString());
  }
}

/** In-memory delivery with the `Messenger` shape: per-identity inboxes, positions from 1. */
export class MemoryBus {
  readonly #inboxes = new Map<string, BackupMessage[]>();
  readonly #wake = new Map<string, Set<() => void>>();

  #inbox(id: string): BackupMessage[] {
    let inbox = this.#inboxes.get(id);
    if (inbox === undefined) this.#inboxes.set(id, (inbox = []));
    return inbox;
  }

  messenger(id: string): BackupMessenger {
    let consumed = 0;
    return {
      id,
      send: async (to, message) => {
        const inbox = this.#inbox(to);
        inbox.push({ position: inbox.length + 1, from: id, type: message.type, body: message.body });
        for (const wake of this.#wake.get(to) ?? []) wake();
      },
      messages: (options = {}) => this.#read(id, () => consumed, options.signal),
      consumed: async (position) => {
        consumed = Math.max(consumed, position);
      },
    };
  }

  /** Messages sent to `id` so far. */
  inbox(id: string): readonly BackupMessage[] {
    return this.#inbox(id);
  }

  async *#read(id: string, after: () => number, signal: AbortSignal | undefined): AsyncGenerator<BackupMessage> {
    let next = after();
    const inbox = this.#inbox(id);
    while (signal?.aborted !== true) {
      if (next < inbox.length) {
        yield inbox[next++]!;
        continue;
      }
      await new Promise<void>((resolve) => {
        const wakers = this.#wake.get(id) ?? new Set();
        this.#wake.set(id, wakers);
        const wake = (): void => {
          wakers.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        wakers.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }
}

export interface Party {
  readonly id: string;
  readonly identity: OwnedIdentity;
  readonly keyStore: KeyStore;
}

export async function createParty(name: string, store: DirectoryBlockStore): Promise<Party> {
  const keyStore = new MemoryKeyStore();
  const identity = await createIdentity({ keyStore, store, labelPrefix: `identity/${name}` });
  return { id: identity.id.toString(), identity, keyStore };
}

/** A fiduciary as `createBackup` names it: its identity and X-Wing key. */
export function fiduciaryKey(party: Party): { readonly id: string; readonly publicKey: Uint8Array } {
  return { id: party.id, publicKey: party.identity.document.keys.kem };
}

/** `node` backs `source` up, sealed `threshold` of `fiduciaries`, for the owner of `secret` (the recovery credential). */
export function backUpNode(
  node: Party,
  store: DirectoryBlockStore,
  options: {
    readonly source: { dataDir: string; configFile: string };
    readonly fiduciaries: ReadonlyArray<{ readonly id: string; readonly publicKey: Uint8Array }>;
    readonly threshold: number;
    readonly secret: string;
    /** The node's previous manifest. */
    readonly prev?: CID;
  },
): ReturnType<typeof createBackup> {
  return createBackup({
    source: options.source,
    signer: identitySigner(node.identity, node.keyStore),
    identity: node.identity.head,
    store,
    fiduciaries: [...options.fiduciaries],
    threshold: options.threshold,
    recovery: recoveryPublicKey(options.secret),
    ...(options.prev === undefined ? {} : { prev: options.prev }),
  });
}

/** A fiduciary with its own SQLite database, reading its inbox on the bus. */
export class FiduciaryParty {
  private constructor(
    readonly party: Party,
    readonly db: SqlDatabase,
    readonly service: BackupFiduciary,
    readonly events: FiduciaryEvent[],
  ) {}

  get id(): string {
    return this.party.id;
  }

  /**
   * Starts a fiduciary on a SQLite file in `dir` (or `options.open()`). With `options.party` it is a
   * restart of that fiduciary: it reads only the messages sent from now on.
   */
  static async start(
    name: string,
    dir: string,
    store: DirectoryBlockStore,
    bus: MemoryBus,
    options: { now?: () => number; party?: Party; open?: () => Promise<SqlDatabase>; maxBytesPerNode?: number } = {},
  ): Promise<FiduciaryParty> {
    const party = options.party ?? (await createParty(name, store));
    const db = options.open === undefined ? await openSqliteDatabase({ path: join(dir, `${name}.sqlite`) }) : await options.open();
    const events: FiduciaryEvent[] = [];
    const messenger = bus.messenger(party.id);
    if (options.party !== undefined) await messenger.consumed(bus.inbox(party.id).length);
    const service = await BackupFiduciary.open({
      messenger,
      ...(options.maxBytesPerNode === undefined ? {} : { maxBytesPerNode: options.maxBytesPerNode }),
      store,
      resolver: new IdentityResolver({ store }),
      signer: identitySigner(party.identity, party.keyStore),
      recipient: await identityRecipientKey(party.identity, party.keyStore),
      db,
      onEvent: (event) => events.push(event),
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    service.start();
    return new FiduciaryParty(party, db, service, events);
  }

  async stop(): Promise<void> {
    await this.service.close();
    await this.db.close();
  }
}

/** A small node data dir: a key file, a SQLite database with rows, IPFS-like blocks, a journal; and a config file. */
export async function writeNodeFixture(root: string, options: { bigFileBytes?: number } = {}): Promise<{ dataDir: string; configFile: string }> {
  const { DatabaseSync } = await import('node:sqlite');
  const { randomBytes } = await import('node:crypto');
  const dataDir = join(root, 'data');
  await mkdir(join(dataDir, 'ipfs', 'blocks'), { recursive: true });
  await writeFile(join(dataDir, 'keys'), randomBytes(4096), { mode: 0o600 });
  await writeFile(join(dataDir, 'keys.lock'), 'a lock of a running process');
  await writeFile(join(dataDir, 'messaging.journal'), randomBytes(1000));
  for (let i = 0; i < 5; i++) await writeFile(join(dataDir, 'ipfs', 'blocks', `block-${i}`), randomBytes(3000 + i));
  if (options.bigFileBytes !== undefined) {
    const handle = await (await import('node:fs/promises')).open(join(dataDir, 'ipfs', 'blocks', 'big'), 'w');
    const piece = randomBytes(1024 * 1024);
    for (let written = 0; written < options.bigFileBytes; written += piece.length) await handle.write(piece, 0, Math.min(piece.length, options.bigFileBytes - written));
    await handle.close();
  }
  const db = new DatabaseSync(join(dataDir, 'node.sqlite'));
  db.exec('PRAGMA journal_mode = WAL; CREATE TABLE orders (id INTEGER PRIMARY KEY, secret BLOB)');
  const insert = db.prepare('INSERT INTO orders (secret) VALUES (?)');
  for (let i = 0; i < 200; i++) insert.run(randomBytes(64));
  db.close();
  const configFile = join(root, 'config.yaml');
  await writeFile(configFile, 'roles: [dta]\ndataDir: ./data\n');
  return { dataDir, configFile };
}

/** Every file under `dir` (relative path → SHA-256 hex), SQLite databases by their rows instead of their bytes. */
export async function digestTree(dir: string): Promise<Record<string, string>> {
  const { readdir } = await import('node:fs/promises');
  const { createHash } = await import('node:crypto');
  const { DatabaseSync } = await import('node:sqlite');
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const rel = path.slice(dir.length + 1);
    if (/-(wal|shm)$/.test(rel)) continue;
    if (rel.endsWith('.sqlite')) {
      const db = new DatabaseSync(path, { readOnly: true });
      const rows = db.prepare('SELECT id, hex(secret) AS secret FROM orders ORDER BY id').all();
      db.close();
      out[rel] = createHash('sha256').update(JSON.stringify(rows)).digest('hex');
    } else {
      out[rel] = createHash('sha256').update(await readFile(path)).digest('hex');
    }
  }
  return out;
}
