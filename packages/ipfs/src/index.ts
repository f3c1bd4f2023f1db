/**
 * @packageDocumentation
 *
 * Content-addressed storage and publish/subscribe for Milagro over IPFS, behind two small
 * interfaces, {@link ContentStore} and {@link PubSub}. The adapter, {@link createEmbeddedNode}, is an
 * in-process Helia node on a private consortium network (no bootstrap, DHT, relay, UPnP or mDNS;
 * peers from config; optional swarm key). A Kubo adapter over its RPC API is in progress.
 *
 * @example
 * ```ts
 * import { createEmbeddedNode } from '@milagro/ipfs';
 *
 * const node = await createEmbeddedNode({ dataDir: './data/ipfs' });
 * const cid = await node.store.putDag({ hello: 'world' });
 * console.log(cid.toString(), await node.store.getDag(cid));
 * await node.stop();
 * ```
 */
export { IpfsError, isIpfsError } from './errors.js';
export type { IpfsErrorCode } from './errors.js';
export type { CallOptions, ContentStore, GetOptions, PutOptions } from './content-store.js';
export type { PubSub, PubSubHandler, PubSubMessage } from './pubsub.js';
export type { IpfsNode } from './ipfs-node.js';
export { createEmbeddedNode } from './embedded-node.js';
export type { EmbeddedNodeOptions } from './embedded-node.js';
export { generateSwarmKey } from './swarm-key.js';
export { DEFAULT_MAX_BLOCK_BYTES, DEFAULT_TIMEOUT_MS } from './constants.js';
