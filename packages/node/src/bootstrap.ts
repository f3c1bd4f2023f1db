/**
 * Builds what every node stands on from its configuration: key store, IPFS (embedded or Kubo), identity
 * (created on first start, loaded afterwards), PKI resolver, database (SQLite or PostgreSQL) and messenger.
 * Composition only; the roles' logic is in their packages.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { connectKubo, createEmbeddedNode, type IpfsNode } from '@milagro/ipfs';
import { FileKeyStore, type KeyStore } from '@milagro/keystore';
import { FileJournal, Messenger, type MessengerOptions, type Rejection } from '@milagro/messaging';
import { createIdentity, IdentityResolver, isPkiError, loadIdentity, type OwnedIdentity } from '@milagro/pki';
import { openPostgresDatabase, openSqliteDatabase, type SqlDatabase } from '@milagro/storage';
import type { Logger } from 'pino';
import { readSecret, type NodeConfig } from './config.js';
import { lockDataDir } from './data-dir-lock.js';

export interface NodeInfrastructure {
  readonly keyStore: KeyStore;
  readonly ipfs: IpfsNode;
  readonly identity: OwnedIdentity;
  readonly resolver: IdentityResolver;
  readonly messenger: Messenger;
  readonly db: SqlDatabase;
  /** Closes everything, in reverse order of opening. A second call does nothing. */
  close(): Promise<void>;
}

export interface BootstrapNodeOptions {
  /** Key labels of the node's identity start with this (e.g. `dta` gives `dta/0/ed25519`). Never change it for an existing data dir. */
  readonly identityLabelPrefix: string;
  /** File name of the SQLite database inside `dataDir` (unused when the config's `database` is PostgreSQL). */
  readonly databaseFile: string;
  /**
   * Messenger options the program chooses (docs/adr/0023-chain-close.md): `closeOtherChains` on a node
   * that is its identity's only sender (never on replicas), so setting it up afresh never exhausts
   * its peers' `maxChainsPerSender`; `onRejected` to log refusals (`too-many-chains` says what to do).
   */
  readonly messaging?: Pick<MessengerOptions, 'closeOtherChains' | 'onRejected'>;
  /**
   * Where refusals an operator must act on are logged (warn): `too-many-chains` (a peer set up afresh
   * too often; the detail says what to do) and `chain-closed` (a node still sending on a chain its
   * identity closed: a copied data dir). Other refusals are counted in the metrics only (anyone on the
   * topic can cause them).
   */
  readonly logger?: Pick<Logger, 'warn'>;
}

/** Logs the refusals an operator must act on, at most once a minute per sender and reason (`now`: for tests). */
export function rejectionLog(logger: Pick<Logger, 'warn'>, now: () => number = Date.now): (rejection: Rejection) => void {
  const last = new Map<string, number>();
  return (rejection) => {
    if (rejection.reason !== 'too-many-chains' && rejection.reason !== 'chain-closed') return;
    const key = `${rejection.reason} ${rejection.from ?? ''}`;
    const at = now();
    if (at - (last.get(key) ?? -Infinity) < 60_000) return;
    last.set(key, at);
    logger.warn({ event: 'messaging-refused', reason: rejection.reason, from: rejection.from, cid: rejection.cid }, rejection.detail);
  };
}

async function openKeyStore(config: NodeConfig): Promise<KeyStore> {
  const keyStore = config.keyStore;
  if (keyStore.kind === 'pkcs11') {
    // Loaded only when asked for: it needs the native pkcs11js addon.
    const { Pkcs11KeyStore } = await import('@milagro/keystore/pkcs11');
    return Pkcs11KeyStore.open({
      module: keyStore.module,
      ...(keyStore.tokenLabel === undefined ? {} : { tokenLabel: keyStore.tokenLabel }),
      pin: keyStore.pin,
    });
  }
  return FileKeyStore.open({
    path: join(config.dataDir, 'keys'),
    passphrase: readSecret(keyStore.passphrase),
    ...(keyStore.scryptLogN === undefined ? {} : { scrypt: { N: 2 ** keyStore.scryptLogN, r: 8, p: 1 } }),
  });
}

