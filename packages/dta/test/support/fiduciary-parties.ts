/**
 * The parties of a fiduciary order, built from real components: identities of `@milagro/pki` over a
 * content-addressed store, key stores of `@milagro/keystore`, a node:sqlite database in a temp dir.
 * The two-process test reuses `createParty`, `PrincipalSide` and `MemoryBlockStore` (swap the block
 * store for a Helia node's ContentStore there).
 */
import * as dagCbor from '@ipld/dag-cbor';
import { FileKeyStore, MemoryKeyStore, type KeyStore } from '@milagro/keystore';
import { createIdentity, identityRecipientKey, identitySigner, IdentityResolver, loadIdentity, type OwnedIdentity } from '@milagro/pki';
import type { SqlDatabase } from '@milagro/storage';
import { openTestDatabase } from '../../../../tools/jest/test-database.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import {
  createOrder,
  createRedemption,
  openFulfilment,
  openRelease,
  type FiduciaryValue,
  type Fulfilment,
  type Release,
} from '../../src/fiduciary/index.js';
import { FiduciaryService, type FiduciaryServiceOptions } from '../../src/fiduciary/fiduciary-service.js';
import type { FiduciaryPlugin } from '../../src/fiduciary/fiduciary-plugin.js';

/** Blocks in memory with the ContentStore calls the PKI and the fiduciary use (`putDag`, `get`). */
export class MemoryBlockStore {
  readonly blocks = new Map<string, Uint8Array>();
  readonly pinned = new Set<string>();

  async putDag(value: unknown, options?: { pin?: boolean }): Promise<CID> {
    const bytes = dagCbor.encode(value);
    const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes));
    this.blocks.set(cid.toString(), bytes);
    if (options?.pin === true) this.pinned.add(cid.toString());
    return cid;
  }

  async get(cid: CID | string): Promise<Uint8Array> {
    const bytes = this.blocks.get(cid.toString());
    if (bytes === undefined) throw new Error(`block ${cid.toString()} not found`);
    return bytes;
  }
}

/** An identity with its keys. */
export interface Party {
  readonly id: string;
  readonly identity: OwnedIdentity;
  readonly keyStore: KeyStore;
}

export async function createParty(name: string, store: MemoryBlockStore | Parameters<typeof createIdentity>[0]['store'], keyStore: KeyStore = new MemoryKeyStore()): Promise<Party> {
  const identity = await createIdentity({ keyStore, store, labelPrefix: `identity/${name}` });
  return { id: identity.id.toString(), identity, keyStore };
}

/** The principal's or beneficiary's side, over the library functions, against one fiduciary. */
export class PrincipalSide {
  readonly #party: Party;
  readonly #resolver: IdentityResolver;
  readonly #fiduciary: string;

  constructor(party: Party, resolver: IdentityResolver, fiduciary: string) {
    this.#party = party;
    this.#resolver = resolver;
    this.#fiduciary = fiduciary;
  }

  get id(): string {
    return this.#party.id;
  }

  async #fiduciaryKeys(): Promise<{ sign: Uint8Array; kem: Uint8Array }> {
    return (await this.#resolver.resolve(this.#fiduciary)).keys;
  }

  async order(plugin: string, params: FiduciaryValue, beneficiary?: string): Promise<{ cid: string; bytes: Uint8Array }> {
    const keys = await this.#fiduciaryKeys();
    return createOrder({
      principal: identitySigner(this.#party.identity, this.#party.keyStore),
      fiduciary: { id: this.#fiduciary, publicKey: keys.kem },
      plugin,
      params,
      ...(beneficiary === undefined ? {} : { beneficiary }),
    });
  }

  async openFulfilment(bytes: Uint8Array, order: string): Promise<Fulfilment> {
    const keys = await this.#fiduciaryKeys();
    return openFulfilment(bytes, {
      order,
      fiduciary: { id: this.#fiduciary, publicKey: keys.sign },
      recipient: await identityRecipientKey(this.#party.identity, this.#party.keyStore),
    });
  }

  async redemption(fulfilment: Pick<Fulfilment, 'cid' | 'reference'>, beneficiary?: string): Promise<{ cid: string; bytes: Uint8Array }> {
    const keys = await this.#fiduciaryKeys();
    return createRedemption({
      redeemer: identitySigner(this.#party.identity, this.#party.keyStore),
      fiduciary: { id: this.#fiduciary, publicKey: keys.kem },
      reference: fulfilment.reference,
      fulfilment: fulfilment.cid,
      ...(beneficiary === undefined ? {} : { beneficiary }),
    });
  }

  async openRelease(bytes: Uint8Array, redemption: string): Promise<Release> {
    const keys = await this.#fiduciaryKeys();
    return openRelease(bytes, {
      redemption,
      fiduciary: { id: this.#fiduciary, publicKey: keys.sign },
      recipient: await identityRecipientKey(this.#party.identity, this.#party.keyStore),
    });
  }
}

const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };

/**
 * A fiduciary D-TA with durable state in `dir`: an encrypted key file (its identity and the orders'
 * secrets) and a SQLite database. `reopen` closes and opens both again, as a restart would.
 */
export class FiduciaryNode {
  readonly dir: string;
  readonly store: MemoryBlockStore;
  #plugins: readonly FiduciaryPlugin[];
  keyStore!: FileKeyStore;
  db!: SqlDatabase;
  service!: FiduciaryService;
  identity!: OwnedIdentity;

  private constructor(dir: string, store: MemoryBlockStore, plugins: readonly FiduciaryPlugin[]) {
    this.dir = dir;
    this.store = store;
    this.#plugins = plugins;
  }

  static async start(store: MemoryBlockStore, plugins: readonly FiduciaryPlugin[], options: Partial<FiduciaryServiceOptions> = {}): Promise<FiduciaryNode> {
    const node = new FiduciaryNode(await mkdtemp(join(tmpdir(), 'milagro-fiduciary-')), store, plugins);
    node.keyStore = await node.#openKeyStore();
    node.identity = await createIdentity({ keyStore: node.keyStore, store, labelPrefix: 'identity/dta' });
    await node.#open(options);
    return node;
  }

  get id(): string {
    return this.identity.id.toString();
  }

  #openKeyStore(): Promise<FileKeyStore> {
    return FileKeyStore.open({ path: join(this.dir, 'keys.json'), passphrase: 'test passphrase', scrypt: FAST_SCRYPT });
  }

  async #open(options: Partial<FiduciaryServiceOptions>): Promise<void> {
    this.db = await openTestDatabase({ path: join(this.dir, 'state.db') });
    this.service = await FiduciaryService.open({
      db: this.db,
      keyStore: this.keyStore,
      identity: this.identity,
      resolver: new IdentityResolver({ store: this.store }),
      store: this.store,
      plugins: this.#plugins,
      ...options,
    });
  }

  /** Closes the service, database and key store, then opens them again from disk (a restart). */
  async reopen(plugins: readonly FiduciaryPlugin[] = this.#plugins, options: Partial<FiduciaryServiceOptions> = {}): Promise<void> {
    await this.service.close();
    await this.db.close();
    await this.keyStore.close();
    this.#plugins = plugins;
    this.keyStore = await this.#openKeyStore();
    this.identity = await loadIdentity({ keyStore: this.keyStore, store: this.store, labelPrefix: 'identity/dta' });
    await this.#open(options);
  }

  async stop(): Promise<void> {
    await this.service.close();
    await this.db.close();
    await this.keyStore.close();
    await rm(this.dir, { recursive: true, force: true, maxRetries: 5 });
  }
}
