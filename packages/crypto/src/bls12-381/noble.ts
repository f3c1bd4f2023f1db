import { bls12_381 } from '@noble/curves/bls12-381.js';
import type { WeierstrassPoint, WeierstrassPointCons } from '@noble/curves/abstract/weierstrass.js';
import type { Fp2 as Fp2Element } from '@noble/curves/abstract/tower.js';
import type { BlsPairing } from '@noble/curves/abstract/bls.js';
import { pippenger } from '@noble/curves/abstract/curve.js';
import { CryptoError } from '../errors.js';
import type { Bls12381Backend, GroupOps } from './backend.js';
import { FP_LENGTH, parsePointEncoding, readFp } from './point-encoding.js';
import { dstBytes } from './dst.js';

/** A G1 point of the noble backend. */
export type NobleG1 = WeierstrassPoint<bigint>;
/** A G2 point of the noble backend. */
export type NobleG2 = WeierstrassPoint<Fp2Element>;
/** A G2 point with its Miller-loop line coefficients computed once (see `prepareG2`). */
export interface NoblePreparedG2 {
  readonly point: NobleG2;
  /** Line coefficients from noble's calcPairingPrecomputes; undefined for the point at infinity. */
  readonly lines: ReturnType<BlsPairing['calcPairingPrecomputes']> | undefined;
}

const { Fp, Fp2, Fp12, Fr } = bls12_381.fields;
const HALF_P = (Fp.ORDER - 1n) / 2n;

/** How one group's coordinates are read and how "lexicographically larger" is decided. */
interface CoordinateField<T> {
  readonly degree: 1 | 2;
  /** Reads the field element that starts at `offset`. */
  read(bytes: Uint8Array, offset: number): T;
  sqrt(value: T): T | undefined;
  isLarger(y: T): boolean;
  /** x³ + b */
  rhs(x: T): T;
  eql(a: T, b: T): boolean;
  sqr(a: T): T;
  neg(a: T): T;
}

const G1_B = Fp.create(4n);
const G2_B = Fp2.fromBigTuple([4n, 4n]);

const g1Coordinates: CoordinateField<bigint> = {
  degree: 1,
  read: readFp,
  sqrt(value) {
    // noble's sqrt throws on non-residues; for us that means "no such point".
    try {
      return Fp.sqrt(value);
    } catch {
      return undefined;
    }
  },
  isLarger: (y) => y > HALF_P,
  rhs: (x) => Fp.add(Fp.mul(Fp.sqr(x), x), G1_B),
  eql: (a, b) => Fp.eql(a, b),
  sqr: (a) => Fp.sqr(a),
  neg: (a) => Fp.neg(a),
};

const g2Coordinates: CoordinateField<Fp2Element> = {
  degree: 2,
  // Fp2 is encoded as c1 ‖ c0 (imaginary part first).
  read: (bytes, offset) => Fp2.create({ c0: readFp(bytes, offset + FP_LENGTH), c1: readFp(bytes, offset) }),
  sqrt(value) {
    try {
      return Fp2.sqrt(value);
    } catch {
      return undefined;
    }
  },
  isLarger: (y) => (y.c1 !== 0n ? y.c1 > HALF_P : y.c0 > HALF_P),
  rhs: (x) => Fp2.add(Fp2.mul(Fp2.sqr(x), x), G2_B),
  eql: (a, b) => Fp2.eql(a, b),
  sqr: (a) => Fp2.sqr(a),
  neg: (a) => Fp2.neg(a),
};

