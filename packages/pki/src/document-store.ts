import type { CID } from 'multiformats/cid';

/**
 * Where identity documents live: the part of `@milagro/ipfs`'s `ContentStore` this package uses,
 * so every ContentStore (embedded Helia, Kubo) is one, and browsers or tests can bring their own.
 * Nothing returned by a store is trusted: the resolver re-hashes every block against its CID and
 * verifies every document.
 */
export interface DocumentStore {
  /** Encodes `value` as deterministic DAG-CBOR, stores it and returns its CIDv1 (codec 0x71, sha2-256). */
  putDag(value: unknown, options?: { pin?: boolean; signal?: AbortSignal }): Promise<CID>;
  /** The bytes of a block, fetched from peers when not local. */
  get(cid: CID, options?: { signal?: AbortSignal; timeoutMs?: number; maxBytes?: number }): Promise<Uint8Array>;
}
