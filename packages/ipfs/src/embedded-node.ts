import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { noise } from '@libp2p/noise';
import { withBitswap } from '@helia/bitswap';
import * as dagCbor from '@ipld/dag-cbor';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { gossipsub } from '@libp2p/gossipsub';
import { identify, identifyPush } from '@libp2p/identify';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { peerIdFromString } from '@libp2p/peer-id';
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr';
import { FsBlockstore } from 'blockstore-fs';
import { FsDatastore } from 'datastore-fs';
import type { HeliaWithLibp2p } from '@helia/libp2p';
import { KEEP_ALIVE } from '@libp2p/interface';
import type { PeerId, PrivateKey } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { DEFAULT_LISTEN, DEFAULT_MAX_BLOCK_BYTES, PEER_KEY_FILE, PEER_REDIAL_INTERVAL_MS } from './constants.js';
import { withDeadline } from './deadline.js';
import { IpfsError } from './errors.js';
import { parseSwarmKey } from './swarm-key.js';
import type { CallOptions, ContentStore } from './content-store.js';
import { GossipPubSub } from './gossip-pubsub.js';
import { loadHeliaLight } from './helia-light.js';
import { HeliaContentStore } from './helia-content-store.js';
import type { IpfsNode } from './ipfs-node.js';
import type { PubSub } from './pubsub.js';

/** Configuration of an embedded node. Everything public-network is off: peers come from `peers`. */
export interface EmbeddedNodeOptions {
  /** Directory for blocks, datastore and the peer key (created if missing). */
  dataDir: string;
  /** Listen multiaddrs; default loopback only (`/ip4/127.0.0.1/tcp/0`). */
  listen?: string[];
  /** Consortium peers to dial (multiaddrs ending in `/p2p/<peerId>`); they are kept connected and redialled. */
  peers?: string[];
  /** Private-network key in Kubo's `swarm.key` format; nodes without the same key cannot connect. */
  swarmKey?: string | Uint8Array;
  /** Largest block accepted (default 2 MiB). */
  maxBlockBytes?: number;
}

/**
 * Starts an in-process Helia node with the light composition: TCP + Noise + Yamux (+ pnet when a
 * swarm key is given), identify, gossipsub and Bitswap; no bootstrap, DHT, AutoNAT, UPnP, relay or
 * mDNS. Helia's default composition would pull all of those in (and slow start-up), so libp2p is
 * built here and handed to Helia.
 */
export async function createEmbeddedNode(options: EmbeddedNodeOptions): Promise<IpfsNode> {
  const maxBlockBytes = options.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES;
  const peers = (options.peers ?? []).map((address) => parsePeerAddress(address));
  const listen = options.listen ?? DEFAULT_LISTEN;
  listen.forEach((address) => parseMultiaddr(address));
  const psk = options.swarmKey === undefined ? undefined : parseSwarmKey(options.swarmKey);

  const { createHeliaLight, withLibp2pLight } = await loadHeliaLight().catch((error: unknown) => {
    throw new IpfsError('UNAVAILABLE', 'cannot load Helia', { cause: error });
  });

  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const privateKey = await loadOrCreatePeerKey(options.dataDir);
  const datastore = new FsDatastore(join(options.dataDir, 'datastore'));
  const blockstore = new FsBlockstore(join(options.dataDir, 'blocks'));
  // Helia starts only what implements libp2p's Startable; the fs stores must be opened by hand.
  const closeStores = async (): Promise<void> => {
    await Promise.allSettled([blockstore.close(), datastore.close()]);
  };
  try {
    await datastore.open();
    await blockstore.open();
  } catch (error) {
    await closeStores();
    throw new IpfsError('INVALID_CONFIG', 'cannot open the stores in the data dir', { cause: error });
  }

  // createHelia() would add public bootstrap, DHT, delegated HTTP routing and gateways: compose
  // the light node by hand instead, with exactly the services a consortium node needs.
  const helia = withBitswap(
    withLibp2pLight(createHeliaLight({ blockstore, datastore, codecs: [dagCbor] }), {
      privateKey,
      addresses: { listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      ...(psk === undefined ? {} : { connectionProtector: preSharedKey({ psk }) }),
      peerDiscovery: [],
      services: {
        // Identify runs once per connection, and until it succeeds Bitswap and gossipsub do not know
        // the peer speaks their protocols, so the connection carries nothing. libp2p's 5 s timeout
        // fails on a starved machine (seen with Kubo on a loaded 2-core CI box); allow far longer.
        identify: identify({ timeout: 30_000 }),
        // Tells connected peers when our protocols change. Without it a restarted node is invisible
        // to Bitswap at its peers: libp2p redials the peers it kept (KEEP_ALIVE, in the datastore)
        // while starting, before Helia registers Bitswap, so identify reports no Bitswap and the
        // peers never send this node a want (seen: minutes with no fetch after a graceful restart).
        identifyPush: identifyPush({ timeout: 30_000 }),
        // Publishing with no subscribed peer is not an error: delivery is best effort by design.
        pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false }),
      },
    }),
    { maxIncomingMessageSize: maxBlockBytes + 64 * 1024 },
  ) as EmbeddedHelia;
  try {
    await helia.start();
  } catch (error) {
    await Promise.resolve(helia.stop()).catch(() => undefined);
    await closeStores();
    throw new IpfsError('UNAVAILABLE', 'embedded IPFS node failed to start', { cause: error });
  }
  const libp2p = helia.libp2p;

  // Tagging keeps the connection manager reconnecting to consortium peers after a drop.
  for (const peer of peers) {
    await libp2p.peerStore.merge(peer.peerId, { multiaddrs: [peer.address], tags: { [KEEP_ALIVE]: { value: 1 } } });
  }
  // Dial in the background: start-up must not wait for peers that may be down.
  for (const peer of peers) void libp2p.dial(peer.address).catch(() => undefined);

  return new EmbeddedNode(helia, maxBlockBytes, closeStores, peers, blockstore);
}

