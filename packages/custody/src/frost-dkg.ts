/**
 * One operator's FROST key generation (`schnorr_FROST` of `@noble/curves`: RFC 9591 ciphersuite
 * FROST(secp256k1, SHA-256) with BIP-340/341 adjustments, DKG after frost-rs), addressed by
 * operator index and checked sender by sender so that a cheater is named:
 *
 * - round 1: every operator broadcasts its Feldman commitments and a proof of knowledge of its
 *   constant term; a package whose proof does not verify blames its sender;
 * - round 2: every operator sends each other operator its private share (sealed by the
 *   transport); a share that does not match its sender's round-1 commitments blames the sender;
 * - the result is the group key, already tweaked by BIP-341 with an empty script tree, and a
 *   transcript hash over every round-1 package, which every operator must confirm equally (so a
 *   sender who showed different commitments to different operators is caught too).
 */
import { concatBytes, sha256 } from '@milagro/crypto';
import { schnorr_FROST as frost } from '@noble/curves/secp256k1.js';
import * as dagCbor from '@ipld/dag-cbor';
import { sumPoints } from './taproot.js';

/** A round-1 broadcast (public). */
export interface DkgCommitment {
  /** Feldman commitments to the sender's polynomial (t compressed points). */
  readonly commitment: readonly Uint8Array[];
  /** Schnorr proof of knowledge of the constant term. */
  readonly proof: Uint8Array;
}

/** The operator a check failed for, and why (no secrets). */
export interface Blame {
  /** The accused operator's index (1-based). */
  readonly operator: number;
  readonly reason: string;
}

/** The public outcome of a DKG, the same at every honest operator. */
export interface VaultKey {
  /** The FROST public package (tweaked): commitments[0] is the Taproot output key (compressed). */
  readonly publicPackage: { readonly commitments: readonly Uint8Array[]; readonly verifyingShares: Readonly<Record<string, Uint8Array>> };
  /** The untweaked group key (compressed): the Taproot internal key is its x coordinate. */
  readonly internalKey: Uint8Array;
  /** The 32-byte x-only Taproot output key. */
  readonly outputKey: Uint8Array;
  /** SHA-256 over every operator's round-1 package, in index order. */
  readonly transcriptHash: Uint8Array;
}

export class BlameError extends Error {
  override readonly name = 'BlameError';
  readonly blame: Blame;

  constructor(blame: Blame) {
    super(`operator ${blame.operator}: ${blame.reason}`);
    this.blame = blame;
  }
}

/** The FROST identifier of operator `index` (1-based). */
export function operatorIdentifier(index: number): string {
  return frost.Identifier.fromNumber(index);
}

/**
 * Checks one round-1 package on its own (the proof of knowledge and the points), so a failure
 * names its sender: DKG.round2 of a throwaway participant runs the library's own checks on exactly
 * this package, next to t-2 valid fillers (round2 takes t-1 packages when max = min = t). The
 * throwaway identifiers lie above n, so they never collide with an operator's.
 */
function checkCommitment(sender: number, n: number, threshold: number, pkg: DkgCommitment): void {
  if (pkg.commitment.length !== threshold) throw new BlameError({ operator: sender, reason: `sent ${pkg.commitment.length} commitments, expected ${threshold}` });
  const signers = { min: threshold, max: threshold };
  const probe = frost.DKG.round1(operatorIdentifier(n + 1), signers);
  const fillers = Array.from({ length: threshold - 2 }, (_, k) => frost.DKG.round1(operatorIdentifier(n + 2 + k), signers));
  try {
    frost.DKG.round2(probe.secret, [{ identifier: operatorIdentifier(sender), commitment: [...pkg.commitment], proofOfKnowledge: pkg.proof }, ...fillers.map((f) => f.public)]);
  } catch {
    throw new BlameError({ operator: sender, reason: 'its round-1 proof of knowledge or commitments do not verify' });
  } finally {
    frost.DKG.clean(probe.secret);
    for (const filler of fillers) frost.DKG.clean(filler.secret);
  }
}

/**
 * `vss_verify`: true when `share` is the evaluation at operator `recipient` of the polynomial that
 * `commitment` (t Feldman commitments) commits to.
 */
export function shareMatchesCommitment(recipient: number, n: number, t: number, commitment: readonly Uint8Array[], share: Uint8Array): boolean {
  try {
    frost.validateSecret({ identifier: operatorIdentifier(recipient), signingShare: share }, { signers: { min: t, max: n }, commitments: [...commitment], verifyingShares: {} });
    return true;
  } catch {
    return false;
  }
}

/** True when a round-1 package passes the checks {@link FrostDkg.receiveCommitment} runs (t points, proof of knowledge). */
export function commitmentVerifies(sender: number, n: number, threshold: number, pkg: DkgCommitment): boolean {
  try {
    checkCommitment(sender, n, threshold, pkg);
    return true;
  } catch {
    return false;
  }
}

