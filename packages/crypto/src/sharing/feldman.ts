import { CryptoError } from '../errors.js';
import type { GroupOps } from '../bls12-381/backend.js';
import { assertShareIndex, isScalar, isShareIndex, type ScalarShare } from './lagrange.js';
import { assertSecretScalar, assertSharingParameters, evaluatePolynomial, randomPolynomial } from './polynomial.js';
import type { SharingParameters } from './shamir.js';

/**
 * Feldman verifiable secret sharing: Shamir sharing plus public commitments C_j = a_j·G to the
 * coefficients of the dealer's polynomial f(x) = a_0 + a_1·x + … + a_{t−1}·x^{t−1}, so every
 * holder can check its share against them, and anyone can compute f(i)·G, the verification key
 * of holder i.
 *
 * SECURITY: the commitments publish C_0 = secret·G. For the D-TA master secret s, commit in
 * **G1** (`nobleBackend.g1`): s·G1 is a harmless public key. Never commit in G2 with its standard
 * generator Q: s·Q *is* the M-Pin server secret, which must never be published. More generally,
 * only commit in a group whose "secret times generator" is meant to be public.
 *
 * Feldman commitments hide the secret only computationally (discrete log); the secret's
 * distribution must be uniform (a random key), not a low-entropy value.
 */

/** What a Feldman dealer produces: one private share per holder, and public commitments. */
export interface FeldmanDealing<P> {
  /** Share i (index i = 1..n) goes privately to holder i. */
  readonly shares: ScalarShare[];
  /** C_0..C_{t−1}, broadcast to everyone (encode with {@link encodeCommitments}). */
  readonly commitments: P[];
}

/**
 * Deal a t-of-n Feldman sharing of `secret` in `group`.
 *
 * @param secret - a non-zero scalar in [1, r) (zero would commit to the point at infinity).
 * @param group - the group of the commitments; for the D-TA master secret this must be G1.
 * @throws CryptoError `INVALID_SCALAR` (secret out of range or 0), `INVALID_ARGUMENT` (bad t or n).
 */
export function dealShares<P>(secret: bigint, parameters: SharingParameters, group: GroupOps<P>): FeldmanDealing<P> {
  assertSecretScalar(secret);
  if (secret === 0n) throw new CryptoError('INVALID_SCALAR', 'a Feldman secret must be non-zero');
  assertSharingParameters(parameters.threshold, parameters.shares);
  const f = randomPolynomial(secret, parameters.threshold);
  const shares: ScalarShare[] = [];
  for (let i = 1n; i <= BigInt(parameters.shares); i++) shares.push({ index: i, value: evaluatePolynomial(f, i) });
  return { shares, commitments: f.map((a) => group.multiply(group.base, a)) };
}

function assertCommitments<P>(commitments: readonly P[]): void {
  if (commitments.length === 0) throw new CryptoError('INVALID_ARGUMENT', 'empty commitment vector');
}

/**
 * f(index)·G = Σ_j index^j·C_j: the verification key of holder `index`, computable by anyone
 * from the public commitments (Horner's rule, so each step multiplies by the small index).
 * Everything here is public, so the variable-time multiplication is used (about 1,000× faster
 * than the constant-time one for a 16-bit index).
 *
 * @throws CryptoError `INVALID_ARGUMENT` (no commitments, or index outside [1, r)).
 */
export function publicShare<P>(group: GroupOps<P>, commitments: readonly P[], index: bigint): P {
  assertCommitments(commitments);
  assertShareIndex(index);
  let acc = group.zero;
  for (let j = commitments.length - 1; j >= 0; j--) {
    acc = group.add(group.multiplyPublic(acc, index), commitments[j] as P);
  }
  return acc;
}

/**
 * True iff `share` is consistent with the dealer's commitments: value·G == f(index)·G.
 * A malformed share (index outside [1, r), value outside [0, r)) is simply invalid.
 * The commitments must be validated points (e.g. from {@link decodeCommitments}).
 *
 * @throws CryptoError `INVALID_ARGUMENT` for an empty commitment vector.
 */
export function verifyShare<P>(group: GroupOps<P>, commitments: readonly P[], share: ScalarShare): boolean {
  assertCommitments(commitments);
  if (!isShareIndex(share.index) || !isScalar(share.value)) return false;
  return group.equals(group.multiply(group.base, share.value), publicShare(group, commitments, share.index));
}

/**
 * Like {@link verifyShare}, but throws instead of returning false.
 * @throws CryptoError `SHARE_INVALID` when the share does not match the commitments.
 */
export function assertShareValid<P>(group: GroupOps<P>, commitments: readonly P[], share: ScalarShare): void {
  if (!verifyShare(group, commitments, share)) {
    throw new CryptoError('SHARE_INVALID', `share ${String(share.index)} does not match the dealer's commitments`);
  }
}

/**
 * Wire encoding of a commitment vector: the t compressed points concatenated (t·48 bytes in G1,
 * t·96 in G2). The threshold is implied by the length.
 *
 * @throws CryptoError `INVALID_ARGUMENT` for an empty vector.
 */
export function encodeCommitments<P>(group: GroupOps<P>, commitments: readonly P[]): Uint8Array {
  assertCommitments(commitments);
  const out = new Uint8Array(commitments.length * group.compressedLength);
  for (const [j, c] of commitments.entries()) out.set(group.encode(c, { compressed: true }), j * group.compressedLength);
  return out;
}

/**
 * Decode and fully validate a commitment vector: exact length, and every point canonical, on the
 * curve, in the prime-order subgroup and not the point at infinity (via `group.decode`).
 *
 * @param threshold - if given, the vector must have exactly this many commitments.
 * @throws CryptoError `INVALID_LENGTH` (empty, not a multiple of the point size, or wrong count),
 *   or the point error from `group.decode` (`INVALID_ENCODING`, `POINT_AT_INFINITY`, ...).
 */
export function decodeCommitments<P>(group: GroupOps<P>, bytes: Uint8Array, options?: { threshold?: number }): P[] {
  const size = group.compressedLength;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length % size !== 0) {
    throw new CryptoError('INVALID_LENGTH', `commitments must be a non-empty multiple of ${size} bytes`);
  }
  const count = bytes.length / size;
  if (options?.threshold !== undefined && count !== options.threshold) {
    throw new CryptoError('INVALID_LENGTH', `expected ${options.threshold} commitments, got ${count}`);
  }
  const points: P[] = [];
  for (let j = 0; j < count; j++) points.push(group.decode(bytes.subarray(j * size, (j + 1) * size)));
  return points;
}
