import { bls12_381 } from '@noble/curves/bls12-381.js';
import { CryptoError } from '../errors.js';
import { randomScalar } from '../bls12-381/scalar.js';

/**
 * Secret polynomials over Fr: the one object Shamir, Feldman and the DKG share. Internal to
 * `sharing/`; not exported from the package.
 */

const Fr = bls12_381.fields.Fr;

/** Check `secret` is a bigint in [0, r) (0 is allowed: a sharing of zero is used to refresh shares). */
export function assertSecretScalar(secret: unknown): asserts secret is bigint {
  if (typeof secret !== 'bigint' || secret < 0n || secret >= Fr.ORDER) {
    throw new CryptoError('INVALID_SCALAR', 'expected a scalar in [0, r)');
  }
}

/** Check the sharing parameters: 1 <= threshold <= shares < r, both safe integers. */
export function assertSharingParameters(threshold: unknown, shares: unknown): asserts threshold is number {
  if (!Number.isSafeInteger(threshold) || !Number.isSafeInteger(shares)) {
    throw new CryptoError('INVALID_ARGUMENT', 'threshold and shares must be integers');
  }
  const t = threshold as number;
  const n = shares as number;
  // n < r holds for every safe integer; indices 1..n are then all distinct non-zero field elements.
  if (t < 1 || t > n) throw new CryptoError('INVALID_ARGUMENT', 'need 1 <= threshold <= shares');
}

/**
 * Coefficients a_0..a_{t-1} of a random polynomial of degree t−1 with a_0 = `secret`.
 * The other coefficients are uniform non-zero scalars (excluding 0 from a_{t-1} keeps the degree
 * exact; the loss of uniformity elsewhere is ~t/r, negligible).
 */
export function randomPolynomial(secret: bigint, threshold: number): bigint[] {
  const coefficients = [secret];
  for (let j = 1; j < threshold; j++) coefficients.push(randomScalar());
  return coefficients;
}

/** f(x) mod r by Horner's rule. */
export function evaluatePolynomial(coefficients: readonly bigint[], x: bigint): bigint {
  let acc = Fr.ZERO;
  for (let j = coefficients.length - 1; j >= 0; j--) acc = Fr.add(Fr.mul(acc, x), coefficients[j] as bigint);
  return acc;
}
