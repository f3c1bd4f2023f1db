/**
 * Resharing a vault's key to a new operator set and threshold, keeping the key (so the address):
 * every old operator i (a dealer) deals a random polynomial of degree t' − 1 whose constant term
 * is λ_i·s_i (its share times its Lagrange coefficient over the old set), with Feldman commitments
 * to every coefficient, and sends each new operator j its evaluation. A receiver checks each share
 * against its dealer's commitments and each dealer's constant-term commitment against λ_i times
 * the dealer's public verifying share, so a dealer cannot change the key and a bad share names its
 * dealer; it adds the shares to get its new share. Σ_i λ_i·s_i is the old key, so the new shares
 * interpolate to the same key. Everyone (old and new) confirms one transcript.
 *
 * Operators are addressed by their position in `participants` (old operators first, then the new
 * ones that were not old), 1-based: the run index the service uses; the old and new FROST
 * identifiers are the positions in the old and new operator lists.
 */
import { sha256 } from '@milagro/crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as dagCbor from '@ipld/dag-cbor';
import type { EvidenceRules } from './blame-evidence.js';
import { CUSTODY_MESSAGE_TYPES } from './custody-protocol.js';
import { BlameError, operatorIdentifier, type VaultKey } from './frost-dkg.js';

const Point = secp256k1.Point;
const Fn = Point.Fn;
type P = InstanceType<typeof Point>;

/** The sharing a resharing starts from (public). */
export interface ResharePrevious {
  readonly operators: readonly string[];
  readonly threshold: number;
  readonly key: VaultKey;
}

/** λ_i for interpolation at 0 over indices `set`. */
function lagrangeAtZero(i: bigint, set: readonly bigint[]): bigint {
  let num = 1n;
  let den = 1n;
  for (const j of set) {
    if (j === i) continue;
    num = Fn.mul(num, j);
    den = Fn.mul(den, Fn.sub(j, i));
  }
  return Fn.div(num, den);
}

function evaluate(commitments: readonly P[], x: bigint): P {
  let result = Point.ZERO;
  let power = 1n;
  for (const c of commitments) {
    result = result.add(c.multiply(power));
    power = Fn.mul(power, x);
  }
  return result;
}

/**
 * A resharing's checks, for blame with evidence (ADR 0022): a dealer's round-1 message commits to
 * t' coefficients, is from an old operator, and its constant term is λ_i times its old verifying
 * share; a share sent to a new operator is its dealer's polynomial at that operator's new index.
 * Indices are run indices (old operators first, then the new ones that were not old).
 */
export function reshareEvidenceRules(previous: ResharePrevious, next: { readonly operators: readonly string[]; readonly threshold: number }): EvidenceRules {
  const participants = [...previous.operators, ...next.operators.filter((o) => !previous.operators.includes(o))];
  const set = previous.operators.map((_, i) => BigInt(i + 1));
  const points = (commitment: readonly Uint8Array[]): P[] | undefined => {
    try {
      return commitment.map((c) => Point.fromBytes(c));
    } catch {
      return undefined;
    }
  };
  return {
    commitType: CUSTODY_MESSAGE_TYPES.reshareCommit,
    shareType: CUSTODY_MESSAGE_TYPES.reshareShare,
    commitments: next.threshold,
    commitValid: (sender, commitment) => {
      if (sender < 1 || sender > previous.operators.length) return false;
      const parsed = points(commitment);
      const verifying = previous.key.publicPackage.verifyingShares[operatorIdentifier(sender)];
      if (verifying === undefined || parsed === undefined) return false;
      try {
        return (parsed[0] as P).equals(Point.fromBytes(verifying).multiply(lagrangeAtZero(BigInt(sender), set)));
      } catch {
        return false;
      }
    },
    shareMatches: (recipient, commitment, share) => {
      const me = next.operators.indexOf(participants[recipient - 1] ?? '') + 1;
      const parsed = points(commitment);
      if (me === 0 || parsed === undefined) return false;
      try {
        const value = Fn.fromBytes(share);
        return (value === 0n ? Point.ZERO : Point.BASE.multiply(value)).equals(evaluate(parsed, BigInt(me)));
      } catch {
        return false;
      }
    },
    // A constant term other than its share, commitments that are not points, or commitments from an operator that is not old.
    badCommit: 'resharing commitments that do not deal its share of the key',
    badShare: 'a resharing share that does not match its commitments',
  };
}

