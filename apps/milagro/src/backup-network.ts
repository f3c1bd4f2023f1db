/**
 * What `milagro backup list|verify|restore` stand on when the node itself is not (or may not be)
 * available: a temporary IPFS node that dials the config's peers with its swarm key, and, for
 * releases, a temporary identity (memory key store) with its own messenger. Removed afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedNode, type IpfsNode } from '@milagro/ipfs';
import { MemoryKeyStore } from '@milagro/keystore';
import { MemoryJournal, Messenger } from '@milagro/messaging';
import { readSecret } from '@milagro/node';
import { createIdentity, IdentityResolver, type OwnedIdentity } from '@milagro/pki';
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