async function loadOrCreatePeerKey(dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, PEER_KEY_FILE);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new IpfsError('INVALID_CONFIG', 'cannot read the peer key in the data dir', { cause: error });
    }
  }
  if (bytes !== undefined) {
    try {
      return privateKeyFromProtobuf(bytes);
    } catch (error) {
      throw new IpfsError('INVALID_CONFIG', 'the peer key in the data dir is corrupt', { cause: error });
    }
  }
  const key = await generateKeyPair('Ed25519');
  // 'wx' never overwrites a key another process wrote meanwhile.
  await writeFile(file, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' });
  return key;
}

/** Helia with the embedded node's libp2p services. */
type EmbeddedHelia = HeliaWithLibp2p<{ identify: unknown; identifyPush: unknown; pubsub: unknown }>;

function parseMultiaddr(address: string): Multiaddr {
  try {
    return multiaddr(address);
  } catch (error) {
    throw new IpfsError('INVALID_CONFIG', `not a multiaddr: ${address}`, { cause: error });
  }
}

function parsePeerAddress(address: string): { address: Multiaddr; peerId: PeerId } {
  const parsed = parseMultiaddr(address);
  const id = parsed.getComponents().findLast((component) => component.code === CODE_P2P)?.value;
  if (id === undefined) throw new IpfsError('INVALID_CONFIG', `peer multiaddr lacks /p2p/<peerId>: ${address}`);
  try {
    return { address: parsed, peerId: peerIdFromString(id) };
  } catch (error) {
    throw new IpfsError('INVALID_CONFIG', `bad peer ID in ${address}`, { cause: error });
  }
}

class EmbeddedNode implements IpfsNode {
  readonly store: ContentStore;
  readonly pubsub: PubSub;
  readonly peerId: string;
  private readonly helia: EmbeddedHelia;
  readonly #closeStores: () => Promise<void>;
  readonly #redial: ReturnType<typeof setInterval> | undefined;
  #stopped = false;

  constructor(helia: EmbeddedHelia, maxBlockBytes: number, closeStores: () => Promise<void>, peers: ReadonlyArray<{ address: Multiaddr; peerId: PeerId }>, blockstore: FsBlockstore) {
    this.helia = helia;
    this.#closeStores = closeStores;
    this.peerId = helia.libp2p.peerId.toString();
    this.store = new HeliaContentStore(helia, maxBlockBytes, blockstore);
    this.pubsub = new GossipPubSub(helia.libp2p.services);
    // Keep the consortium connected for as long as the node runs, however long a peer was away.
    if (peers.length > 0) {
      const dialing = new Set<PeerId>();
      this.#redial = setInterval(() => {
        for (const peer of peers) {
          if (this.#stopped || dialing.has(peer.peerId) || helia.libp2p.getConnections(peer.peerId).length > 0) continue;
          dialing.add(peer.peerId);
          void helia.libp2p
            .dial(peer.address, { signal: AbortSignal.timeout(4 * PEER_REDIAL_INTERVAL_MS) })
            .catch(() => undefined)
            .finally(() => dialing.delete(peer.peerId));
        }
      }, PEER_REDIAL_INTERVAL_MS);
      this.#redial.unref();
    }
  }

  async multiaddrs(): Promise<string[]> {
    return this.helia.libp2p.getMultiaddrs().map((address) => address.toString());
  }

  async dial(address: string, options?: CallOptions): Promise<void> {
    const parsed = parsePeerAddress(address);
    await withDeadline('dial', options, async (signal) => {
      try {
        await this.helia.libp2p.dial(parsed.address, { signal });
      } catch (error) {
        if (signal.aborted) throw error;
        throw new IpfsError('UNAVAILABLE', `cannot connect to ${parsed.peerId.toString()}`, { cause: error });
      }
    });
  }

  async connectedPeers(): Promise<string[]> {
    return this.helia.libp2p.getPeers().map((peer) => peer.toString());
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#redial);
    try {
      await this.helia.stop();
    } finally {
      await this.#closeStores();
    }
  }
}