export class ReshareRun {
  readonly participants: readonly string[];
  readonly #self: string;
  readonly #previous: ResharePrevious;
  readonly #next: { readonly operators: readonly string[]; readonly threshold: number };
  readonly #coefficients: bigint[] = [];
  readonly #own: { commitment: Uint8Array[] } = { commitment: [] };
  readonly #commitments = new Map<number, P[]>();
  readonly #shares = new Map<number, bigint>();

  /** `share`: this operator's current signing share when it is an old operator (a dealer). */
  constructor(self: string, previous: ResharePrevious, next: { operators: readonly string[]; threshold: number }, share?: Uint8Array) {
    this.#self = self;
    this.#previous = previous;
    this.#next = next;
    this.participants = [...previous.operators, ...next.operators.filter((o) => !previous.operators.includes(o))];
    const oldIndex = previous.operators.indexOf(self) + 1;
    if (oldIndex > 0) {
      if (share === undefined) throw new Error('an old operator deals from its share');
      const set = previous.operators.map((_, i) => BigInt(i + 1));
      const constant = Fn.mul(lagrangeAtZero(BigInt(oldIndex), set), Fn.fromBytes(share));
      this.#coefficients.push(constant, ...Array.from({ length: next.threshold - 1 }, () => Fn.fromBytes(secp256k1.utils.randomSecretKey())));
      const points = this.#coefficients.map((a) => (a === 0n ? Point.ZERO : Point.BASE.multiply(a)));
      this.#own.commitment = points.map((p) => p.toBytes(true));
      this.#commitments.set(this.#runIndex(self), points);
    }
  }

  /** This operator's commitments (empty when it only receives: it sends none). */
  get commitment(): { commitment: readonly Uint8Array[] } {
    return this.#own;
  }