/** The embedded IPFS node under `dataDir`, or the configured Kubo daemon with the consortium peers dialled through it. */
async function openIpfs(config: NodeConfig): Promise<IpfsNode> {
  const { kubo, peers } = config.ipfs;
  if (kubo === undefined) {
    return createEmbeddedNode({
      dataDir: join(config.dataDir, 'ipfs'),
      peers,
      ...(config.ipfs.listen === undefined ? {} : { listen: config.ipfs.listen }),
      ...(config.ipfs.swarmKey === undefined ? {} : { swarmKey: readSecret(config.ipfs.swarmKey) }),
    });
  }
  const node = await connectKubo({ url: kubo.url, ...(kubo.timeoutMs === undefined ? {} : { timeoutMs: kubo.timeoutMs }) });
  // A peer that is down now is not fatal: messaging retries, and Kubo reconnects to peers it knows.
  await Promise.allSettled(peers.map((peer) => node.dial(peer, { timeoutMs: 10_000 })));
  return node;
}

/** The node's database: the SQLite file `databaseFile` in `dataDir`, or the configured PostgreSQL database. */
function openNodeDatabase(config: NodeConfig, databaseFile: string): Promise<SqlDatabase> {
  const database = config.database;
  if (database.kind === 'postgres') {
    return openPostgresDatabase({ url: readSecret(database.url), ...(database.poolSize === undefined ? {} : { poolSize: database.poolSize }) });
  }
  return openSqliteDatabase({ path: join(config.dataDir, databaseFile) });
}

/**
 * Opens a node's infrastructure under `config.dataDir` (created, mode 0700). On failure everything
 * already opened is closed again before the error is rethrown.
 */
export async function bootstrapNode(config: NodeConfig, options: BootstrapNodeOptions): Promise<NodeInfrastructure> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  // First and released last: no other process opens this data dir while this node has it.
  const lock = await lockDataDir(config.dataDir);
  const opened: Array<() => Promise<void>> = [() => lock.release()];
  const close = async (): Promise<void> => {
    for (const step of opened.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    // Side by side: a file key store spends its open in scrypt off the main thread (~0.4-0.6 s at
    // the default cost), which is long enough to start the IPFS node in.
    const [keyStoreOpened, ipfsStarted] = await Promise.allSettled([openKeyStore(config), openIpfs(config)]);
    if (keyStoreOpened.status === 'fulfilled') opened.push(() => keyStoreOpened.value.close());
    if (ipfsStarted.status === 'fulfilled') opened.push(() => ipfsStarted.value.stop());
    if (keyStoreOpened.status === 'rejected') throw keyStoreOpened.reason;
    if (ipfsStarted.status === 'rejected') throw ipfsStarted.reason;
    const keyStore = keyStoreOpened.value;
    const ipfs = ipfsStarted.value;
    const controller = { keyStore, store: ipfs.store, labelPrefix: options.identityLabelPrefix };
    let identity: OwnedIdentity;
    try {
      identity = await loadIdentity(controller);
    } catch (error) {
      if (!isPkiError(error, 'NOT_FOUND')) throw error;
      // NOT_FOUND also means a key store that records an identity whose documents are neither here
      // nor fetchable from the peers (a replica given the key store alone, its peers unreachable):
      // createIdentity then refuses to make a second identity, and the failed fetch is what to report.
      identity = await createIdentity(controller).catch((refused: unknown) => {
        throw isPkiError(refused, 'INVALID_ARGUMENT') ? error : refused;
      });
    }
    const resolver = new IdentityResolver({ store: ipfs.store });
    const db = await openNodeDatabase(config, options.databaseFile);
    opened.push(() => db.close());
    const messenger = await Messenger.start({
      identity,
      keyStore,
      store: ipfs.store,
      pubsub: ipfs.pubsub,
      resolver,
      journal: new FileJournal({ path: join(config.dataDir, 'messaging.journal') }),
      ...options.messaging,
      ...(options.logger === undefined ? {} : { onRejected: both(rejectionLog(options.logger), options.messaging?.onRejected) }),
    });
    opened.push(() => messenger.close());
    return { keyStore, ipfs, identity, resolver, messenger, db, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function both(first: (rejection: Rejection) => void, second: ((rejection: Rejection) => void) | undefined): (rejection: Rejection) => void {
  return second === undefined ? first : (rejection) => (first(rejection), second(rejection));
}
