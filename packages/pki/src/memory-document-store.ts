import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import type { DocumentStore } from './document-store.js';

/**
 * A {@link DocumentStore} in memory, content-addressed exactly as IPFS stores identity documents
 * (deterministic DAG-CBOR, CIDv1, sha2-256). For tests, benchmarks and single-process tools: nothing
 * is persisted and nothing is shared with other nodes, so identities created here resolve only
 * through this instance. Pinning is accepted and has no effect (everything stays until it is dropped).
 */
export class MemoryDocumentStore implements DocumentStore {
  readonly #blocks: Map<string, Uint8Array>;

  /**
   * @param blocks initial blocks as `[cid string, bytes]`, e.g. another store's {@link entries} sent
   *   to a child process. Not checked here: the resolver re-hashes every block it reads.
   */
  constructor(blocks: Iterable<readonly [string, Uint8Array]> = []) {
    this.#blocks = new Map(blocks);
  }

  async putDag(value: unknown): Promise<CID> {
    const bytes = dagCbor.encode(value);
    const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes));
    this.#blocks.set(cid.toString(), bytes);
    return cid;
  }

  async get(cid: CID): Promise<Uint8Array> {
    const bytes = this.#blocks.get(cid.toString());
    if (bytes === undefined) throw new Error(`block ${cid.toString()} is not in this memory store`);
    return bytes;
  }

  /** Every block as `[cid string, bytes]`. */
  entries(): IterableIterator<[string, Uint8Array]> {
    return this.#blocks.entries();
  }

  /** Number of blocks held. */
  get size(): number {
    return this.#blocks.size;
  }
}
