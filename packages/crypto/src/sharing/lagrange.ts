import { bls12_381 } from '@noble/curves/bls12-381.js';
import { CryptoError } from '../errors.js';
import type { GroupOps } from '../bls12-381/backend.js';

/**
 * Lagrange interpolation over BLS12-381's scalar field Fr (order r), in the clear and "in the
 * exponent". This is what turns any t Shamir shares (of a scalar, or of a point s·P) back into
 * the shared value. Share indices are public; only the share values are secret.
 */

const Fr = bls12_381.fields.Fr;

/** A Shamir share of a scalar: the dealer polynomial f evaluated at `index`, i.e. `value = f(index)`. */
export interface ScalarShare {
  /** Public, non-zero share index (participants are numbered 1..n). */
  readonly index: bigint;
  /** Secret share value in [0, r). */
  readonly value: bigint;
}

/** A share "in the exponent": `point = f(index)·P` for some fixed point P of the group. */
export interface PointShare<P> {
  /** Public, non-zero share index (participants are numbered 1..n). */
  readonly index: bigint;
  /** The share's point; must already be validated (e.g. it came from `GroupOps.decode`). */
  readonly point: P;
}

/** True iff `index` is a bigint in [1, r). */
export function isShareIndex(index: unknown): index is bigint {
  return typeof index === 'bigint' && index > 0n && index < Fr.ORDER;
}

/** True iff `value` is a bigint in [0, r). */
export function isScalar(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= 0n && value < Fr.ORDER;
}

/**
 * Check that `index` is a share index: a bigint in [1, r). Index 0 is where the secret lives,
 * so a share at 0 would *be* the secret.
 */
export function assertShareIndex(index: unknown): asserts index is bigint {
  if (!isShareIndex(index)) {
    throw new CryptoError('INVALID_ARGUMENT', 'share index must be a bigint in [1, r)');
  }
}

/**
 * Check a non-empty list of distinct share indices, each in [1, r).
 * @throws CryptoError `NOT_ENOUGH_SHARES` (empty or duplicates), `INVALID_ARGUMENT` (bad index).
 */
export function assertDistinctShareIndices(indices: readonly bigint[]): void {
  if (indices.length === 0) throw new CryptoError('NOT_ENOUGH_SHARES', 'no shares given');
  const seen = new Set<bigint>();
  for (const index of indices) {
    assertShareIndex(index);
    if (seen.has(index)) throw new CryptoError('NOT_ENOUGH_SHARES', `duplicate share index ${index}`);
    seen.add(index);
  }
}

/**
 * The Lagrange coefficients λ_i such that, for every polynomial f of degree < `indices.length`,
 * f(at) = Σ λ_i · f(indices[i])  (mod r).
 *
 * @param indices - distinct, non-zero share indices (public values).
 * @param at - where to interpolate; defaults to 0, the position of the shared secret.
 * @returns one coefficient per index, in the same order.
 * @throws CryptoError `NOT_ENOUGH_SHARES` for an empty list or duplicate indices,
 *   `INVALID_ARGUMENT` for an index outside [1, r) or `at` outside [0, r).
 */
export function lagrangeCoefficients(indices: readonly bigint[], at: bigint = 0n): bigint[] {
  if (typeof at !== 'bigint' || at < 0n || at >= Fr.ORDER) {
    throw new CryptoError('INVALID_ARGUMENT', 'interpolation point must be a bigint in [0, r)');
  }
  assertDistinctShareIndices(indices);
  // λ_i = Π_{j≠i} (at − x_j) / (x_i − x_j). Denominators are non-zero because the indices are
  // distinct; invert them all at once (one field inversion instead of t).
  const numerators: bigint[] = [];
  const denominators: bigint[] = [];
  for (const [i, xi] of indices.entries()) {
    let num = Fr.ONE;
    let den = Fr.ONE;
    for (const [j, xj] of indices.entries()) {
      if (i === j) continue;
      num = Fr.mul(num, Fr.sub(at, xj));
      den = Fr.mul(den, Fr.sub(xi, xj));
    }
    numerators.push(num);
    denominators.push(den);
  }
  const inverses = Fr.invertBatch(denominators);
  return numerators.map((num, i) => Fr.mul(num, inverses[i] as bigint));
}

/** Check a share value is a bigint in [0, r). @throws CryptoError `INVALID_SCALAR`. */
export function assertShareValue(value: unknown): asserts value is bigint {
  if (!isScalar(value)) {
    throw new CryptoError('INVALID_SCALAR', 'share value must be a bigint in [0, r)');
  }
}

/**
 * Interpolate scalar shares: returns f(at) (by default f(0), the secret) of the unique
 * polynomial of degree < shares.length through the given shares.
 *
 * The result is only meaningful when at least `threshold` shares of one sharing are given; with
 * fewer it is a value unrelated to the secret (no error can detect that — see `combineShares`
 * for a threshold-checked variant).
 *
 * @throws CryptoError `NOT_ENOUGH_SHARES` (none, or duplicate indices), `INVALID_ARGUMENT`
 *   (bad index or `at`), `INVALID_SCALAR` (a value outside [0, r)).
 */
export function interpolateScalar(shares: ReadonlyArray<ScalarShare>, at: bigint = 0n): bigint {
  for (const share of shares) assertShareValue(share.value);
  const lambdas = lagrangeCoefficients(
    shares.map((s) => s.index),
    at,
  );
  let acc = Fr.ZERO;
  for (const [i, share] of shares.entries()) acc = Fr.add(acc, Fr.mul(lambdas[i] as bigint, share.value));
  return acc;
}

/**
 * Interpolate shares in the exponent: given f(x_i)·P for distinct x_i, returns f(at)·P
 * (by default f(0)·P = secret·P) as Σ λ_i·(f(x_i)·P). This is how a client combines t D-TA
 * shares s_i·H(ID) into s·H(ID) without anyone learning s.
 *
 * @param group - the group the points live in (e.g. `nobleBackend.g1`).
 * @param shares - at least threshold shares with distinct indices; points must be validated.
 * @param at - where to interpolate; defaults to 0.
 * @throws CryptoError as {@link lagrangeCoefficients}.
 */
export function interpolateInExponent<P>(
  group: GroupOps<P>,
  shares: ReadonlyArray<PointShare<P>>,
  at: bigint = 0n,
): P {
  const lambdas = lagrangeCoefficients(
    shares.map((s) => s.index),
    at,
  );
  let acc = group.zero;
  for (const [i, share] of shares.entries()) acc = group.add(acc, group.multiply(share.point, lambdas[i] as bigint));
  return acc;
}