function groupOps<T, P extends WeierstrassPoint<T>>(
  Point: WeierstrassPointCons<T>,
  field: CoordinateField<T>,
  hasher: { hashToCurve(msg: Uint8Array, opts?: { DST: Uint8Array }): WeierstrassPoint<T> },
): GroupOps<P> {
  const compressedLength = FP_LENGTH * field.degree;
  return {
    base: Point.BASE as P,
    zero: Point.ZERO as P,
    compressedLength,
    decode(bytes, options) {
      const header = parsePointEncoding(bytes, field.degree, options?.allowInfinity ?? false);
      if (header.infinity) return Point.ZERO as P;
      const x = field.read(bytes, 0);
      let y: T;
      if (header.compressed) {
        const root = field.sqrt(field.rhs(x));
        if (root === undefined) throw new CryptoError('POINT_NOT_ON_CURVE', 'no curve point has this x coordinate');
        y = field.isLarger(root) === header.largerY ? root : field.neg(root);
      } else {
        y = field.read(bytes, compressedLength);
        if (!field.eql(field.sqr(y), field.rhs(x))) {
          throw new CryptoError('POINT_NOT_ON_CURVE', 'point does not satisfy the curve equation');
        }
      }
      const point = Point.fromAffine({ x, y });
      if (!point.isTorsionFree()) {
        throw new CryptoError('POINT_NOT_IN_SUBGROUP', 'point is not in the prime-order subgroup');
      }
      return point as P;
    },
    encode: (point, options) => point.toBytes(options?.compressed ?? true),
    hash(message, dst) {
      if (!(message instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', 'message must be a Uint8Array');
      return hasher.hashToCurve(message, { DST: dstBytes(dst) }) as P;
    },
    add: (a, b) => a.add(b) as P,
    negate: (a) => a.negate() as P,
    multiply(point, scalar) {
      const k = Fr.create(scalar);
      // noble's `multiply` is the constant-time ladder; it refuses 0, which is simply infinity.
      return (k === 0n ? Point.ZERO : point.multiply(k)) as P;
    },
    multiplyPublic: (point, scalar) => point.multiplyUnsafe(Fr.create(scalar)) as P,
    multiplySum(points, scalars) {
      if (points.length !== scalars.length) throw new CryptoError('INVALID_ARGUMENT', 'multiplySum needs one scalar per point');
      if (points.length === 0) return Point.ZERO as P;
      return pippenger(Point, [...points] as WeierstrassPoint<T>[], scalars.map((k) => Fr.create(k))) as P;
    },
    equals: (a, b) => a.equals(b),
    isZero: (a) => a.is0(),
  };
}

/** Miller loop of all pairs (infinity terms contribute 1, as in the algebra), then final exponentiation. */
function pairingProductGt(pairs: ReadonlyArray<readonly [NobleG1, NoblePreparedG2]>) {
  const inputs: Parameters<typeof bls12_381.millerLoopBatch>[0] = [];
  for (const [p, q] of pairs) {
    if (p.is0() || q.lines === undefined) continue;
    const { x, y } = p.toAffine();
    inputs.push([q.lines, x, y]);
  }
  return Fp12.finalExponentiate(bls12_381.millerLoopBatch(inputs));
}

/**
 * The pure-JS backend over `@noble/curves` (audited; runs everywhere). The default.
 *
 * Canonical GT encoding: noble's `Fp12.toBytes`, 576 bytes: the twelve Fp coefficients, each
 * 48 bytes big-endian, in tower order c0.c0.c0, c0.c0.c1, c0.c1.c0, …, c1.c2.c1 for
 * Fp12 = Fp6[w]/(w² − v), Fp6 = Fp2[v]/(v³ − (1 + u)), Fp2 = Fp[u]/(u² + 1) (real part first).
 * The mcl backend converts to exactly this layout.
 */
export const nobleBackend: Bls12381Backend<NobleG1, NobleG2, NoblePreparedG2> = {
  name: 'noble',
  g1: groupOps<bigint, NobleG1>(bls12_381.G1.Point, g1Coordinates, bls12_381.G1),
  g2: groupOps<Fp2Element, NobleG2>(bls12_381.G2.Point, g2Coordinates, bls12_381.G2),
  prepareG2: (point) => ({
    point,
    lines: point.is0() ? undefined : bls12_381.utils.calcPairingPrecomputes(point),
  }),
  pairingProductIsOne: (pairs) => Fp12.eql(pairingProductGt(pairs), Fp12.ONE),
  pairingProduct: (pairs) => Fp12.toBytes(pairingProductGt(pairs)),
};
