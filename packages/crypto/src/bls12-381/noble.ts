import { bls12_381 } from '@noble/curves/bls12-381.js';
import type { WeierstrassPoint } from '@noble/curves/abstract/weierstrass.js';
import type { Fp2 } from '@noble/curves/abstract/tower.js';
import { CryptoError } from '../errors.js';
import type { Bls12381Backend, GroupOps } from './backend.js';

/** A G1 point of the noble backend. */
export type NobleG1 = WeierstrassPoint<bigint>;
/** A G2 point of the noble backend. */
export type NobleG2 = WeierstrassPoint<Fp2>;

const Fr = bls12_381.fields.Fr;
const dstBytes = (dst: string | Uint8Array): Uint8Array =>
  typeof dst === 'string' ? new TextEncoder().encode(dst) : dst;

type PointCons<P> = {
  BASE: P;
  ZERO: P;
  fromBytes(bytes: Uint8Array): P;
};

function groupOps<P extends NobleG1 | NobleG2>(
  Point: PointCons<P>,
  hasher: { hashToCurve(msg: Uint8Array, opts?: { DST: Uint8Array }): unknown },
  compressedLength: number,
): GroupOps<P> {
  return {
    base: Point.BASE,
    zero: Point.ZERO,
    compressedLength,
    decode(bytes, options) {
      if (bytes.length !== compressedLength && bytes.length !== compressedLength * 2) {
        throw new CryptoError('INVALID_LENGTH', `expected ${compressedLength} or ${compressedLength * 2} bytes, got ${bytes.length}`);
      }
      let point: P;
      try {
        point = Point.fromBytes(bytes);
        point.assertValidity();
      } catch (cause) {
        throw new CryptoError('INVALID_ENCODING', 'not a valid BLS12-381 point encoding', { cause });
      }
      if (point.is0() && !options?.allowInfinity) {
        throw new CryptoError('POINT_AT_INFINITY', 'point at infinity is not allowed here');
      }
      return point;
    },
    encode: (point, options) => point.toBytes(options?.compressed ?? true),
    hash: (message, dst) => hasher.hashToCurve(message, { DST: dstBytes(dst) }) as P,
    add: (a, b) => a.add(b as never) as P,
    negate: (a) => a.negate() as P,
    multiply: (point, scalar) => {
      const k = Fr.create(scalar);
      return (k === 0n ? Point.ZERO : point.multiply(k)) as P;
    },
    equals: (a, b) => a.equals(b as never),
    isZero: (a) => a.is0(),
  };
}

/**
 * The pure-JS backend over `@noble/curves` (audited; runs everywhere). The default.
 */
export const nobleBackend: Bls12381Backend<NobleG1, NobleG2, NobleG2> = {
  name: 'noble',
  g1: groupOps<NobleG1>(bls12_381.G1.Point as unknown as PointCons<NobleG1>, bls12_381.G1, 48),
  g2: groupOps<NobleG2>(bls12_381.G2.Point as unknown as PointCons<NobleG2>, bls12_381.G2, 96),
  prepareG2: (point) => point,
  pairingProductIsOne(pairs) {
    const gt = bls12_381.pairingBatch(pairs.map(([g1, g2]) => ({ g1, g2 })));
    return bls12_381.fields.Fp12.eql(gt, bls12_381.fields.Fp12.ONE);
  },
  pairingProduct(pairs) {
    const gt = bls12_381.pairingBatch(pairs.map(([g1, g2]) => ({ g1, g2 })));
    return bls12_381.fields.Fp12.toBytes(gt);
  },
};
