import { bls12_381 } from '@noble/curves/bls12-381.js';
import fc from 'fast-check';
import { nobleBackend } from '../src/bls12-381/noble.js';
import { interpolateInExponent, interpolateScalar, lagrangeCoefficients } from '../src/sharing/lagrange.js';
import { randomScalar } from '../src/bls12-381/scalar.js';
import { evaluatePolynomial, randomPolynomial } from '../src/sharing/polynomial.js';
import { expectCryptoError } from './expect-crypto-error.js';

const Fr = bls12_381.fields.Fr;
const r = Fr.ORDER;

describe('lagrangeCoefficients', () => {
  test('known small case: indices 1,2 at 0 give λ = (2, −1)', () => {
    expect(lagrangeCoefficients([1n, 2n])).toEqual([2n, r - 1n]);
  });

  test('coefficients sum to 1 (they interpolate the constant polynomial 1)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.bigInt({ min: 1n, max: r - 1n }), { minLength: 1, maxLength: 8 }), fc.bigInt({ min: 0n, max: r - 1n }), (indices, at) => {
        const sum = lagrangeCoefficients(indices, at).reduce((a, b) => Fr.add(a, b), 0n);
        expect(sum).toBe(1n);
      }),
      { numRuns: 50 },
    );
  });

  test('interpolating at one of the indices selects that share', () => {
    expect(lagrangeCoefficients([3n, 5n, 9n], 5n)).toEqual([0n, 1n, 0n]);
  });

  test('rejects empty, duplicate, zero, negative, too-large and non-bigint indices with typed errors', () => {
    expectCryptoError(() => lagrangeCoefficients([]), 'NOT_ENOUGH_SHARES');
    expectCryptoError(() => lagrangeCoefficients([1n, 2n, 1n]), 'NOT_ENOUGH_SHARES');
    expectCryptoError(() => lagrangeCoefficients([0n, 1n]), 'INVALID_ARGUMENT');
    expectCryptoError(() => lagrangeCoefficients([-1n, 1n]), 'INVALID_ARGUMENT');
    expectCryptoError(() => lagrangeCoefficients([r, 1n]), 'INVALID_ARGUMENT');
    expectCryptoError(() => lagrangeCoefficients([1 as unknown as bigint, 2n]), 'INVALID_ARGUMENT');
    expectCryptoError(() => lagrangeCoefficients([1n, 2n], r), 'INVALID_ARGUMENT');
    expectCryptoError(() => lagrangeCoefficients([1n, 2n], -1n), 'INVALID_ARGUMENT');
  });
});

describe('interpolateScalar', () => {
  test('recovers f(at) of a random polynomial from deg+1 points at any position', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.bigInt({ min: 0n, max: r - 1n }),
        fc.bigInt({ min: 0n, max: r - 1n }),
        fc.uniqueArray(fc.bigInt({ min: 1n, max: 1000n }), { minLength: 7, maxLength: 7 }),
        (t, secret, at, xs) => {
          const f = randomPolynomial(secret, t);
          const shares = xs.slice(0, t).map((index) => ({ index, value: evaluatePolynomial(f, index) }));
          expect(interpolateScalar(shares)).toBe(secret);
          expect(interpolateScalar(shares, at)).toBe(evaluatePolynomial(f, at));
        },
      ),
      { numRuns: 60 },
    );
  });

  test('rejects share values outside [0, r)', () => {
    expectCryptoError(() => interpolateScalar([{ index: 1n, value: r }]), 'INVALID_SCALAR');
    expectCryptoError(() => interpolateScalar([{ index: 1n, value: -1n }]), 'INVALID_SCALAR');
  });
});

describe('interpolateInExponent equals secret·G', () => {
  for (const [name, group] of [
    ['G1', nobleBackend.g1],
    ['G2', nobleBackend.g2],
  ] as const) {
    test(`${name}: 3-of-5 shares f(i)·G of any 3 indices combine to secret·G`, () => {
      const g = group as typeof nobleBackend.g1;
      const secret = randomScalar();
      const f = randomPolynomial(secret, 3);
      const all = [1n, 2n, 3n, 4n, 5n].map((index) => ({ index, point: g.multiply(g.base, evaluatePolynomial(f, index)) }));
      const expected = g.multiply(g.base, secret);
      for (const subset of [[0, 2, 4], [3, 1, 2]]) {
        const got = interpolateInExponent(g, subset.map((i) => all[i]!));
        expect(g.equals(got, expected)).toBe(true);
      }
      // Two shares are not enough: the result is a different point.
      expect(g.equals(interpolateInExponent(g, all.slice(0, 2)), expected)).toBe(false);
    });
  }
});
