import type { CID } from 'multiformats/cid';

/** Options every network-facing call accepts. */
export interface CallOptions {
  /** Abort the call early; the promise rejects with `IpfsError` code `ABORTED`. */
  signal?: AbortSignal;
  /** Give up after this many milliseconds (default 30 s); rejects with code `TIMEOUT`. */
  timeoutMs?: number;
}

/** Options of reads that return block bytes. */
export interface GetOptions extends CallOptions {
  /** Refuse blocks larger than this (default: the store's limit, 2 MiB) with code `TOO_LARGE`. */
  maxBytes?: number;
}

/** Options of pinning. */
export interface PinOptions extends CallOptions {
  /**
   * `true` (the default) pins the block and every block it links to, fetching missing ones;
   * `false` pins the block alone. Pin chains (each block linking to its predecessor) block by
   * block with `false`: a recursive pin walks the whole chain every time.
   */
  recursive?: boolean;
}

/** Options of writes. */
export interface PutOptions extends PinOptions {
  /** Also pin the new block so garbage collection keeps it (as `recursive` says). Default `false`. */
  pin?: boolean;
}

/**
 * Content-addressed block storage: raw blocks and DAG-CBOR values addressed by CIDv1 (sha2-256).
 *
 * Every returned block has been checked against its CID's hash; reads that miss locally go to the
 * connected peers (Bitswap) until found or until the call's timeout.
 */
export interface ContentStore {
  /** Stores raw bytes as a `raw` (0x55) block and returns its CIDv1. */
  put(bytes: Uint8Array, options?: PutOptions): Promise<CID>;
  /** Returns the bytes of a block of any codec, fetching it from peers when it is not local. */
  get(cid: CID | string, options?: GetOptions): Promise<Uint8Array>;
  /** True when the block is held locally; never goes to the network. */
  has(cid: CID | string, options?: CallOptions): Promise<boolean>;
  /** Encodes `value` as deterministic DAG-CBOR, stores it and returns its CIDv1 (codec 0x71). */
  putDag(value: unknown, options?: PutOptions): Promise<CID>;
  /** Fetches a DAG-CBOR block and decodes it; a non-DAG-CBOR CID or bad bytes give `INVALID_DATA`. */
  getDag<T = unknown>(cid: CID | string, options?: GetOptions): Promise<T>;
  /** Pins the block and, unless `recursive` is false, every block it links to (fetching missing ones). */
  pin(cid: CID | string, options?: PinOptions): Promise<void>;
  /** Removes the block's pin, recursive or not; unpinning something not pinned is not an error. */
  unpin(cid: CID | string, options?: CallOptions): Promise<void>;
  /** True when the block is pinned (directly or recursively as a root). */
  isPinned(cid: CID | string, options?: CallOptions): Promise<boolean>;
  /**
   * Deletes the block from the local store, freeing its space at once instead of at the next garbage
   * collection. A block that is pinned (by anything) or not held is left alone: resolves `false`.
   * Never goes to the network. Callers delete only what nothing else needs (e.g. a retired backup's
   * body blocks, @milagro/backup).
   */
  remove(cid: CID | string, options?: CallOptions): Promise<boolean>;
}
