import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import type { Bls12381Backend, GroupOps } from '../src/bls12-381/backend.js';
import { createMclBackend } from '../src/bls12-381/mcl.js';
import { nobleBackend } from '../src/bls12-381/noble.js';
import { isCryptoError } from '../src/errors.js';
import { notInSubgroupEncoding, offCurveEncoding } from './bls12-381-test-points.js';
import { expectCryptoError } from './expect-crypto-error.js';

/**
 * The one contract every BLS12-381 backend must meet. Runs unchanged over noble and mcl-wasm.
 * Generator encodings: draft-irtf-cfrg-pairing-friendly-curves-11 §4.2.1 / Appendix C (ZCash format).
 */
const G1_GENERATOR =
  '97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb';
const G2_GENERATOR =
  '93e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e' +
  '024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8';
const r = bls12_381.fields.Fr.ORDER;
const GT_ONE = bls12_381.fields.Fp12.toBytes(bls12_381.fields.Fp12.ONE);
const scalar = fc.bigInt({ min: 1n, max: r - 1n });

type AnyBackend = Bls12381Backend<unknown, unknown, unknown>;
const backends: Array<[string, () => Promise<AnyBackend>]> = [
  ['noble', async () => nobleBackend as AnyBackend],
  ['mcl', async () => (await createMclBackend()) as AnyBackend],
];

