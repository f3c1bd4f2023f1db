/**
 * @packageDocumentation
 *
 * Content-addressed storage and publish/subscribe for Milagro over IPFS, behind two small
 * interfaces, {@link ContentStore} and {@link PubSub}, with two adapters:
 *
 * - {@link createEmbeddedNode}: an in-process Helia node on a private consortium network
 *   (no bootstrap, DHT, relay, UPnP or mDNS; peers from config; optional swarm key);
 * - {@link connectKubo}: a Kubo daemon over its RPC API (install the pinned one with
 *   `tools/kubo/install.sh`).
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
export type { CallOptions, ContentStore, GetOptions, PinOptions, PutOptions } from './content-store.js';
export type { PubSub, PubSubHandler, PubSubMessage } from './pubsub.js';
export type { IpfsNode } from './ipfs-node.js';
export { createEmbeddedNode } from './embedded-node.js';
export type { EmbeddedNodeOptions } from './embedded-node.js';
export { connectKubo } from './kubo-node.js';
export type { KuboNodeOptions } from './kubo-node.js';
export { generateSwarmKey } from './swarm-key.js';
export { DEFAULT_MAX_BLOCK_BYTES, DEFAULT_TIMEOUT_MS } from './constants.js';