/** One operator's DKG state machine. Everything it returns is public except {@link finish}'s share. */
export class FrostDkg {
  readonly #index: number;
  readonly #n: number;
  readonly #t: number;
  readonly #secret: ReturnType<typeof frost.DKG.round1>['secret'];
  readonly #own: DkgCommitment;
  readonly #commitments = new Map<number, DkgCommitment>();
  readonly #shares = new Map<number, Uint8Array>();
  #round2Out: Record<string, { signingShare: Uint8Array }> | undefined;

  constructor(index: number, n: number, t: number) {
    this.#index = index;
    this.#n = n;
    this.#t = t;
    const { public: pub, secret } = frost.DKG.round1(operatorIdentifier(index), { min: t, max: n });
    this.#secret = secret;
    this.#own = { commitment: pub.commitment, proof: pub.proofOfKnowledge };
    this.#commitments.set(index, this.#own);
  }

  /** This operator's round-1 broadcast. */
  get commitment(): DkgCommitment {
    return this.#own;
  }

  /** Operators whose round-1 (or round-2) message is still missing. */
  missing(round: 1 | 2): number[] {
    const have = round === 1 ? this.#commitments : this.#shares;
    const out: number[] = [];
    for (let i = 1; i <= this.#n; i++) if (i !== this.#index && !have.has(i)) out.push(i);
    return out;
  }

  /** Takes a sender's round-1 package (the first one counts). @throws BlameError */
  receiveCommitment(sender: number, pkg: DkgCommitment): void {
    if (this.#commitments.has(sender)) return;
    checkCommitment(sender, this.#n, this.#t, pkg);
    this.#commitments.set(sender, { commitment: pkg.commitment.map((c) => c.slice()), proof: pkg.proof.slice() });
  }

  /** The round-1 commitments received from `sender` (public), if any. */
  commitmentOf(sender: number): readonly Uint8Array[] | undefined {
    return this.#commitments.get(sender)?.commitment;
  }

  /** Once every round-1 package is in: this operator's private share for each other operator. */
  shares(): Map<number, Uint8Array> {
    if (this.missing(1).length > 0) throw new Error('round 1 is not complete');
    this.#round2Out ??= frost.DKG.round2(this.#secret, this.#others()) as Record<string, { signingShare: Uint8Array }>;
    const out = new Map<number, Uint8Array>();
    for (let i = 1; i <= this.#n; i++) if (i !== this.#index) out.set(i, (this.#round2Out[operatorIdentifier(i)] as { signingShare: Uint8Array }).signingShare);
    return out;
  }

  /** Takes a sender's private share for this operator and checks it against the sender's commitments. @throws BlameError */
  receiveShare(sender: number, share: Uint8Array): void {
    if (this.#shares.has(sender)) return;
    const commitment = this.#commitments.get(sender);
    if (commitment === undefined) throw new BlameError({ operator: sender, reason: 'sent a share before its commitments' });
    if (!shareMatchesCommitment(this.#index, this.#n, this.#t, commitment.commitment, share)) {
      throw new BlameError({ operator: sender, reason: 'sent a private share that does not match its commitments' });
    }
    this.#shares.set(sender, share.slice());
  }

  /** Once every share is in: the public outcome and this operator's signing share (secret: into the key store). */
  finish(): { key: VaultKey; signingShare: Uint8Array } {
    if (this.missing(2).length > 0) throw new Error('round 2 is not complete');
    const others = this.#others();
    const round2 = [...this.#shares].map(([sender, signingShare]) => ({ identifier: operatorIdentifier(sender), signingShare }));
    const result = frost.DKG.round3(this.#secret, others, round2);
    const ordered = [...this.#commitments].sort(([a], [b]) => a - b);
    const transcriptHash = sha256(dagCbor.encode(ordered.map(([i, c]) => ({ i, commitment: [...c.commitment], proof: c.proof }))));
    const internalKey = sumPoints(ordered.map(([, c]) => c.commitment[0] as Uint8Array));
    const outputKey = (result.public.commitments[0] as Uint8Array).slice(1);
    return {
      key: {
        publicPackage: { commitments: result.public.commitments, verifyingShares: result.public.verifyingShares },
        internalKey,
        outputKey,
        transcriptHash: concatBytes(transcriptHash),
      },
      signingShare: result.secret.signingShare,
    };
  }

  /** Best-effort erasure of the polynomial. */
  clean(): void {
    frost.DKG.clean(this.#secret);
  }

  #others() {
    return [...this.#commitments]
      .filter(([i]) => i !== this.#index)
      .sort(([a], [b]) => a - b)
      .map(([i, c]) => ({ identifier: operatorIdentifier(i), commitment: [...c.commitment], proofOfKnowledge: c.proof }));
  }
}
