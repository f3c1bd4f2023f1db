/**
 * What `milagro backup list|verify|restore` stand on when the node itself is not (or may not be)
 * available: a temporary IPFS node that dials the config's peers with its swarm key, and, for
 * releases, a temporary identity (memory key store) with its own messenger. Removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedNode, type IpfsNode } from '@milagro/ipfs';
import { FileKeyStore, MemoryKeyStore, type KeyStore } from '@milagro/keystore';
import { FileJournal, MemoryJournal, Messenger } from '@milagro/messaging';
import { readSecret } from '@milagro/node';
import { createIdentity, IdentityResolver, loadIdentity, type OwnedIdentity } from '@milagro/pki';
import { CID } from 'multiformats/cid';
import type { MilagroConfig } from './config.js';

export interface TemporaryNetwork {
  readonly ipfs: IpfsNode;
  readonly resolver: IdentityResolver;
  close(): Promise<void>;
}

export interface TemporaryIdentity {
  readonly identity: OwnedIdentity;
  readonly messenger: Messenger;
}

/** A throwaway IPFS node on the config's network (its peers and swarm key), in a temporary directory. */
export async function joinNetwork(config: MilagroConfig): Promise<TemporaryNetwork> {
  const dir = await mkdtemp(join(tmpdir(), 'milagro-backup-net-'));
  let ipfs: IpfsNode;
  try {
    ipfs = await createEmbeddedNode({
      dataDir: dir,
      peers: config.ipfs.peers,
      ...(config.ipfs.swarmKey === undefined ? {} : { swarmKey: readSecret(config.ipfs.swarmKey) }),
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ipfs,
    resolver: new IdentityResolver({ store: ipfs.store }),
    close: async () => {
      await ipfs.stop();
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** A temporary identity (keys only in memory) and its messenger on `network`: what asks fiduciaries for shares. */
export async function temporaryIdentity(network: TemporaryNetwork): Promise<TemporaryIdentity & { close(): Promise<void> }> {
  const keyStore = new MemoryKeyStore();
  const identity = await createIdentity({ keyStore, store: network.ipfs.store, labelPrefix: 'restore' });
  // Others fetch its inception document from this node; pin it so it stays while we wait.
  await network.ipfs.store.pin(identity.id);
  const messenger = await Messenger.start({ identity, keyStore, store: network.ipfs.store, pubsub: network.ipfs.pubsub, resolver: network.resolver, journal: new MemoryJournal() });
  return {
    identity,
    messenger,
    close: async () => {
      await messenger.close();
      await keyStore.close();
    },
  };
}

/** Waits until the temporary node has a connection (the peers dial in the background). */
export async function waitForPeers(ipfs: IpfsNode, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await ipfs.connectedPeers()).length === 0) {
    if (Date.now() > deadline) throw new Error('no peer of the config answered: check ipfs.peers and the swarm key');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The node's own side of `backup create`, without its network identity (see {@link openNodeForBackup}). */
export interface BackupSide {
  readonly keyStore: KeyStore;
  readonly identity: OwnedIdentity;
  readonly network: TemporaryNetwork;
  readonly messenger: Messenger;
  close(): Promise<void>;
}

async function openNodeKeyStore(config: MilagroConfig): Promise<KeyStore> {
  const keyStore = config.keyStore;
  if (keyStore.kind === 'pkcs11') {
    const { Pkcs11KeyStore } = await import('@milagro/keystore/pkcs11');
    return Pkcs11KeyStore.open({ module: keyStore.module, ...(keyStore.tokenLabel === undefined ? {} : { tokenLabel: keyStore.tokenLabel }), pin: keyStore.pin });
  }
  return FileKeyStore.open({ path: join(config.dataDir, 'keys'), passphrase: readSecret(keyStore.passphrase) });
}

/**
 * Opens a stopped node for `backup create`: its key store, identity and messaging journal, but on a
 * temporary IPFS node with a fresh libp2p peer ID. Peers keep Bitswap and gossipsub state per peer
 * ID, and right after a node restarts under its old peer ID they may not fetch from it for a while
 * (seen here: deposits not even received within 5 minutes); a fresh peer ID has no such state. The
 * node's own blockstore is opened offline (no listen address, no peers) only to copy its identity
 * documents to the temporary node, which serves them, the messages and the backup's blocks until the
 * fiduciaries have pinned them. The backup's blocks therefore never land in the node's data dir.
 */
export async function openNodeForBackup(config: MilagroConfig, labelPrefix: string): Promise<BackupSide> {
  const opened: Array<() => Promise<void>> = [];
  const close = async (): Promise<void> => {
    for (const step of opened.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const keyStore = await openNodeKeyStore(config);
    opened.push(() => keyStore.close());
    const local = await createEmbeddedNode({ dataDir: join(config.dataDir, 'ipfs'), peers: [], listen: [] });
    let localOpen = true;
    const stopLocal = async (): Promise<void> => {
      if (localOpen) await local.stop();
      localOpen = false;
    };
    opened.push(stopLocal);
    const identity = await loadIdentity({ keyStore, store: local.store, labelPrefix });
    const network = await joinNetwork(config);
    opened.push(() => network.close());
    // Copy the identity's documents (newest back to the inception) so the temporary node can serve them.
    for (let cid: CID | undefined = identity.head; cid !== undefined; ) {
      const document: { prev?: unknown } = await local.store.getDag<{ prev?: unknown }>(cid, { timeoutMs: 10_000 });
      await network.ipfs.store.putDag(document, { pin: true, recursive: false });
      cid = CID.asCID(document.prev) ?? undefined;
    }
    await stopLocal();
    const messenger = await Messenger.start({
      identity,
      keyStore,
      store: network.ipfs.store,
      pubsub: network.ipfs.pubsub,
      resolver: network.resolver,
      journal: new FileJournal({ path: join(config.dataDir, 'messaging.journal') }),
    });
    opened.push(() => messenger.close());
    return { keyStore, identity, network, messenger, close };
  } catch (error) {
    await close();
    throw error;
  }
}
