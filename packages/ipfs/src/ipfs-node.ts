import type { ContentStore } from './content-store.js';
import type { PubSub } from './pubsub.js';

/** A running IPFS node (embedded or remote), its content store and pubsub, and how to stop it. */
export interface IpfsNode {
  /** Block and DAG-CBOR storage. */
  readonly store: ContentStore;
  /** Gossipsub publish/subscribe. */
  readonly pubsub: PubSub;
  /** This node's libp2p peer ID. */
  readonly peerId: string;
  /** Multiaddrs (with `/p2p/<peerId>`) other nodes can dial to reach this one. */
  multiaddrs(): Promise<string[]>;
  /** Connects to a peer by multiaddr (must end in `/p2p/<peerId>`). */
  dial(multiaddr: string, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<void>;
  /** Peer IDs currently connected. */
  connectedPeers(): Promise<string[]>;
  /** Stops the node (embedded) or closes the client (remote). Idempotent. */
  stop(): Promise<void>;
}
