/**
 * Resolution of identities (docs/specs/identity-v1.md §7): from an identity's CID and any heads
 * the caller has learned (newer documents it was shown), follow `prev` links back to what is
 * already verified, verify each new step forward, and return the newest valid document.
 * A revoked identity is refused; two valid documents with the same predecessor are a fork, reported
 * with both CIDs and remembered, never resolved by a guess.
 */
import type { BlsSignatures } from '@milagro/crypto';
import type { CID } from 'multiformats/cid';
import { DEFAULT_CACHE_ENTRIES, MAX_CHAIN_LENGTH } from './constants.js';
import { defaultBls } from './default-bls.js';
import { fetchDocument, parseDocumentCid, type FetchOptions } from './document-fetch.js';
import type { DocumentStore } from './document-store.js';
import { verifyInception, verifySuccessor } from './document-verification.js';
import { PkiError } from './errors.js';
import type { IdentityDocument, IdentityKeys, KeyDocument } from './identity-document.js';

/** An identity at its newest valid document. */
export interface ResolvedIdentity {
  /** The identity: CID of its inception document. */
  readonly id: CID;
  /** CID of the newest valid document. */
  readonly head: CID;
  /** Sequence number of the newest document (0 = never rotated). */
  readonly seq: number;
  /** The current keys. */
  readonly keys: IdentityKeys;
  /** The newest document itself. */
  readonly document: KeyDocument;
}

/** Options of {@link IdentityResolver}. */
export interface IdentityResolverOptions {
  readonly store: DocumentStore;
  /** Identities kept in the in-memory cache of verified chains (least recently used go first). Default 10,000. */
  readonly cacheEntries?: number;
  /** BLS implementation for proofs of possession (default noble; servers may pass an mcl-backed one). */
  readonly bls?: BlsSignatures;
  /** Longest chain followed in one resolution (default 100,000). */
  readonly maxChainLength?: number;
}

/** Options of {@link IdentityResolver.resolve}. */
export interface ResolveOptions extends FetchOptions {
  /** CIDs of documents of this identity the caller has been shown (e.g. the head named in a message). */
  readonly heads?: ReadonlyArray<CID | string>;
}

/** What the cache holds per identity: the verified chain, or the reason it is unusable. */
interface ChainState {
  readonly id: CID;
  /** Verified documents in order; `cids[i]` addresses `documents[i]`, whose seq is i. */
  readonly cids: CID[];
  readonly documents: IdentityDocument[];
  /** Set once the identity is known to be forked: the two conflicting documents. Sticky. */
  fork?: readonly [CID, CID];
}

/** Resolves identities over a {@link DocumentStore}, caching verified chains. Safe for concurrent use. */
export class IdentityResolver {
  readonly #store: DocumentStore;
  readonly #bls: BlsSignatures;
  readonly #cacheEntries: number;
  readonly #maxChainLength: number;
  readonly #chains = new Map<string, ChainState>();
  /** One resolution at a time per identity, so concurrent callers never race on one cache entry. */
  readonly #inFlight = new Map<string, Promise<unknown>>();

  constructor(options: IdentityResolverOptions) {
    this.#store = options.store;
    this.#bls = options.bls ?? defaultBls;
    this.#cacheEntries = positiveInteger(options.cacheEntries ?? DEFAULT_CACHE_ENTRIES, 'cacheEntries');
    this.#maxChainLength = positiveInteger(options.maxChainLength ?? MAX_CHAIN_LENGTH, 'maxChainLength');
  }

