import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import type { DocumentStore } from '../../src/index.js';

/**
 * A content-addressed store in memory: the same contract as `@milagro/ipfs`'s ContentStore for the
 * two calls the PKI uses. Counts reads so tests can see what the resolver's cache saves, and lets a
 * test replace the bytes served for a CID (a lying store).
 */
export class MemoryDocumentStore implements DocumentStore {
  readonly blocks = new Map<string, Uint8Array>();
  readonly pinned = new Set<string>();
  reads = 0;

  async putDag(value: unknown, options?: { pin?: boolean }): Promise<CID> {
    const bytes = dagCbor.encode(value);
    const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes));
    this.blocks.set(cid.toString(), bytes);
    if (options?.pin === true) this.pinned.add(cid.toString());
    return cid;
  }

  async get(cid: CID): Promise<Uint8Array> {
    this.reads++;
    const bytes = this.blocks.get(cid.toString());
    if (bytes === undefined) throw new Error(`block ${cid.toString()} not found`);
    return bytes;
  }
}
