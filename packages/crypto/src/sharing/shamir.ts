import { bls12_381 } from '@noble/curves/bls12-381.js';
import { CryptoError } from '../errors.js';
import { assertDistinctShareIndices, assertShareValue, interpolateScalar, type ScalarShare } from './lagrange.js';
import {
  assertSecretScalar,
  assertSharingParameters,
  evaluatePolynomial,
  randomPolynomial,
} from './polynomial.js';
import { randomScalar } from '../bls12-381/scalar.js';

/**
 * Shamir secret sharing of a scalar in BLS12-381's Fr, and plain additive n-of-n sharing.
 *
 * Which one to use:
 * - **Shamir t-of-n** (`splitSecret` / `combineShares`, or in the exponent `interpolateInExponent`):
 *   the default. Any t of the n holders suffice, so losing up to n−t holders loses nothing.
 *   Combining needs the holders' indices (for the Lagrange coefficients). t = n gives n-of-n.
 * - **Additive n-of-n** (`splitAdditive` / `combineAdditive`): what Apache Milagro's D-TAs used
 *   (s = s_1 + … + s_n; a client adds the points s_i·H(ID)). Use it only to interoperate with an
 *   additive deployment, or where the combiner must not depend on which holders answered (there
 *   is no choice: all must answer). Every share is needed; losing one loses the secret.
 */

const Fr = bls12_381.fields.Fr;

/** Parameters of a t-of-n sharing. */
export interface SharingParameters {
  /** t: how many shares reconstruct the secret (1 <= t <= shares). */
  readonly threshold: number;
  /** n: how many shares to make; they get indices 1..n. */
  readonly shares: number;
}

/**
 * Split `secret` into `shares` Shamir shares, any `threshold` of which reconstruct it and any
 * fewer reveal nothing about it. Share i is f(i) for a fresh random polynomial f of degree t−1
 * with f(0) = secret; indices are 1..n.
 *
 * @param secret - a scalar in [0, r).
 * @throws CryptoError `INVALID_SCALAR` (secret out of range), `INVALID_ARGUMENT` (bad t or n).
 */
export function splitSecret(secret: bigint, parameters: SharingParameters): ScalarShare[] {
  assertSecretScalar(secret);
  assertSharingParameters(parameters.threshold, parameters.shares);
  const f = randomPolynomial(secret, parameters.threshold);
  const result: ScalarShare[] = [];
  for (let i = 1n; i <= BigInt(parameters.shares); i++) result.push({ index: i, value: evaluatePolynomial(f, i) });
  return result;
}

/**
 * Reconstruct the secret from Shamir shares.
 *
 * With `threshold` given, at least that many shares are required, the secret is taken from the
 * first `threshold` of them, and every further share is checked to lie on the same polynomial,
 * so a corrupted or foreign share is detected instead of silently giving a wrong secret.
 * Without `threshold`, all given shares are interpolated (the caller vouches they are enough).
 *
 * @throws CryptoError `NOT_ENOUGH_SHARES` (too few or duplicate indices), `SHARE_INVALID`
 *   (a surplus share is inconsistent), `INVALID_ARGUMENT` / `INVALID_SCALAR` (malformed share).
 */
export function combineShares(shares: ReadonlyArray<ScalarShare>, threshold?: number): bigint {
  if (threshold === undefined) return interpolateScalar(shares);
  if (!Number.isSafeInteger(threshold) || threshold < 1) {
    throw new CryptoError('INVALID_ARGUMENT', 'threshold must be a positive integer');
  }
  if (shares.length < threshold) {
    throw new CryptoError('NOT_ENOUGH_SHARES', `need ${threshold} shares, got ${shares.length}`);
  }
  const basis = shares.slice(0, threshold);
  // Duplicates across the whole list would let one share "confirm" itself.
  assertDistinctShareIndices(shares.map((s) => s.index));
  for (const share of shares) assertShareValue(share.value);
  for (const extra of shares.slice(threshold)) {
    if (interpolateScalar(basis, extra.index) !== extra.value) {
      throw new CryptoError('SHARE_INVALID', `share ${extra.index} is inconsistent with the others`);
    }
  }
  return interpolateScalar(basis);
}

/**
 * Split `secret` into `n` additive shares s_1..s_n with Σ s_i = secret (mod r); all n are
 * needed, any n−1 are uniformly random. See the module note for when to prefer Shamir.
 *
 * @throws CryptoError `INVALID_SCALAR` (secret out of range), `INVALID_ARGUMENT` (n < 1).
 */
export function splitAdditive(secret: bigint, n: number): bigint[] {
  assertSecretScalar(secret);
  if (!Number.isSafeInteger(n) || n < 1) throw new CryptoError('INVALID_ARGUMENT', 'need at least one share');
  const shares: bigint[] = [];
  let sum = Fr.ZERO;
  for (let i = 1; i < n; i++) {
    const s = randomScalar();
    shares.push(s);
    sum = Fr.add(sum, s);
  }
  shares.push(Fr.sub(secret, sum));
  return shares;
}

/**
 * Combine additive shares: their sum mod r. (For shares in the exponent, s_i·P, add the points
 * with the group's `add`.)
 *
 * @throws CryptoError `NOT_ENOUGH_SHARES` (empty list), `INVALID_SCALAR` (a share outside [0, r)).
 */
export function combineAdditive(shares: readonly bigint[]): bigint {
  if (shares.length === 0) throw new CryptoError('NOT_ENOUGH_SHARES', 'no shares given');
  let sum = Fr.ZERO;
  for (const s of shares) {
    assertSecretScalar(s);
    sum = Fr.add(sum, s);
  }
  return sum;
}
