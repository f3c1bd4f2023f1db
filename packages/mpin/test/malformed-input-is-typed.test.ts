/**
 * Proves that bad input gives typed errors (or `malformed` verdicts with the code), never a crash
 * or a wrong answer: fast-check over every decoder of both suites, round trips, and the hard cases
 * (points off the curve, outside the subgroup, at infinity; scalars ≥ r; wrong lengths).
 */
import fc from 'fast-check';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { isCryptoError } from '@milagro/crypto';
import { clientPass1, clientPass2, createChallenge, createServerKey, createSuite, GROUP_ORDER, verifyLogin } from '../src/index.js';
import { identity, registerClient } from './fixtures.js';

const suites = [createSuite(), createSuite({ suite: 'milagro-v3' })];
const CODES = new Set(['INVALID_LENGTH', 'INVALID_ENCODING', 'POINT_NOT_ON_CURVE', 'POINT_NOT_IN_SUBGROUP', 'POINT_AT_INFINITY', 'INVALID_SCALAR']);

function typedOrValue(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!isCryptoError(err) || !CODES.has(err.code)) throw err;
  }
}

/** A G1 point on the curve but outside the prime-order subgroup (noble field maths). */
function g1OutsideSubgroup(): { x: bigint; y: bigint } {
  const Fp = bls12_381.fields.Fp;
  for (let x = 1n; ; x++) {
    try {
      const y = Fp.sqrt(Fp.add(Fp.mul(Fp.sqr(x), x), 4n));
      const point = bls12_381.G1.Point.fromAffine({ x, y });
      if (!point.multiplyUnsafe(GROUP_ORDER - 1n).add(point).is0()) return { x, y };
    } catch {
      // not on the curve: try the next x
    }
  }
}

describe.each(suites.map((s) => [s.name, s] as const))('%s suite decoders', (_name, suite) => {
  test('random bytes of any length decode to a point or a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        typedOrValue(() => suite.decodeG1(bytes));
        typedOrValue(() => suite.decodeScalar(bytes));
      }),
      { numRuns: 150 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: suite.g2Length, maxLength: suite.g2Length }), (bytes) => typedOrValue(() => suite.decodeG2(bytes))),
      { numRuns: 30 },
    );
  });

  test('encode/decode round trips for points and scalars', () => {
    const { g1, g2 } = suite.backend;
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: GROUP_ORDER - 1n }), (k) => {
        const p = g1.multiply(g1.base, k);
        expect(g1.equals(suite.decodeG1(suite.encodeG1(p)), p)).toBe(true);
        expect(suite.decodeScalar(suite.encodeScalar(k))).toBe(k);
      }),
      { numRuns: 10 },
    );
    const q = g2.multiply(g2.base, 12345n);
    expect(g2.equals(suite.decodeG2(suite.encodeG2(q)), q)).toBe(true);
  });

  test('scalars: wrong length, ≥ r', () => {
    expect(() => suite.decodeScalar(new Uint8Array(suite.scalarLength - 1))).toThrow(expect.objectContaining({ code: 'INVALID_LENGTH' }));
    expect(() => suite.decodeScalar(numberToBytesBE(GROUP_ORDER, suite.scalarLength))).toThrow(expect.objectContaining({ code: 'INVALID_SCALAR' }));
    expect(() => suite.encodeScalar(GROUP_ORDER)).toThrow(expect.objectContaining({ code: 'INVALID_SCALAR' }));
  });

  test('a G1 point outside the subgroup is refused', () => {
    const { x, y } = g1OutsideSubgroup();
    const std = new Uint8Array(96);
    std.set(numberToBytesBE(x, 48));
    std.set(numberToBytesBE(y, 48), 48);
    // ZCash compressed form by hand (noble refuses to serialise an invalid point): flag 0x80, sign 0x20.
    const compressed = numberToBytesBE(x, 48);
    compressed[0] = compressed[0]! | 0x80 | (y > (bls12_381.fields.Fp.ORDER - 1n) / 2n ? 0x20 : 0);
    const encoded = suite.name === 'modern' ? compressed : Uint8Array.of(4, ...std);
    expect(() => suite.decodeG1(encoded)).toThrow(expect.objectContaining({ code: expect.stringMatching(/POINT_NOT_IN_SUBGROUP|INVALID_ENCODING/) }));
  });
});

test('the point at infinity is refused; Milagro compressed 02/03 input is accepted', () => {
  const modern = suites[0]!;
  const infinity = new Uint8Array(48);
  infinity[0] = 0xc0;
  expect(() => modern.decodeG1(infinity)).toThrow(expect.objectContaining({ code: 'POINT_AT_INFINITY' }));
  const v3 = suites[1]!;
  const p = v3.backend.g1.multiply(v3.backend.g1.base, 99n);
  const full = v3.encodeG1(p);
  const yOdd = (full[96]! & 1) === 1;
  const compressed = Uint8Array.of(yOdd ? 3 : 2, ...full.subarray(1, 49));
  expect(v3.backend.g1.equals(v3.decodeG1(compressed), p)).toBe(true);
  expect(() => v3.decodeG1(Uint8Array.of(yOdd ? 2 : 3, ...full.subarray(1, 49)))).not.toThrow(); // the other root: −P
  expect(() => v3.decodeG1(Uint8Array.of(5, ...full.subarray(1)))).toThrow(expect.objectContaining({ code: 'INVALID_ENCODING' }));
});

test('verifyLogin reports malformed fields with their code and never throws', () => {
  const suite = suites[0]!;
  const realm = registerClient(suite, [{ pin: '1111' }]);
  const { message, state } = clientPass1(suite, { identity, token: realm.token, factors: [{ pin: '1111' }] });
  const { challenge, keep } = createChallenge(suite);
  const good = { identity, ...message, v: clientPass2(state, challenge).v, y: keep.y };
  const infinity = new Uint8Array(48);
  infinity[0] = 0xc0;
  expect(verifyLogin(realm.key, { ...good, u: infinity })).toEqual({ ok: false, reason: 'malformed', field: 'u', code: 'POINT_AT_INFINITY' });
  expect(verifyLogin(realm.key, { ...good, v: good.v.subarray(1) })).toEqual({ ok: false, reason: 'malformed', field: 'v', code: 'INVALID_LENGTH' });
  expect(verifyLogin(realm.key, { ...good, y: numberToBytesBE(GROUP_ORDER, 32) })).toEqual({ ok: false, reason: 'malformed', field: 'y', code: 'INVALID_SCALAR' });
  expect(verifyLogin(realm.key, { ...good, day: 0 })).toEqual({ ok: false, reason: 'malformed', field: 'day', code: 'INVALID_ARGUMENT' });
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 48, maxLength: 48 }), (u) => {
      const verdict = verifyLogin(realm.key, { ...good, u });
      expect(verdict.ok).toBe(false);
    }),
    { numRuns: 5 },
  );
  expect(() => createServerKey(suite, new Uint8Array(96))).toThrow(expect.objectContaining({ code: expect.any(String) }));
});
