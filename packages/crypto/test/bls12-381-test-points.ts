import { bls12_381 } from '@noble/curves/bls12-381.js';
import type { Fp2 } from '@noble/curves/abstract/tower.js';
import { concatBytes, hexToBytes } from '@noble/hashes/utils.js';

/**
 * Test helpers: malformed but well-formed-looking BLS12-381 encodings (off the curve, or on the
 * curve outside the prime-order subgroup), built with noble's field arithmetic.
 */

const { Fp, Fp2 } = bls12_381.fields;
const HALF_P = (Fp.ORDER - 1n) / 2n;

const fpBytes = (n: bigint): Uint8Array => hexToBytes(n.toString(16).padStart(96, '0'));
const fp2Bytes = (v: Fp2): Uint8Array => concatBytes(fpBytes(v.c1), fpBytes(v.c0));

interface Curve<T> {
  candidate(i: bigint): T;
  rhs(x: T): T;
  sqrt(v: T): T | undefined;
  bytes(v: T): Uint8Array;
  isLarger(y: T): boolean;
  add1(v: T): T;
  isTorsionFree(x: T, y: T): boolean;
}

const trySqrt = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch {
    return undefined;
  }
};

const g1Curve: Curve<bigint> = {
  candidate: (i) => Fp.create(i),
  rhs: (x) => Fp.add(Fp.mul(Fp.sqr(x), x), 4n),
  sqrt: (v) => trySqrt(() => Fp.sqrt(v)),
  bytes: fpBytes,
  isLarger: (y) => y > HALF_P,
  add1: (v) => Fp.add(v, 1n),
  isTorsionFree: (x, y) => bls12_381.G1.Point.fromAffine({ x, y }).isTorsionFree(),
};

const g2Curve: Curve<Fp2> = {
  candidate: (i) => Fp2.fromBigTuple([i, 1n]),
  rhs: (x) => Fp2.add(Fp2.mul(Fp2.sqr(x), x), Fp2.fromBigTuple([4n, 4n])),
  sqrt: (v) => trySqrt(() => Fp2.sqrt(v)),
  bytes: fp2Bytes,
  isLarger: (y) => (y.c1 !== 0n ? y.c1 > HALF_P : y.c0 > HALF_P),
  add1: (v) => Fp2.add(v, Fp2.ONE),
  isTorsionFree: (x, y) => bls12_381.G2.Point.fromAffine({ x, y }).isTorsionFree(),
};

function encode<T>(curve: Curve<T>, x: T, y: T, compressed: boolean): Uint8Array {
  if (!compressed) return concatBytes(curve.bytes(x), curve.bytes(y));
  const out = curve.bytes(x);
  out[0]! |= 0x80 | (curve.isLarger(y) ? 0x20 : 0);
  return out;
}

function offCurve<T>(curve: Curve<T>, compressed: boolean): Uint8Array {
  for (let i = 1n; ; i++) {
    const x = curve.candidate(i);
    const y = curve.sqrt(curve.rhs(x));
    if (compressed && y === undefined) return encode(curve, x, x, true);
    // uncompressed: a real curve point with y nudged off the curve
    if (!compressed && y !== undefined) return encode(curve, x, curve.add1(y), false);
  }
}

function outsideSubgroup<T>(curve: Curve<T>, compressed: boolean): Uint8Array {
  for (let i = 1n; ; i++) {
    const x = curve.candidate(i);
    const y = curve.sqrt(curve.rhs(x));
    // Skipping cofactor clearing: with overwhelming probability the point has a cofactor part.
    if (y !== undefined && !curve.isTorsionFree(x, y)) return encode(curve, x, y, compressed);
  }
}

/** An encoding whose x has no curve point (compressed) or whose (x, y) misses the equation. */
export function offCurveEncoding(degree: 1 | 2, compressed: boolean): Uint8Array {
  return degree === 1 ? offCurve(g1Curve, compressed) : offCurve(g2Curve, compressed);
}

/** An encoding of a genuine curve point that is not in the prime-order subgroup. */
export function notInSubgroupEncoding(degree: 1 | 2, compressed: boolean): Uint8Array {
  return degree === 1 ? outsideSubgroup(g1Curve, compressed) : outsideSubgroup(g2Curve, compressed);
}
