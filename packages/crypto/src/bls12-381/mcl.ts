import { bls12_381 } from '@noble/curves/bls12-381.js';
import type * as McLibNamespace from 'mcl-wasm';
import type { G1 as MclG1Class, G2 as MclG2Class, GT as MclGTClass, Fr as MclFrClass } from 'mcl-wasm';
import { CryptoError } from '../errors.js';
import type { Bls12381Backend, GroupOps } from './backend.js';
import { dstBytes } from './dst.js';
import { FP_LENGTH, parsePointEncoding } from './point-encoding.js';
import { SCALAR_ORDER, encodeScalar } from './scalar.js';

/**
 * The `mcl-wasm` backend: the same contract as `nobleBackend`, about 8× faster pairings, for
 * servers that want throughput. Encodings, hashes and GT bytes are identical to noble's
 * (tested bit for bit), so data produced by one backend is consumed by the other.
 *
 * mcl-wasm holds ONE global wasm instance per process. This backend initialises it for BLS12-381
 * with ETH (ZCash/IETF) serialization, RFC 9380 map-to-curve (`IRTF` mode), and subgroup
 * checks on deserialisation (G1 points are decoded with that check switched off for the call and
 * checked with our faster test instead, see `g1SubgroupTest`); other code in the same process
 * must not re-initialise mcl-wasm or change those settings.
 *
 * Besides mcl-wasm's typed API we use a handful of functions of its emscripten module (`mod`)
 * that the typed API does not wrap: hashing with a per-call DST, affine (uncompressed)
 * (de)serialisation, constant-time multiplication, and Miller loops over precomputed lines kept
 * in JS memory. They are checked at start-up; if one is missing, `createMclBackend` fails with
 * `BACKEND_UNAVAILABLE` rather than misbehaving.
 */

/** A G1 point of the mcl backend (an `mcl-wasm` `G1`). */
export type MclG1 = MclG1Class;
/** A G2 point of the mcl backend (an `mcl-wasm` `G2`). */
export type MclG2 = MclG2Class;
/** A G2 point with its Miller-loop line coefficients (mcl's `precomputeG2`), kept in JS memory. */
export interface MclPreparedG2 {
  readonly point: MclG2;
  /** Undefined for the point at infinity (its pairings are 1). */
  readonly lines: Uint8Array | undefined;
}

type McLib = typeof McLibNamespace;
/** The parts of mcl-wasm's emscripten module we call directly (pointers are wasm addresses). */
interface McModule {
  readonly HEAP8: Int8Array;
  stackSave(): number;
  stackAlloc(size: number): number;
  stackRestore(top: number): void;
  copyFromHeap32(target: Uint32Array, pos: number): void;
  sallocCopy(source: Uint32Array): number;
  callSetInput(func: unknown, target: Uint32Array, buf: Uint8Array, ioMode: number): void;
  callGetStr(func: unknown, source: Uint32Array, ioMode: number, returnAsStr: false): Uint8Array;
  callOp2(func: unknown, z: Uint32Array, x: Uint32Array, y: Uint32Array): unknown;
  _malloc(size: number): number;
  _free(pos: number): void;
  _mclBnG1_hashAndMapToWithDst(p: number, msg: number, msgLen: number, dst: number, dstLen: number): number;
  _mclBnG2_hashAndMapToWithDst(p: number, msg: number, msgLen: number, dst: number, dstLen: number): number;
  _mclBnG1_setStr(p: number, buf: number, len: number, ioMode: number): number;
  _mclBnG2_setStr(p: number, buf: number, len: number, ioMode: number): number;
  _mclBnG1_getStr(buf: number, max: number, p: number, ioMode: number): number;
  _mclBnG2_getStr(buf: number, max: number, p: number, ioMode: number): number;
  _mclBnG1_mulCT(z: number, x: number, y: number): void;
  _mclBnG2_mulCT(z: number, x: number, y: number): void;
  _mclBn_getUint64NumToPrecompute(): number;
  _mclBn_precomputeG2(lines: number, q: number): void;
  _mclBn_precomputedMillerLoop(e: number, p: number, lines: number): void;
  _mclBn_precomputedMillerLoop2(e: number, p1: number, lines1: number, p2: number, lines2: number): void;
  _mclBnGT_mul(z: number, x: number, y: number): void;
  _mclBnGT_setInt32(e: number, v: number): number;
  _mclBnGT_isOne(e: number): number;
  _mclBn_finalExp(y: number, x: number): void;
  _mclBnG1_dbl(y: number, x: number): void;
  _mclBnG1_add(z: number, x: number, y: number): void;
  _mclBnG1_isZero(x: number): number;
  _mclBnFp_mul(z: number, x: number, y: number): void;
}
const REQUIRED_FUNCTIONS = [
  '_mclBnG1_hashAndMapToWithDst', '_mclBnG2_hashAndMapToWithDst', '_mclBnG1_setStr', '_mclBnG2_setStr',
  '_mclBnG1_getStr', '_mclBnG2_getStr', '_mclBnG1_mulCT', '_mclBnG2_mulCT', '_mclBn_getUint64NumToPrecompute',
  '_mclBn_precomputeG2', '_mclBn_precomputedMillerLoop', '_mclBn_precomputedMillerLoop2', '_mclBnGT_mul',
  '_mclBnGT_setInt32', '_mclBnGT_isOne', '_mclBn_finalExp', '_mclBnG1_dbl', '_mclBnG1_add', '_mclBnG1_isZero',
  '_mclBnFp_mul', '_malloc', '_free', 'stackSave', 'stackAlloc',
  'stackRestore', 'copyFromHeap32', 'sallocCopy', 'callSetInput', 'callGetStr', 'callOp2',
] as const;

