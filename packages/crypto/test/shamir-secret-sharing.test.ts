import { bls12_381 } from '@noble/curves/bls12-381.js';
import fc from 'fast-check';
import { randomScalar } from '../src/bls12-381/scalar.js';
import { interpolateScalar, type ScalarShare } from '../src/sharing/lagrange.js';
import { combineAdditive, combineShares, splitAdditive, splitSecret } from '../src/sharing/shamir.js';
import { expectCryptoError } from './expect-crypto-error.js';

const Fr = bls12_381.fields.Fr;
const r = Fr.ORDER;

/** All k-element subsets of `items`. */
function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [head, ...rest] = items as [T, ...T[]];
  return [...subsets(rest, k - 1).map((s) => [head, ...s]), ...subsets(rest, k)];
}

/** A random k-element subset, shuffled. */
function randomSubset<T>(items: readonly T[], k: number): T[] {
  const pool = [...items];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
  }
  return pool.slice(0, k);
}

describe('splitSecret / combineShares', () => {
  for (const [t, n] of [
    [2, 3],
    [3, 5],
  ] as const) {
    test(`${t}-of-${n}: every subset of t or more shares reconstructs the secret`, () => {
      const secret = randomScalar();
      const shares = splitSecret(secret, { threshold: t, shares: n });
      expect(shares.map((s) => s.index)).toEqual(Array.from({ length: n }, (_, i) => BigInt(i + 1)));
      let checked = 0;
      for (let k = t; k <= n; k++) {
        for (const subset of subsets(shares, k)) {
          expect(combineShares(subset, t)).toBe(secret);
          expect(combineShares([...subset].reverse())).toBe(secret);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(0);
    });
  }

  test('5-of-9: random subsets of 5..9 shares reconstruct the secret', () => {
    const secret = randomScalar();
    const shares = splitSecret(secret, { threshold: 5, shares: 9 });
    for (let trial = 0; trial < 40; trial++) {
      const subset = randomSubset(shares, 5 + (trial % 5));
      expect(combineShares(subset, 5)).toBe(secret);
    }
  });

  for (const [t, n] of [
    [2, 3],
    [3, 5],
    [5, 9],
  ] as const) {
    test(`${t}-of-${n}: t−1 shares are equally consistent with every secret, and do not give the secret`, () => {
      const secret = randomScalar();
      const shares = splitSecret(secret, { threshold: t, shares: n });
      const known = randomSubset(shares, t - 1);
      // For any candidate s' there is a polynomial g of degree <= t−1 with g(0) = s' through the
      // known shares: the one interpolating them together with (0, s'). Show it agrees with
      // every known share, and that it is the real polynomial only when s' is the secret.
      const someOtherShare = shares.find((s) => !known.includes(s)) as ScalarShare;
      for (const candidate of [0n, 1n, r - 1n, randomScalar(), secret]) {
        const points = [...known, { index: 0n, value: candidate }];
        const g = (x: bigint): bigint => interpolateAt(points, x);
        expect(g(0n)).toBe(candidate);
        for (const s of known) expect(g(s.index)).toBe(s.value);
        expect(g(someOtherShare.index) === someOtherShare.value).toBe(candidate === secret);
      }
      // Interpolating t−1 shares yields some value, but not the secret; the threshold check refuses.
      if (t > 1) {
        expect(interpolateScalar(known)).not.toBe(secret);
        expectCryptoError(() => combineShares(known, t), 'NOT_ENOUGH_SHARES');
      }
    });
  }

  test('fast-check: split/combine round trip for any secret, t <= n <= 12 and any t shares in any order', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: r - 1n }),
        fc.integer({ min: 1, max: 12 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n }))),
        fc.infiniteStream(fc.nat()),
        (secret, [n, t], randomness) => {
          const shares = splitSecret(secret, { threshold: t, shares: n });
          const pool = [...shares];
          const picked: ScalarShare[] = [];
          const it = randomness[Symbol.iterator]();
          for (let k = 0; k < t; k++) picked.push(pool.splice((it.next().value as number) % pool.length, 1)[0] as ScalarShare);
          expect(combineShares(picked, t)).toBe(secret);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a surplus share that is inconsistent is detected (SHARE_INVALID), not silently used', () => {
    const shares = splitSecret(randomScalar(), { threshold: 3, shares: 5 });
    const tampered = shares.map((s, i) => (i === 4 ? { index: s.index, value: Fr.add(s.value, 1n) } : s));
    expectCryptoError(() => combineShares(tampered, 3), 'SHARE_INVALID');
    // A share from another sharing is just as inconsistent.
    const foreign = splitSecret(randomScalar(), { threshold: 3, shares: 5 });
    expectCryptoError(() => combineShares([...shares.slice(0, 3), foreign[4] as ScalarShare], 3), 'SHARE_INVALID');
  });

  test('bad parameters and shares give typed errors', () => {
    expectCryptoError(() => splitSecret(1n, { threshold: 0, shares: 3 }), 'INVALID_ARGUMENT');
    expectCryptoError(() => splitSecret(1n, { threshold: 4, shares: 3 }), 'INVALID_ARGUMENT');
    expectCryptoError(() => splitSecret(1n, { threshold: 1.5, shares: 3 }), 'INVALID_ARGUMENT');
    expectCryptoError(() => splitSecret(1n, { threshold: 2, shares: Number.POSITIVE_INFINITY }), 'INVALID_ARGUMENT');
    expectCryptoError(() => splitSecret(r, { threshold: 2, shares: 3 }), 'INVALID_SCALAR');
    expectCryptoError(() => splitSecret(-1n, { threshold: 2, shares: 3 }), 'INVALID_SCALAR');
    expectCryptoError(() => splitSecret(5 as unknown as bigint, { threshold: 2, shares: 3 }), 'INVALID_SCALAR');
    const shares = splitSecret(7n, { threshold: 2, shares: 3 });
    expectCryptoError(() => combineShares([shares[0] as ScalarShare, shares[0] as ScalarShare], 2), 'NOT_ENOUGH_SHARES');
    expectCryptoError(() => combineShares([shares[0] as ScalarShare, shares[1] as ScalarShare, shares[0] as ScalarShare], 2), 'NOT_ENOUGH_SHARES');
    expectCryptoError(() => combineShares([], 2), 'NOT_ENOUGH_SHARES');
    expectCryptoError(() => combineShares([]), 'NOT_ENOUGH_SHARES');
    expectCryptoError(() => combineShares(shares, 0), 'INVALID_ARGUMENT');
    expectCryptoError(() => combineShares([{ index: 0n, value: 7n }, shares[1] as ScalarShare], 2), 'INVALID_ARGUMENT');
    expectCryptoError(() => combineShares([{ index: 1n, value: r }, shares[1] as ScalarShare], 2), 'INVALID_SCALAR');
  });

  test('1-of-n: every share is the secret; n-of-n needs all shares', () => {
    const secret = randomScalar();
    for (const s of splitSecret(secret, { threshold: 1, shares: 4 })) expect(s.value).toBe(secret);
    const all = splitSecret(secret, { threshold: 4, shares: 4 });
    expect(combineShares(all, 4)).toBe(secret);
    expect(interpolateScalar(all.slice(1))).not.toBe(secret);
  });
});

