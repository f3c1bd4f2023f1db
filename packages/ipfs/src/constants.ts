/** Tunables shared by both adapters. */

/**
 * Largest block accepted by default (2 MiB): the block size every current IPFS implementation
 * (Kubo, Helia, Bitswap 1.2) exchanges, so nothing larger could travel between nodes anyway.
 */
export const DEFAULT_MAX_BLOCK_BYTES = 2 * 1024 * 1024;

/** Default per-call timeout for reads that may go to the network. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Default listen address of the embedded node: loopback only, OS-assigned port. */
export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0'];

/**
 * How often the embedded node dials each configured consortium peer it has no connection to. libp2p's
 * own reconnection gives up after five attempts (about half a minute) and drops the peer's keep-alive
 * tag, so without this a node cut off for longer than that stayed cut off after the link healed.
 */
export const PEER_REDIAL_INTERVAL_MS = 5_000;

/** Multicodec of raw blocks. */
export const RAW_CODE = 0x55;

/** Multicodec of DAG-CBOR blocks. */
export const DAG_CBOR_CODE = 0x71;

/** File in the data dir holding the node's libp2p private key (protobuf, mode 0600). */
export const PEER_KEY_FILE = 'peer.key';