/** mcl's `IoEcAffineSerialize`: x ‖ y, each coordinate big-endian in ETH mode, no flags. */
const IO_EC_AFFINE_SERIALIZE = 4096;

/**
 * β, the cube root of unity in Fp for which φ(x, y) = (β·x, y) acts on G1 as multiplication by
 * −z² (the `Beta` of EIP-2537's fast subgroup checks).
 */
const G1_BETA = '793479390729215512621379701633421447060886740281060493010456487427281649075476305620758731620350';
/** |z|, the BLS12-381 seed (z = −0xd201000000010000), as the bits after its leading one. */
const SEED_BITS = Array.from(0xd201000000010000n.toString(2).slice(1), (bit) => bit === '1');

/** The raw words of an mcl value (mcl-wasm keeps every value as a Uint32Array `a_`). */
const words = (value: MclG1 | MclG2 | MclGTClass | MclFrClass): Uint32Array => (value as unknown as { a_: Uint32Array }).a_;

let backendPromise: Promise<Bls12381Backend<MclG1, MclG2, MclPreparedG2>> | undefined;

/**
 * Load mcl-wasm (once per process; later calls return the same backend) and return the mcl
 * backend.
 * @throws CryptoError `BACKEND_UNAVAILABLE` if mcl-wasm cannot be loaded or lacks a needed function.
 */
export function createMclBackend(): Promise<Bls12381Backend<MclG1, MclG2, MclPreparedG2>> {
  backendPromise ??= loadMclBackend().catch((cause: unknown) => {
    backendPromise = undefined; // allow a retry after a transient failure
    if (cause instanceof CryptoError) throw cause;
    throw new CryptoError('BACKEND_UNAVAILABLE', 'mcl-wasm could not be loaded', { cause });
  });
  return backendPromise;
}

async function loadMclBackend(): Promise<Bls12381Backend<MclG1, MclG2, MclPreparedG2>> {
  const imported = (await import('mcl-wasm')) as McLib & { default?: McLib };
  // ESM gets a namespace whose `default` is the live CommonJS exports object; `mod` is only set
  // by `init`, so it must be read from the live object, not from a snapshot of named exports.
  const mcl: McLib = imported.default ?? imported;
  await mcl.init(mcl.BLS12_381);
  const mod = (mcl as unknown as { mod: McModule }).mod;
  for (const name of REQUIRED_FUNCTIONS) {
    if (typeof (mod as unknown as Record<string, unknown>)[name] !== 'function') {
      throw new CryptoError('BACKEND_UNAVAILABLE', `mcl-wasm lacks ${name}`);
    }
  }
  mcl.setETHserialization(true);
  mcl.setMapToMode(mcl.IRTF);
  mcl.verifyOrderG1(true);
  mcl.verifyOrderG2(true);
  return buildBackend(mcl, mod);
}