  /** The commitments received from dealer `sender` (run index), as sent: the evidence check compares revealed ones with them. */
  commitmentOf(sender: number): readonly Uint8Array[] | undefined {
    if (sender === this.#runIndex(this.#self)) return this.#own.commitment.length > 0 ? this.#own.commitment : undefined;
    return this.#commitments.get(sender)?.map((p) => p.toBytes(true));
  }

  /** How a blame in this run is checked from revealed envelopes (blame-evidence.ts). */
  evidenceRules(): EvidenceRules {
    return reshareEvidenceRules(this.#previous, this.#next);
  }

  /** Dealers (old operators) whose commitments, or (as a new operator) whose shares, are missing: run indices. */
  missing(round: 1 | 2): number[] {
    const me = this.#runIndex(this.#self);
    const dealers = this.#previous.operators.map((_, i) => i + 1).filter((i) => i !== me);
    if (round === 1) return dealers.filter((i) => !this.#commitments.has(i));
    return this.#newIndex(this.#self) === 0 ? [] : dealers.filter((i) => !this.#shares.has(i));
  }

  receiveCommitment(sender: number, pkg: { commitment: readonly Uint8Array[] }): void {
    if (this.#commitments.has(sender)) return;
    const oldIndex = sender; // dealers are the first participants, in old order
    if (oldIndex > this.#previous.operators.length) throw new BlameError({ operator: sender, reason: 'sent resharing commitments but is not an old operator' });
    let points: P[];
    try {
      points = pkg.commitment.map((c) => Point.fromBytes(c));
    } catch {
      throw new BlameError({ operator: sender, reason: 'sent resharing commitments that are not points' });
    }
    const set = this.#previous.operators.map((_, i) => BigInt(i + 1));
    const verifying = Point.fromBytes(this.#previous.key.publicPackage.verifyingShares[operatorIdentifier(oldIndex)] as Uint8Array);
    // The constant term must be λ_i·s_i: the dealer cannot move the key.
    if (!(points[0] as P).equals(verifying.multiply(lagrangeAtZero(BigInt(oldIndex), set)))) {
      throw new BlameError({ operator: sender, reason: 'dealt a constant term that is not its share of the key' });
    }
    this.#commitments.set(sender, points);
  }

  /** This dealer's share for each new operator other than itself (run index → share). */
  shares(): Map<number, Uint8Array> {
    const out = new Map<number, Uint8Array>();
    if (this.#coefficients.length === 0) return out;
    for (const operator of this.#next.operators) {
      if (operator === this.#self) continue;
      const x = BigInt(this.#next.operators.indexOf(operator) + 1);
      out.set(this.#runIndex(operator), Fn.toBytes(this.#evaluate(x)));
    }
    return out;
  }

  receiveShare(sender: number, share: Uint8Array): void {
    if (this.#shares.has(sender)) return;
    const commitments = this.#commitments.get(sender);
    if (commitments === undefined) throw new BlameError({ operator: sender, reason: 'sent a resharing share before its commitments' });
    const me = this.#newIndex(this.#self);
    if (me === 0) throw new BlameError({ operator: sender, reason: 'sent a resharing share to an operator that is not in the new set' });
    let value: bigint;
    try {
      value = Fn.fromBytes(share);
    } catch {
      throw new BlameError({ operator: sender, reason: 'sent a malformed resharing share' });
    }
    const expected = evaluate(commitments, BigInt(me));
    if (!(value === 0n ? Point.ZERO : Point.BASE.multiply(value)).equals(expected)) {
      throw new BlameError({ operator: sender, reason: 'sent a resharing share that does not match its commitments' });
    }
    this.#shares.set(sender, value);
  }

  /** The new public package and (for a new operator) its new share. */
  finish(): { key: VaultKey; signingShare?: Uint8Array } {
    const dealers = [...this.#commitments].sort(([a], [b]) => a - b);
    if (dealers.length !== this.#previous.operators.length) throw new Error('resharing commitments are missing');
    const merged = Array.from({ length: this.#next.threshold }, (_, k) => dealers.reduce((sum, [, c]) => sum.add(c[k] as P), Point.ZERO));
    const oldKey = Point.fromBytes(this.#previous.key.publicPackage.commitments[0] as Uint8Array);
    if (!(merged[0] as P).equals(oldKey)) throw new Error('the reshared key differs from the vault key');
    const verifyingShares: Record<string, Uint8Array> = {};
    this.#next.operators.forEach((_, i) => {
      verifyingShares[operatorIdentifier(i + 1)] = evaluate(merged, BigInt(i + 1)).toBytes(true);
    });
    const transcriptHash = sha256(
      dagCbor.encode({
        previous: { operators: [...this.#previous.operators], threshold: this.#previous.threshold, commitments: [...this.#previous.key.publicPackage.commitments] },
        next: { operators: [...this.#next.operators], threshold: this.#next.threshold },
        dealt: dealers.map(([i, c]) => ({ i, commitments: c.map((p) => p.toBytes(true)) })),
      }),
    );
    const key: VaultKey = {
      publicPackage: { commitments: merged.map((p) => p.toBytes(true)), verifyingShares },
      internalKey: this.#previous.key.internalKey,
      outputKey: this.#previous.key.outputKey,
      transcriptHash,
    };
    const me = this.#newIndex(this.#self);
    if (me === 0) return { key };
    let share = this.#coefficients.length > 0 ? this.#evaluate(BigInt(me)) : 0n;
    for (const value of this.#shares.values()) share = Fn.add(share, value);
    if (!Point.BASE.multiply(share).equals(Point.fromBytes(verifyingShares[operatorIdentifier(me)] as Uint8Array))) throw new Error('the new share does not match its verifying share');
    return { key, signingShare: Fn.toBytes(share) };
  }

  clean(): void {
    this.#coefficients.fill(0n);
  }

  #runIndex(operator: string): number {
    return this.participants.indexOf(operator) + 1;
  }

  #newIndex(operator: string): number {
    return this.#next.operators.indexOf(operator) + 1;
  }

  #evaluate(x: bigint): bigint {
    let result = 0n;
    let power = 1n;
    for (const a of this.#coefficients) {
      result = Fn.add(result, Fn.mul(a, power));
      power = Fn.mul(power, x);
    }
    return result;
  }
}
