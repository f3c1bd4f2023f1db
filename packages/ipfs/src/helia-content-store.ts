import type { Helia } from 'helia';
import type { CID } from 'multiformats/cid';
import { checkSize, cidOf, decodeDag, encodeDag, parseCid } from './block.js';
import { DAG_CBOR_CODE, RAW_CODE } from './constants.js';
import { withDeadline } from './deadline.js';
import { IpfsError } from './errors.js';
import type { CallOptions, ContentStore, GetOptions, PinOptions, PutOptions } from './content-store.js';

/** {@link ContentStore} over a Helia node: local blockstore first, then Bitswap from connected peers. */
/** What {@link HeliaContentStore.remove} needs of the blockstore under Helia. */
export interface LocalBlockDeleter {
  delete(cid: CID, options?: { signal?: AbortSignal }): Promise<void>;
}

export class HeliaContentStore implements ContentStore {
  readonly #helia: Helia;
  readonly #maxBlockBytes: number;
  readonly #local: LocalBlockDeleter | undefined;

  /**
   * `local` is the blockstore under Helia, for {@link remove}: Helia's own `blockstore.delete` also
   * cancels re-providing through the content routers, which a node without routers (ours) refuses.
   */
  constructor(helia: Helia, maxBlockBytes: number, local?: LocalBlockDeleter) {
    this.#helia = helia;
    this.#maxBlockBytes = maxBlockBytes;
    this.#local = local;
  }

  put(bytes: Uint8Array, options?: PutOptions): Promise<CID> {
    return this.#putBlock(bytes, RAW_CODE, options);
  }

  async putDag(value: unknown, options?: PutOptions): Promise<CID> {
    return this.#putBlock(encodeDag(value), DAG_CBOR_CODE, options);
  }

  async get(cid: CID | string, options?: GetOptions): Promise<Uint8Array> {
    const parsed = parseCid(cid);
    const maxBytes = options?.maxBytes ?? this.#maxBlockBytes;
    return withDeadline('get', options, async (signal) => {
      const result: unknown = this.#helia.blockstore.get(parsed, { signal });
      return readBlock(result, maxBytes, parsed);
    });
  }

  async getDag<T = unknown>(cid: CID | string, options?: GetOptions): Promise<T> {
    const parsed = parseCid(cid);
    return decodeDag<T>(parsed, await this.get(parsed, options));
  }

  async has(cid: CID | string, options?: CallOptions): Promise<boolean> {
    const parsed = parseCid(cid);
    return withDeadline('has', options, async (signal) => this.#helia.blockstore.has(parsed, { signal }));
  }

  async pin(cid: CID | string, options?: PinOptions): Promise<void> {
    const parsed = parseCid(cid);
    const depth = options?.recursive === false ? { depth: 0 } : {};
    await withDeadline('pin', options, async (signal) => {
      if (await this.#helia.pins.isPinned(parsed, { signal })) return;
      for await (const _ of this.#helia.pins.add(parsed, { signal, ...depth })) {
        // Draining the generator is what pins each block of the DAG.
      }
    });
  }

  async unpin(cid: CID | string, options?: CallOptions): Promise<void> {
    const parsed = parseCid(cid);
    await withDeadline('unpin', options, async (signal) => {
      if (!(await this.#helia.pins.isPinned(parsed, { signal }))) return;
      for await (const _ of this.#helia.pins.rm(parsed, { signal })) {
        // Draining the generator is what unpins each block.
      }
    });
  }

  async remove(cid: CID | string, options?: CallOptions): Promise<boolean> {
    const parsed = parseCid(cid);
    return withDeadline('remove', options, async (signal) => {
      if (!(await this.#helia.blockstore.has(parsed, { signal })) || (await this.#helia.pins.isPinned(parsed, { signal }))) return false;
      if (this.#local === undefined) throw new IpfsError('UNSUPPORTED', 'remove: this store has no local blockstore to delete from');
      await this.#local.delete(parsed, { signal });
      return true;
    });
  }

  async isPinned(cid: CID | string, options?: CallOptions): Promise<boolean> {
    const parsed = parseCid(cid);
    return withDeadline('isPinned', options, async (signal) => this.#helia.pins.isPinned(parsed, { signal }));
  }

  async #putBlock(bytes: Uint8Array, code: number, options?: PutOptions): Promise<CID> {
    checkSize(bytes.byteLength, this.#maxBlockBytes);
    const cid = await cidOf(bytes, code);
    await withDeadline('put', options, async (signal) => {
      await this.#helia.blockstore.put(cid, bytes, { signal });
    });
    if (options?.pin === true) await this.pin(cid, options);
    return cid;
  }
}

/**
 * Reads a blockstore result. Current blockstores stream a block as chunks (an async generator);
 * counting while reading lets an oversized block be refused before it is all in memory.
 */
async function readBlock(result: unknown, maxBytes: number, cid: CID): Promise<Uint8Array> {
  const awaited = await result;
  if (awaited instanceof Uint8Array) {
    checkSize(awaited.byteLength, maxBytes, cid);
    return awaited;
  }
  if (awaited === null || typeof awaited !== 'object' || !(Symbol.asyncIterator in awaited)) {
    throw new IpfsError('INVALID_DATA', 'blockstore returned no bytes');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const iterator = (awaited as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  try {
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      size += next.value.byteLength;
      checkSize(size, maxBytes, cid);
      chunks.push(next.value);
    }
  } finally {
    await iterator.return?.();
  }
  if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