function buildBackend(mcl: McLib, mod: McModule): Bls12381Backend<MclG1, MclG2, MclPreparedG2> {
  const linesLength = mod._mclBn_getUint64NumToPrecompute() * 8;
  // Two wasm-heap slots the precomputed lines are copied into for each Miller loop; allocated
  // once for the life of the process, so nothing per-pairing needs freeing.
  const lineSlots = [mod._malloc(linesLength), mod._malloc(linesLength)] as const;
  const gtLength = words(new mcl.GT()).length * 4;

  const frOf = (scalar: bigint): MclFrClass => {
    const fr = new mcl.Fr();
    let k = scalar % SCALAR_ORDER;
    if (k < 0n) k += SCALAR_ORDER;
    fr.deserialize(encodeScalar(k));
    return fr;
  };

  interface GroupNatives<P> {
    readonly Point: new () => P;
    readonly degree: 1 | 2;
    readonly verifyOrder: (on: boolean) => void;
    readonly hashWithDst: McModule['_mclBnG1_hashAndMapToWithDst'];
    readonly setStr: McModule['_mclBnG1_setStr'];
    readonly getStr: McModule['_mclBnG1_getStr'];
    readonly mulCT: McModule['_mclBnG1_mulCT'];
    readonly baseBytes: Uint8Array;
    /**
     * Our own subgroup test, run after mcl has decoded the point with its order check off; when
     * absent, mcl's check on deserialisation (`verifyOrder`) is used.
     */
    readonly inSubgroup?: (point: P) => boolean;
  }

  function groupOps<P extends MclG1 | MclG2>(n: GroupNatives<P>): GroupOps<P> {
    const compressedLength = FP_LENGTH * n.degree;
    const load = (point: P, bytes: Uint8Array, compressed: boolean): void => {
      if (compressed) point.deserialize(bytes);
      else mod.callSetInput(n.setStr, words(point), bytes, IO_EC_AFFINE_SERIALIZE);
    };
    const base = new n.Point();
    base.deserialize(n.baseBytes);
    return {
      base,
      zero: new n.Point(),
      compressedLength,
      decode(bytes, options) {
        const header = parsePointEncoding(bytes, n.degree, options?.allowInfinity ?? false);
        const point = new n.Point();
        if (header.infinity) return point;
        if (n.inSubgroup) {
          n.verifyOrder(false);
          try {
            load(point, bytes, header.compressed);
          } catch {
            // Flags and ranges were checked above, so mcl rejected the point itself.
            throw new CryptoError('POINT_NOT_ON_CURVE', 'point is not on the curve');
          } finally {
            n.verifyOrder(true);
          }
          if (point.isZero()) throw new CryptoError('POINT_NOT_ON_CURVE', 'point is not on the curve');
          if (!n.inSubgroup(point)) throw new CryptoError('POINT_NOT_IN_SUBGROUP', 'point is not in the prime-order subgroup');
          return point;
        }
        try {
          load(point, bytes, header.compressed);
        } catch {
          // Flags and ranges were checked above, so mcl rejected the point itself. Tell "not on
          // the curve" from "not in the subgroup" by retrying without the order check (rare path).
          n.verifyOrder(false);
          try {
            load(new n.Point(), bytes, header.compressed);
          } catch {
            throw new CryptoError('POINT_NOT_ON_CURVE', 'point is not on the curve');
          } finally {
            n.verifyOrder(true);
          }
          throw new CryptoError('POINT_NOT_IN_SUBGROUP', 'point is not in the prime-order subgroup');
        }
        // mcl reads affine (0, 0) as infinity; only the flagged encoding may mean infinity.
        if (point.isZero()) throw new CryptoError('POINT_NOT_ON_CURVE', 'point is not on the curve');
        return point;
      },
      encode(point, options) {
        if (options?.compressed ?? true) return point.serialize();
        const out = new Uint8Array(2 * compressedLength);
        if (point.isZero()) {
          out[0] = 0x40;
          return out;
        }
        out.set(mod.callGetStr(n.getStr, words(point), IO_EC_AFFINE_SERIALIZE, false));
        return out;
      },
      hash(message, dst) {
        if (!(message instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', 'message must be a Uint8Array');
        const tag = dstBytes(dst);
        const point = new n.Point();
        // Message and tag go to the heap (they may be larger than the wasm stack); the result
        // is written to the stack and copied out.
        const buf = mod._malloc(message.length + tag.length + 1);
        const top = mod.stackSave();
        try {
          const heap = mod.HEAP8;
          heap.set(message, buf);
          heap.set(tag, buf + message.length);
          const target = mod.stackAlloc(words(point).length * 4);
          if (n.hashWithDst(target, buf, message.length, buf + message.length, tag.length) !== 0) {
            throw new CryptoError('INVALID_ARGUMENT', 'mcl rejected the hash-to-curve input');
          }
          mod.copyFromHeap32(words(point), target);
        } finally {
          mod.stackRestore(top);
          mod._free(buf);
        }
        return point;
      },
      add: (a, b) => mcl.add(a, b),
      negate: (a) => mcl.neg(a),
      multiply(point, scalar) {
        const result = new n.Point();
        if (point.isZero()) return result;
        const k = frOf(scalar);
        if (k.isZero()) return result;
        mod.callOp2(n.mulCT, words(result), words(point), words(k));
        return result;
      },
      multiplyPublic: (point, scalar) => mcl.mul(point as MclG1, frOf(scalar)) as unknown as P,
      multiplySum(points, scalars) {
        if (points.length !== scalars.length) throw new CryptoError('INVALID_ARGUMENT', 'multiplySum needs one scalar per point');
        if (points.length === 0) return new n.Point();
        return mcl.mulVec(points as P[], scalars.map(frOf)) as P;
      },
      equals: (a, b) => (a as MclG1).isEqual(b as MclG1),
      isZero: (a) => a.isZero(),
    };
  }

  const g1 = groupOps<MclG1>({
    inSubgroup: g1SubgroupTest(mcl, mod),
    Point: mcl.G1,
    degree: 1,
    verifyOrder: mcl.verifyOrderG1,
    hashWithDst: mod._mclBnG1_hashAndMapToWithDst,
    setStr: mod._mclBnG1_setStr,
    getStr: mod._mclBnG1_getStr,
    mulCT: mod._mclBnG1_mulCT,
    baseBytes: bls12_381.G1.Point.BASE.toBytes(),
  });
  const g2 = groupOps<MclG2>({
    Point: mcl.G2,
    degree: 2,
    verifyOrder: mcl.verifyOrderG2,
    hashWithDst: mod._mclBnG2_hashAndMapToWithDst,
    setStr: mod._mclBnG2_setStr,
    getStr: mod._mclBnG2_getStr,
    mulCT: mod._mclBnG2_mulCT,
    baseBytes: bls12_381.G2.Point.BASE.toBytes(),
  });

  function prepareG2(point: MclG2): MclPreparedG2 {
    if (point.isZero()) return { point, lines: undefined };
    const top = mod.stackSave();
    try {
      const q = mod.sallocCopy(words(point));
      mod._mclBn_precomputeG2(lineSlots[0], q);
      return { point, lines: new Uint8Array(mod.HEAP8.buffer, lineSlots[0], linesLength).slice() };
    } finally {
      mod.stackRestore(top);
    }
  }

  /** Runs the product of Miller loops and the final exponentiation; calls `read` with the GT address. */
  function withPairingProduct<R>(pairs: ReadonlyArray<readonly [MclG1, MclPreparedG2]>, read: (gt: number) => R): R {
    const live = pairs.filter(([p, q]) => q.lines !== undefined && !p.isZero());
    const top = mod.stackSave();
    try {
      const acc = mod.stackAlloc(gtLength);
      const term = mod.stackAlloc(gtLength);
      mod._mclBnGT_setInt32(acc, 1);
      for (let i = 0; i < live.length; i += 2) {
        const [p1, q1] = live[i] as readonly [MclG1, MclPreparedG2];
        const heap = new Uint8Array(mod.HEAP8.buffer);
        heap.set(q1.lines as Uint8Array, lineSlots[0]);
        const p1Pos = mod.sallocCopy(words(p1));
        const second = live[i + 1];
        if (second) {
          heap.set(second[1].lines as Uint8Array, lineSlots[1]);
          const p2Pos = mod.sallocCopy(words(second[0]));
          mod._mclBn_precomputedMillerLoop2(term, p1Pos, lineSlots[0], p2Pos, lineSlots[1]);
        } else {
          mod._mclBn_precomputedMillerLoop(term, p1Pos, lineSlots[0]);
        }
        mod._mclBnGT_mul(acc, acc, term);
      }
      mod._mclBn_finalExp(acc, acc);
      return read(acc);
    } finally {
      mod.stackRestore(top);
    }
  }

  return {
    name: 'mcl',
    g1,
    g2,
    prepareG2,
    pairingProductIsOne: (pairs) => withPairingProduct(pairs, (gt) => mod._mclBnGT_isOne(gt) === 1),
    pairingProduct: (pairs) =>
      withPairingProduct(pairs, (gt) => {
        const value = new mcl.GT();
        mod.copyFromHeap32(words(value), gt);
        return toCanonicalGt(value.serialize());
      }),
  };
}

/**
 * G1 membership by Scott's endomorphism test: P ∈ G1 iff φ(P) = −z²·P, with φ(x, y) = (β·x, y)
 * (M. Scott, "A note on group membership tests for G1, G2 and GT on BLS pairing-friendly curves",
 * IACR ePrint 2021/1130; the G1 test of EIP-2537, "Fast subgroup checks"). The note shows that no
 * point of E(Fp) outside G1 passes it on BLS12-381; `bls12-381-mcl-g1-subgroup.test.ts` checks it
 * against the naive [r]·P on random and crafted points.
 *
 * mcl's own check on deserialisation is Bowe's test (IACR ePrint 2019/814), which multiplies by
 * the 126-bit (z² − 1)/3 with a generic windowed multiplication; here z²·P = |z|·(|z|·P) follows
 * the addition chain of |z| (63 doublings and 5 additions, twice), which costs about 0.06 ms
 * less per point in wasm. mcl's `mul` must not be used for it: its GLV split assumes the point
 * is already in G1. The working points live in a wasm-heap area allocated once per process.
 */
function g1SubgroupTest(mcl: McLib, mod: McModule): (point: MclG1) => boolean {
  const pointBytes = words(new mcl.G1()).length * 4;
  const beta = new mcl.Fp();
  beta.setStr(G1_BETA, 10);
  const area = mod._malloc(3 * pointBytes + words(beta).length * 4);
  const [p, t, w, b] = [area, area + pointBytes, area + 2 * pointBytes, area + 3 * pointBytes];
  new Uint32Array(mod.HEAP8.buffer, b, words(beta).length).set(words(beta));
  /** dst = |z|·src (dst ≠ src). */
  const timesSeed = (dst: number, src: number): void => {
    mod.HEAP8.copyWithin(dst, src, src + pointBytes);
    for (const bit of SEED_BITS) {
      mod._mclBnG1_dbl(dst, dst);
      if (bit) mod._mclBnG1_add(dst, dst, src);
    }
  };
  const test = (point: MclG1): boolean => {
    new Uint32Array(mod.HEAP8.buffer, p, pointBytes / 4).set(words(point));
    timesSeed(t, p);
    timesSeed(w, t); // w = z²·P
    // φ(P) in place of P: X·β (x is X/Z² or X/Z in mcl's coordinates, so scaling X scales x).
    mod._mclBnFp_mul(p, p, b);
    mod._mclBnG1_add(w, w, p);
    return mod._mclBnG1_isZero(w) === 1;
  };
  const generator = new mcl.G1();
  generator.deserialize(bls12_381.G1.Point.BASE.toBytes());
  if (!test(generator)) throw new CryptoError('BACKEND_UNAVAILABLE', 'mcl-wasm: the G1 subgroup test fails on the generator');
  return test;
}

/**
 * mcl's ETH-mode GT serialisation writes each Fp2 coefficient imaginary part first (c1 ‖ c0);
 * the canonical layout (noble's `Fp12.toBytes`) is real part first. Same tower, so swapping the
 * two halves of each 96-byte Fp2 converts one into the other.
 */
function toCanonicalGt(mclBytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(mclBytes.length);
  for (let offset = 0; offset < mclBytes.length; offset += 2 * FP_LENGTH) {
    out.set(mclBytes.subarray(offset + FP_LENGTH, offset + 2 * FP_LENGTH), offset);
    out.set(mclBytes.subarray(offset, offset + FP_LENGTH), offset + FP_LENGTH);
  }
  return out;
}
