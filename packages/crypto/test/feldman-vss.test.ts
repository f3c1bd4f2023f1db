import { bls12_381 } from '@noble/curves/bls12-381.js';
import fc from 'fast-check';
import { nobleBackend } from '../src/bls12-381/noble.js';
import { randomScalar } from '../src/bls12-381/scalar.js';
import { isCryptoError } from '../src/errors.js';
import {
  assertShareValid,
  dealShares,
  decodeCommitments,
  encodeCommitments,
  publicShare,
  verifyShare,
} from '../src/sharing/feldman.js';
import { interpolateInExponent } from '../src/sharing/lagrange.js';
import { combineShares } from '../src/sharing/shamir.js';
import { expectCryptoError } from './expect-crypto-error.js';

const Fr = bls12_381.fields.Fr;
const g1 = nobleBackend.g1;
const g2 = nobleBackend.g2;

describe('Feldman VSS on G1', () => {
  const secret = randomScalar();
  const { shares, commitments } = dealShares(secret, { threshold: 3, shares: 5 }, g1);

  test('commits to the secret (C_0 = secret·G) and every share verifies', () => {
    expect(commitments).toHaveLength(3);
    expect(g1.equals(commitments[0]!, g1.multiply(g1.base, secret))).toBe(true);
    for (const share of shares) {
      expect(verifyShare(g1, commitments, share)).toBe(true);
      expect(() => assertShareValid(g1, commitments, share)).not.toThrow();
    }
    expect(combineShares(shares, 3)).toBe(secret);
  });

  test('a tampered share is rejected: changed value, moved index, or a share of another dealing', () => {
    const share = shares[1]!;
    const tampered = [
      { index: share.index, value: Fr.add(share.value, 1n) },
      { index: share.index, value: Fr.sub(share.value, 1n) },
      { index: share.index + 1n, value: share.value },
      { index: share.index, value: 0n },
      dealShares(secret, { threshold: 3, shares: 5 }, g1).shares[1]!,
    ];
    for (const bad of tampered) {
      expect(verifyShare(g1, commitments, bad)).toBe(false);
      expectCryptoError(() => assertShareValid(g1, commitments, bad), 'SHARE_INVALID');
    }
    // Tampered commitments reject the honest share too.
    const moved = [commitments[0]!, g1.add(commitments[1]!, g1.base), commitments[2]!];
    expect(verifyShare(g1, moved, share)).toBe(false);
  });

  test('malformed shares are invalid, not crashes', () => {
    expect(verifyShare(g1, commitments, { index: 0n, value: 1n })).toBe(false);
    expect(verifyShare(g1, commitments, { index: 1n, value: Fr.ORDER })).toBe(false);
    expect(verifyShare(g1, commitments, { index: -1n, value: 1n })).toBe(false);
    expect(verifyShare(g1, commitments, { index: 1, value: 1n } as never)).toBe(false);
    expectCryptoError(() => verifyShare(g1, [], shares[0]!), 'INVALID_ARGUMENT');
  });

  test('publicShare(i) is the verification key value_i·G; any 3 of them interpolate to C_0', () => {
    const keys = shares.map((s) => ({ index: s.index, point: publicShare(g1, commitments, s.index) }));
    for (const [i, s] of shares.entries()) expect(g1.equals(keys[i]!.point, g1.multiply(g1.base, s.value))).toBe(true);
    expect(g1.equals(interpolateInExponent(g1, [keys[0]!, keys[2]!, keys[4]!]), commitments[0]!)).toBe(true);
    expectCryptoError(() => publicShare(g1, commitments, 0n), 'INVALID_ARGUMENT');
  });

  test('commitment vectors round-trip through encode/decode; decoding validates length, count and points', () => {
    const bytes = encodeCommitments(g1, commitments);
    expect(bytes).toHaveLength(3 * 48);
    const decoded = decodeCommitments(g1, bytes, { threshold: 3 });
    decoded.forEach((p, j) => expect(g1.equals(p, commitments[j]!)).toBe(true));

    expectCryptoError(() => decodeCommitments(g1, bytes, { threshold: 2 }), 'INVALID_LENGTH');
    expectCryptoError(() => decodeCommitments(g1, bytes.subarray(1)), 'INVALID_LENGTH');
    expectCryptoError(() => decodeCommitments(g1, new Uint8Array(0)), 'INVALID_LENGTH');
    expectCryptoError(() => encodeCommitments(g1, []), 'INVALID_ARGUMENT');
    // The point at infinity (compressed: 0xc0 then zeros) is refused.
    const withInfinity = bytes.slice();
    withInfinity.set([0xc0, ...new Uint8Array(47)], 48);
    expectCryptoError(() => decodeCommitments(g1, withInfinity), 'POINT_AT_INFINITY');
    // An x coordinate >= p (all ones with the compression flag) is refused.
    const notCanonical = bytes.slice();
    notCanonical.set([0x9f, ...new Uint8Array(47).fill(0xff)], 96);
    expect(() => decodeCommitments(g1, notCanonical)).toThrow(expect.objectContaining({ name: 'CryptoError' }) as never);
  });

  test('fast-check: decoding arbitrary bytes gives points that re-encode identically, or a typed error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 100 }),
          // Perturb a valid encoding in one byte: mostly off-curve or off-subgroup points.
          fc.tuple(fc.nat({ max: 3 * 48 - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
            const b = encodeCommitments(g1, commitments);
            b[i] = (b[i] as number) ^ x;
            return b;
          }),
        ),
        (bytes) => {
          try {
            const points = decodeCommitments(g1, bytes);
            expect(encodeCommitments(g1, points)).toEqual(bytes);
          } catch (err) {
            expect(isCryptoError(err)).toBe(true);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('dealing refuses a zero or out-of-range secret and bad parameters', () => {
    expectCryptoError(() => dealShares(0n, { threshold: 2, shares: 3 }, g1), 'INVALID_SCALAR');
    expectCryptoError(() => dealShares(Fr.ORDER, { threshold: 2, shares: 3 }, g1), 'INVALID_SCALAR');
    expectCryptoError(() => dealShares(1n, { threshold: 3, shares: 2 }, g1), 'INVALID_ARGUMENT');
  });
});

test('Feldman VSS works the same in G2', () => {
  const secret = randomScalar();
  const { shares, commitments } = dealShares(secret, { threshold: 2, shares: 3 }, g2);
  const decoded = decodeCommitments(g2, encodeCommitments(g2, commitments), { threshold: 2 });
  expect(verifyShare(g2, decoded, shares[2]!)).toBe(true);
  expect(verifyShare(g2, decoded, { index: 3n, value: Fr.add(shares[2]!.value, 1n) })).toBe(false);
});