  /**
   * Resolves `id` to its newest valid document, taking into account every head passed now or
   * learned before.
   * @throws PkiError `INVALID_ARGUMENT` (not a CID), `NOT_FOUND` (a document cannot be fetched),
   *   `MALFORMED`, `BAD_SIGNATURE` or `BROKEN_CHAIN` (a document does not verify: an unknown or
   *   forged identity, or a bad head), `REVOKED`, `FORKED`.
   */
  async resolve(id: CID | string, options: ResolveOptions = {}): Promise<ResolvedIdentity> {
    const identity = parseDocumentCid(id, 'identity');
    const heads = (options.heads ?? []).map((head) => parseDocumentCid(head, 'head'));
    const key = identity.toString();
    const previous = this.#inFlight.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.#resolve(identity, heads, options));
    this.#inFlight.set(key, run);
    try {
      return await run;
    } finally {
      if (this.#inFlight.get(key) === run) this.#inFlight.delete(key);
    }
  }

  /** Forgets every cached chain (forks and revocations included). */
  clear(): void {
    this.#chains.clear();
  }

  async #resolve(id: CID, heads: CID[], options: FetchOptions): Promise<ResolvedIdentity> {
    const chain = await this.#chain(id, options);
    for (const head of heads) await this.#extend(chain, head, options);
    const newest = chain.documents[chain.documents.length - 1]!;
    if (newest.type === 'revocation') throw new PkiError('REVOKED', `identity ${id.toString()} was revoked`);
    return { id, head: chain.cids[chain.cids.length - 1]!, seq: newest.seq, keys: newest.keys, document: newest };
  }

  /** The cached chain of `id` (refreshed as most recently used), or a new one from its verified inception. */
  async #chain(id: CID, options: FetchOptions): Promise<ChainState> {
    const key = id.toString();
    let chain = this.#chains.get(key);
    if (chain === undefined) {
      const inception = await fetchDocument(this.#store, id, options);
      verifyInception(inception, this.#bls);
      chain = { id, cids: [id], documents: [inception] };
    }
    this.#chains.delete(key);
    this.#chains.set(key, chain);
    while (this.#chains.size > this.#cacheEntries) this.#chains.delete(this.#chains.keys().next().value!);
    if (chain.fork !== undefined) throw forked(id, chain.fork);
    return chain;
  }

  /** Brings `head` into the chain: walks back to a verified document, then verifies forward. */
  async #extend(chain: ChainState, head: CID, options: FetchOptions): Promise<void> {
    if (chain.cids.some((cid) => cid.equals(head))) return;
    // Walk back from the head until a document's predecessor is one we have verified.
    const pending: Array<{ cid: CID; document: IdentityDocument }> = [];
    let cid = head;
    for (;;) {
      if (pending.length >= this.#maxChainLength) throw new PkiError('BROKEN_CHAIN', `more than ${this.#maxChainLength} unverified documents behind ${head.toString()}`);
      const document = await fetchDocument(this.#store, cid, options);
      if (document.type === 'inception') throw new PkiError('BROKEN_CHAIN', `${head.toString()} leads to another inception, not to identity ${chain.id.toString()}`);
      if (!document.id.equals(chain.id)) throw new PkiError('BROKEN_CHAIN', `${head.toString()} belongs to another identity`);
      pending.push({ cid, document });
      const at = document.seq - 1;
      const known = chain.cids[at];
      if (known !== undefined && known.equals(document.prev)) break;
      // Not (yet) on the verified chain: keep walking. A branch that forks off it joins it further back.
      if (at <= 0) throw new PkiError('BROKEN_CHAIN', `${cid.toString()} does not link to a document of identity ${chain.id.toString()}`);
      cid = document.prev;
    }
    pending.reverse();
    const first = pending[0]!;
    const base = first.document.seq - 1;
    verifySuccessor(chain.id, chain.documents[base]!, chain.cids[base]!, first.document, this.#bls);
    // A valid document at a position we already fill, with different content: the identity forked.
    const rival = chain.cids[first.document.seq];
    if (rival !== undefined) {
      chain.fork = [rival, first.cid];
      throw forked(chain.id, chain.fork);
    }
    for (const [i, step] of pending.entries()) {
      if (i > 0) verifySuccessor(chain.id, pending[i - 1]!.document, pending[i - 1]!.cid, step.document, this.#bls);
      chain.cids.push(step.cid);
      chain.documents.push(step.document);
    }
  }
}

function forked(id: CID, fork: readonly [CID, CID]): PkiError {
  return new PkiError('FORKED', `identity ${id.toString()} has two valid successors of one document: ${fork[0].toString()} and ${fork[1].toString()}`);
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new PkiError('INVALID_ARGUMENT', `${name} must be a positive integer`);
  return value;
}
