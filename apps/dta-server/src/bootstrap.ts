/**
 * Builds what a D-TA stands on from its configuration: key store, embedded IPFS node, identity
 * (created on first start, loaded afterwards), PKI resolver, messenger and SQLite database.
 * Composition only; the D-TA's logic is in @milagro/dta.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createEmbeddedNode, type IpfsNode } from '@milagro/ipfs';
import { FileKeyStore, type KeyStore } from '@milagro/keystore';
import { FileJournal, Messenger } from '@milagro/messaging';
import { createIdentity, IdentityResolver, isPkiError, loadIdentity, type OwnedIdentity } from '@milagro/pki';
import { openSqliteDatabase, type SqlDatabase } from '@milagro/storage';
import { readSecret, type DtaServerConfig } from './config.js';

export interface Infrastructure {
  readonly keyStore: KeyStore;
  readonly ipfs: IpfsNode;
  readonly identity: OwnedIdentity;
  readonly resolver: IdentityResolver;
  readonly messenger: Messenger;
  readonly db: SqlDatabase;
  /** Closes everything, in reverse order of opening. */
  close(): Promise<void>;
}

const IDENTITY_LABEL_PREFIX = 'dta';

async function openKeyStore(config: DtaServerConfig): Promise<KeyStore> {
  const keyStore = config.keyStore;
  if (keyStore.kind === 'pkcs11') {
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

export async function bootstrap(config: DtaServerConfig): Promise<Infrastructure> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const opened: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const step of opened.reverse()) await step().catch(() => undefined);
  };
  try {
    const keyStore = await openKeyStore(config);
    opened.push(() => keyStore.close());
    const ipfs = await createEmbeddedNode({
      dataDir: join(config.dataDir, 'ipfs'),
      peers: config.ipfs.peers,
      ...(config.ipfs.listen === undefined ? {} : { listen: config.ipfs.listen }),
      ...(config.ipfs.swarmKey === undefined ? {} : { swarmKey: readSecret(config.ipfs.swarmKey) }),
    });
    opened.push(() => ipfs.stop());
    const controller = { keyStore, store: ipfs.store };
    let identity: OwnedIdentity;
    try {
      identity = await loadIdentity({ ...controller, labelPrefix: IDENTITY_LABEL_PREFIX });
    } catch (error) {
      if (!isPkiError(error, 'NOT_FOUND')) throw error;
      identity = await createIdentity({ ...controller, labelPrefix: IDENTITY_LABEL_PREFIX });
    }
    const resolver = new IdentityResolver({ store: ipfs.store });
    const db = await openSqliteDatabase({ path: join(config.dataDir, 'dta.sqlite') });
    opened.push(() => db.close());
    const messenger = await Messenger.start({
      identity,
      keyStore,
      store: ipfs.store,
      pubsub: ipfs.pubsub,
      resolver,
      journal: new FileJournal({ path: join(config.dataDir, 'messaging.journal') }),
    });
    opened.push(() => messenger.close());
    return { keyStore, ipfs, identity, resolver, messenger, db, close };
  } catch (error) {
    await close();
    throw error;
  }
}