describe.each(backends)('BLS12-381 backend contract: %s', (_name, load) => {
  let backend: AnyBackend;
  beforeAll(async () => {
    backend = await load();
  });

  const groups = (): Array<[string, GroupOps<unknown>, 1 | 2]> => [
    ['G1', backend.g1, 1],
    ['G2', backend.g2, 2],
  ];

  test('generators have the standard compressed encodings', () => {
    expect(bytesToHex(backend.g1.encode(backend.g1.base))).toBe(G1_GENERATOR);
    expect(bytesToHex(backend.g2.encode(backend.g2.base))).toBe(G2_GENERATOR);
    expect(backend.g1.compressedLength).toBe(48);
    expect(backend.g2.compressedLength).toBe(96);
  });

  test('encodings round-trip, compressed and uncompressed', () => {
    for (const [, group] of groups()) {
      fc.assert(
        fc.property(scalar, fc.boolean(), (k, compressed) => {
          const point = group.multiply(group.base, k);
          const bytes = group.encode(point, { compressed });
          expect(bytes.length).toBe(group.compressedLength * (compressed ? 1 : 2));
          const decoded = group.decode(bytes);
          expect(group.equals(decoded, point)).toBe(true);
          expect(group.encode(decoded, { compressed })).toEqual(bytes);
        }),
        { numRuns: 10 },
      );
    }
  });

  test('infinity: refused by default, accepted on request, canonical encodings', () => {
    for (const [, group] of groups()) {
      const compressed = group.encode(group.zero);
      const uncompressed = group.encode(group.zero, { compressed: false });
      expect(compressed[0]).toBe(0xc0);
      expect(uncompressed[0]).toBe(0x40);
      expect(compressed.subarray(1).every((b) => b === 0)).toBe(true);
      expect(uncompressed.subarray(1).every((b) => b === 0)).toBe(true);
      expectCryptoError(() => group.decode(compressed), 'POINT_AT_INFINITY');
      expectCryptoError(() => group.decode(uncompressed), 'POINT_AT_INFINITY');
      expect(group.isZero(group.decode(compressed, { allowInfinity: true }))).toBe(true);
      expect(group.isZero(group.decode(uncompressed, { allowInfinity: true }))).toBe(true);
    }
  });

  test('group laws: distributivity, negation, reduction mod r', () => {
    for (const [, group] of groups()) {
      fc.assert(
        fc.property(scalar, scalar, (a, b) => {
          const P = group.base;
          expect(group.equals(group.multiply(P, a + b), group.add(group.multiply(P, a), group.multiply(P, b)))).toBe(true);
          expect(group.isZero(group.add(group.multiply(P, a), group.negate(group.multiply(P, a))))).toBe(true);
          expect(group.equals(group.multiply(P, -a), group.negate(group.multiply(P, a)))).toBe(true);
        }),
        { numRuns: 4 },
      );
      expect(group.isZero(group.multiply(group.base, 0n))).toBe(true);
      expect(group.isZero(group.multiply(group.base, r))).toBe(true);
      expect(group.equals(group.multiply(group.base, r + 1n), group.base)).toBe(true);
      expect(group.isZero(group.multiply(group.zero, 5n))).toBe(true);
      expect(group.equals(group.add(group.zero, group.base), group.base)).toBe(true);
      expect(group.isZero(group.zero)).toBe(true);
      expect(group.isZero(group.base)).toBe(false);
    }
  });

  test('public-scalar multiplication and multi-scalar sums agree with multiply', () => {
    for (const [, group] of groups()) {
      fc.assert(
        fc.property(fc.array(scalar, { minLength: 1, maxLength: 5 }), (ks) => {
          const points = ks.map((k, i) => group.multiply(group.base, k + BigInt(i)));
          let expected = group.zero;
          ks.forEach((k, i) => {
            const term = group.multiply(points[i], k);
            expect(group.equals(group.multiplyPublic(points[i], k), term)).toBe(true);
            expected = group.add(expected, term);
          });
          expect(group.equals(group.multiplySum(points, ks), expected)).toBe(true);
        }),
        { numRuns: 3 },
      );
      expect(group.isZero(group.multiplyPublic(group.base, 0n))).toBe(true);
      expect(group.isZero(group.multiplyPublic(group.base, r))).toBe(true);
      expect(group.equals(group.multiplyPublic(group.base, -1n), group.negate(group.base))).toBe(true);
      expect(group.isZero(group.multiplySum([], []))).toBe(true);
      // Zero scalars and the identity among the terms are allowed.
      expect(group.equals(group.multiplySum([group.base, group.zero, group.base], [0n, 7n, 2n]), group.multiply(group.base, 2n))).toBe(true);
      expectCryptoError(() => group.multiplySum([group.base], []), 'INVALID_ARGUMENT');
    }
  });

  test('hash: deterministic, domain-separated, refuses an empty tag', () => {
    for (const [, group] of groups()) {
      const msg = new TextEncoder().encode('milagro');
      const a = group.hash(msg, 'MILAGRO-TEST-A');
      expect(group.equals(a, group.hash(msg, new TextEncoder().encode('MILAGRO-TEST-A')))).toBe(true);
      expect(group.equals(a, group.hash(msg, 'MILAGRO-TEST-B'))).toBe(false);
      expect(group.isZero(a)).toBe(false);
      expectCryptoError(() => group.hash(msg, ''), 'INVALID_ARGUMENT');
      expectCryptoError(() => group.hash(msg, new Uint8Array(0)), 'INVALID_ARGUMENT');
    }
  });

  test('pairing: bilinear, empty product and infinity terms are 1', () => {
    const { g1, g2 } = backend;
    const a = 0x1234567890abcdefn;
    const P = g1.hash(new Uint8Array([1]), 'MILAGRO-TEST');
    const Q = g2.hash(new Uint8Array([2]), 'MILAGRO-TEST');
    const preparedQ = backend.prepareG2(Q);
    const preparedAQ = backend.prepareG2(g2.multiply(Q, a));
    // e(aP, Q) · e(−P, aQ) = 1
    expect(backend.pairingProductIsOne([[g1.multiply(P, a), preparedQ], [g1.negate(P), preparedAQ]])).toBe(true);
    expect(backend.pairingProductIsOne([[g1.multiply(P, a + 1n), preparedQ], [g1.negate(P), preparedAQ]])).toBe(false);
    expect(bytesToHex(backend.pairingProduct([[g1.multiply(P, a), preparedQ]]))).toBe(
      bytesToHex(backend.pairingProduct([[P, preparedAQ]])),
    );
    // odd number of terms (mcl pairs Miller loops two at a time)
    expect(
      backend.pairingProductIsOne([
        [g1.multiply(P, 2n), preparedQ],
        [g1.multiply(P, a - 2n), preparedQ],
        [g1.negate(P), preparedAQ],
      ]),
    ).toBe(true);
    expect(backend.pairingProductIsOne([])).toBe(true);
    expect(backend.pairingProduct([])).toEqual(GT_ONE);
    expect(backend.pairingProduct([[g1.zero, preparedQ], [P, backend.prepareG2(g2.zero)]])).toEqual(GT_ONE);
    expect(backend.pairingProduct([[P, preparedQ]])).toHaveLength(576);
    expect(backend.pairingProduct([[P, preparedQ]])).not.toEqual(GT_ONE);
  });

  test('a prepared G2 point can be reused across many pairings', () => {
    const { g1, g2 } = backend;
    const prepared = backend.prepareG2(g2.base);
    const preparedNeg = backend.prepareG2(g2.negate(g2.base));
    for (let i = 1n; i <= 3n; i++) {
      const P = g1.multiply(g1.base, i * 7919n);
      expect(backend.pairingProductIsOne([[P, prepared], [P, preparedNeg]])).toBe(true);
    }
  });

  describe('bad input gives a typed error', () => {
    test('wrong lengths', () => {
      for (const [, group] of groups()) {
        for (const length of [0, 1, group.compressedLength - 1, group.compressedLength + 1, 3 * group.compressedLength]) {
          expectCryptoError(() => group.decode(new Uint8Array(length)), 'INVALID_LENGTH');
        }
      }
    });

    test('bad flag bits', () => {
      for (const [, group] of groups()) {
        const good = group.encode(group.multiply(group.base, 5n));
        const goodUncompressed = group.encode(group.multiply(group.base, 5n), { compressed: false });
        const withFirst = (bytes: Uint8Array, first: number): Uint8Array => {
          const copy = bytes.slice();
          copy[0] = first;
          return copy;
        };
        // compressed length without the compression flag
        expectCryptoError(() => group.decode(withFirst(good, good[0]! & 0x7f)), 'INVALID_ENCODING');
        // uncompressed length with the compression flag
        expectCryptoError(() => group.decode(withFirst(goodUncompressed, goodUncompressed[0]! | 0x80)), 'INVALID_ENCODING');
        // sign flag on an uncompressed point
        expectCryptoError(() => group.decode(withFirst(goodUncompressed, goodUncompressed[0]! | 0x20)), 'INVALID_ENCODING');
        // infinity flag with a non-zero coordinate (mcl alone would accept a non-zero last byte)
        const infinity = group.encode(group.zero);
        expectCryptoError(() => group.decode(withFirst(good, good[0]! | 0x40)), 'INVALID_ENCODING');
        const dirtyInfinity = infinity.slice();
        dirtyInfinity[dirtyInfinity.length - 1] = 1;
        expectCryptoError(() => group.decode(dirtyInfinity, { allowInfinity: true }), 'INVALID_ENCODING');
        expectCryptoError(() => group.decode(withFirst(infinity, 0xe0), { allowInfinity: true }), 'INVALID_ENCODING');
        expectCryptoError(() => group.decode(withFirst(infinity, 0xc1), { allowInfinity: true }), 'INVALID_ENCODING');
      }
    });

    test('non-canonical coordinates (x >= p)', () => {
      const p = bls12_381.fields.Fp.ORDER;
      for (const [, group, degree] of groups()) {
        const bytes = new Uint8Array(48 * degree);
        bytes.set(hexToBytes(p.toString(16).padStart(96, '0')), 0);
        bytes[0]! |= 0x80;
        expectCryptoError(() => group.decode(bytes), 'INVALID_ENCODING');
        const all = new Uint8Array(48 * degree).fill(0xff);
        all[0] = 0x9f;
        expectCryptoError(() => group.decode(all), 'INVALID_ENCODING');
      }
    });

    test('points off the curve', () => {
      for (const [, group, degree] of groups()) {
        expectCryptoError(() => group.decode(offCurveEncoding(degree, true)), 'POINT_NOT_ON_CURVE');
        expectCryptoError(() => group.decode(offCurveEncoding(degree, false)), 'POINT_NOT_ON_CURVE');
        // affine (0, 0) without the infinity flag is not the point at infinity
        expectCryptoError(() => group.decode(new Uint8Array(96 * degree)), 'POINT_NOT_ON_CURVE');
      }
    });

    test('points on the curve outside the prime-order subgroup', () => {
      for (const [, group, degree] of groups()) {
        expectCryptoError(() => group.decode(notInSubgroupEncoding(degree, true)), 'POINT_NOT_IN_SUBGROUP');
        expectCryptoError(() => group.decode(notInSubgroupEncoding(degree, false)), 'POINT_NOT_IN_SUBGROUP');
      }
    });

    test('any byte string either fails with CryptoError or re-encodes to itself', () => {
      for (const [, group] of groups()) {
        const L = group.compressedLength;
        const valid = group.encode(group.multiply(group.base, 77n));
        const input = fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 2 * L + 1 }),
          fc.uint8Array({ minLength: L, maxLength: L }),
          fc.uint8Array({ minLength: 2 * L, maxLength: 2 * L }),
          // single bit flips of a valid encoding
          fc.nat({ max: 8 * L - 1 }).map((bit) => {
            const copy = valid.slice();
            copy[bit >> 3]! ^= 1 << (bit & 7);
            return copy;
          }),
        );
        fc.assert(
          fc.property(input, fc.boolean(), (bytes, allowInfinity) => {
            let point: unknown;
            try {
              point = group.decode(bytes, { allowInfinity });
            } catch (err) {
              expect(isCryptoError(err)).toBe(true);
              return;
            }
            expect(group.encode(point, { compressed: bytes.length === L })).toEqual(bytes);
          }),
          { numRuns: 60 },
        );
      }
    });
  });
});