describe('splitAdditive / combineAdditive (n-of-n, Milagro-style)', () => {
  test('round trip, and any n−1 shares give a wrong value', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: r - 1n }), fc.integer({ min: 1, max: 10 }), (secret, n) => {
        const shares = splitAdditive(secret, n);
        expect(shares).toHaveLength(n);
        expect(combineAdditive(shares)).toBe(secret);
        if (n > 1) expect(combineAdditive(shares.slice(1))).not.toBe(secret);
      }),
      { numRuns: 100 },
    );
  });

  test('bad input gives typed errors', () => {
    expectCryptoError(() => splitAdditive(1n, 0), 'INVALID_ARGUMENT');
    expectCryptoError(() => splitAdditive(r, 2), 'INVALID_SCALAR');
    expectCryptoError(() => combineAdditive([]), 'NOT_ENOUGH_SHARES');
    expectCryptoError(() => combineAdditive([1n, r]), 'INVALID_SCALAR');
  });
});

/** Value at x of the polynomial of least degree through `points` (index 0 allowed here). */
function interpolateAt(points: ReadonlyArray<{ index: bigint; value: bigint }>, x: bigint): bigint {
  // Written out independently of lagrange.ts so this test does not merely restate the code under test.
  let acc = 0n;
  for (const [i, pi] of points.entries()) {
    let num = 1n;
    let den = 1n;
    for (const [j, pj] of points.entries()) {
      if (i === j) continue;
      num = Fr.mul(num, Fr.sub(x, pj.index));
      den = Fr.mul(den, Fr.sub(pi.index, pj.index));
    }
    acc = Fr.add(acc, Fr.mul(pi.value, Fr.div(num, den)));
  }
  return acc;
}
