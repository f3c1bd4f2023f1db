import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Bls12381Backend } from '../src/bls12-381/backend.js';
import { createMclBackend, type MclG1 } from '../src/bls12-381/mcl.js';
import { isCryptoError } from '../src/errors.js';

/**
 * The mcl backend tests G1 membership with Scott's endomorphism test (φ(P) = −z²·P) instead of
 * mcl's own check. Here its verdict, through `g1.decode`, is compared with the definition,
 * [r]·P = O computed by plain double-and-add (no endomorphism, no GLV), on points in G1 and on
 * curve points outside it: random curve points without cofactor clearing, the points of order 3
 * (0, ±2), points of the torsion part of each prime order dividing the cofactor
 * h1 = 3 · 11² · 10177² · 859267² · 52437899² (the order of E(Fp) is h1·r), and G1 points plus
 * such a torsion point.
 */
type Point = InstanceType<typeof bls12_381.G1.Point>;
const G1 = bls12_381.G1.Point;
const { Fp } = bls12_381.fields;
const r = bls12_381.fields.Fr.ORDER;
const H1 = 0x396c8c005555e1568c00aaab0000aaabn;
/** |z − 1| = 3 · 11 · 10177 · 859267 · 52437899: E(Fp) ≅ Z_(|z−1|/3) ⊕ Z_(|z−1|·r), so [|z − 1|·r] kills every point. */
const EXPONENT_PART = 0xd201000000010001n;
const TORSION_PRIMES = [3n, 11n, 10177n, 859267n, 52437899n];

/** k·P by double-and-add over the bits of k: valid for every curve point, in G1 or not. */
function naiveMultiply(point: Point, k: bigint): Point {
  let acc = G1.ZERO;
  for (const bit of k.toString(2)) {
    acc = acc.double();
    if (bit === '1') acc = acc.add(point);
  }
  return acc;
}

const inG1ByDefinition = (point: Point): boolean => naiveMultiply(point, r).is0();

/** The curve point with the smallest x ≥ start (y is either root). */
function curvePointFrom(start: bigint): Point {
  for (let x = start; ; x++) {
    const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), 4n);
    try {
      const y = Fp.sqrt(rhs);
      return G1.fromAffine({ x: Fp.create(x), y });
    } catch {
      // no point with this x
    }
  }
}

/** Uncompressed and compressed encodings of a curve point, built from its affine coordinates. */
function encodings(point: Point): Uint8Array[] {
  const { x, y } = point.toAffine();
  const hex = (n: bigint): string => n.toString(16).padStart(96, '0');
  const uncompressed = Uint8Array.from(Buffer.from(hex(x) + hex(y), 'hex'));
  const compressed = Uint8Array.from(Buffer.from(hex(x), 'hex'));
  compressed[0]! |= 0x80 | (y > (Fp.ORDER - 1n) / 2n ? 0x20 : 0);
  return [compressed, uncompressed];
}

describe('mcl backend: G1 subgroup test (Scott) agrees with [r]·P = O', () => {
  let mcl: Bls12381Backend<MclG1, unknown, unknown>;
  beforeAll(async () => {
    mcl = await createMclBackend();
  });

  /** Decode every encoding of `point` with the mcl backend and compare with the definition. */
  function expectVerdictMatches(point: Point): void {
    const expected = inG1ByDefinition(point);
    for (const bytes of encodings(point)) {
      let verdict: string;
      try {
        const decoded = mcl.g1.decode(bytes);
        expect(bytesToHex(mcl.g1.encode(decoded))).toBe(bytesToHex(point.toBytes(true)));
        verdict = 'in G1';
      } catch (err) {
        if (!isCryptoError(err)) throw err;
        verdict = err.code;
      }
      expect([bytesToHex(bytes), verdict]).toEqual([bytesToHex(bytes), expected ? 'in G1' : 'POINT_NOT_IN_SUBGROUP']);
    }
  }

  test('random curve points without cofactor clearing are refused, and are outside G1', () => {
    const seeds = [1n, 7n, 2n ** 64n, 2n ** 200n + 12345n, Fp.ORDER - 1000n, 0xdeadbeefn ** 9n % Fp.ORDER];
    for (const seed of seeds) {
      const point = curvePointFrom(seed);
      expect(inG1ByDefinition(point)).toBe(false);
      expectVerdictMatches(point);
    }
  });

  test('G1 points are accepted: the generator, multiples of it, hashes, cleared random points', () => {
    const points = [
      G1.BASE,
      G1.BASE.multiply(2n),
      G1.BASE.multiply(r - 1n),
      G1.BASE.multiply(0x1234567890abcdefn ** 3n),
      bls12_381.G1.hashToCurve(new Uint8Array([1, 2, 3]), { DST: 'TEST' }) as unknown as Point,
      naiveMultiply(curvePointFrom(99n), H1),
    ];
    for (const point of points) {
      expect(inG1ByDefinition(point)).toBe(true);
      expectVerdictMatches(point);
    }
  });

  test('the points of order 3, (0, ±2), are refused', () => {
    for (const y of [2n, Fp.neg(2n)]) {
      const point = G1.fromAffine({ x: 0n, y });
      expect(naiveMultiply(point, 3n).is0()).toBe(true);
      expectVerdictMatches(point);
    }
  });

  test('torsion points of each prime order dividing the cofactor, alone and added to G1 points, are refused', () => {
    let found = 0;
    for (const [i, prime] of TORSION_PRIMES.entries()) {
      for (let seed = 3n + BigInt(i) * 1000n; seed < 3n + BigInt(i) * 1000n + 40n; seed += 1n) {
        // [r·|z − 1|/ℓ]·Q has order ℓ or 1.
        const torsion = naiveMultiply(curvePointFrom(seed), (r * EXPONENT_PART) / prime);
        if (torsion.is0()) continue;
        expect(naiveMultiply(torsion, prime).is0()).toBe(true);
        expectVerdictMatches(torsion);
        expectVerdictMatches(G1.BASE.multiply(seed * 31337n).add(torsion));
        found++;
        break;
      }
    }
    expect(found).toBe(TORSION_PRIMES.length);
  });

  test('a point with every torsion component ([r]·Q for a random curve point Q) is refused', () => {
    const torsion = naiveMultiply(curvePointFrom(5n), r);
    expect(torsion.is0()).toBe(false);
    expectVerdictMatches(torsion);
    expectVerdictMatches(torsion.add(G1.BASE));
  });
});
