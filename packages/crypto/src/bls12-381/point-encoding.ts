import { bls12_381 } from '@noble/curves/bls12-381.js';
import { CryptoError } from '../errors.js';

/**
 * The ZCash/IETF point encoding of BLS12-381 (draft-irtf-cfrg-pairing-friendly-curves-11 Appendix C,
 * as used by Ethereum, Zcash, noble and mcl's "ETH serialization"), checked up to the point where
 * curve arithmetic is needed. Both backends run every input through {@link parsePointEncoding}
 * first, so they reject malformed bytes identically and with the same error code; only the
 * on-curve and subgroup checks are left to each backend's own maths.
 *
 * Layout: big-endian coordinates (an Fp2 element as c1 ‖ c0); the top three bits of the first
 * byte are flags: 0x80 compressed, 0x40 infinity, 0x20 "y is the lexicographically larger root"
 * (compressed form only).
 *
 * Internal to the `bls12-381` folder.
 */

const P = bls12_381.fields.Fp.ORDER;
/** Bytes of one Fp element. */
export const FP_LENGTH = 48;
const FLAG_COMPRESSED = 0x80;
const FLAG_INFINITY = 0x40;
const FLAG_LARGER_Y = 0x20;
const FLAG_MASK = 0xe0;

/** What the flag bits of a well-formed encoding say. */
export interface PointEncodingHeader {
  /** True for the x-only form (48 bytes in G1, 96 in G2). */
  readonly compressed: boolean;
  /** True when the encoding is the (canonical) point at infinity. */
  readonly infinity: boolean;
  /** Compressed form only: y is the lexicographically larger of the two roots. */
  readonly largerY: boolean;
}

/** p big-endian, FP_LENGTH bytes. */
const P_BYTES = Uint8Array.from(P.toString(16).padStart(2 * FP_LENGTH, '0').match(/../g) ?? [], (h) => parseInt(h, 16));

/**
 * Whether the big-endian Fp element at `offset` is below p, compared byte by byte (no bigint on
 * the decoding path). The flags live in the first element's top three bits: masked off there.
 */
function belowModulus(bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < FP_LENGTH; i++) {
    let b = bytes[offset + i] as number;
    if (offset === 0 && i === 0) b &= ~FLAG_MASK & 0xff;
    const m = P_BYTES[i] as number;
    if (b !== m) return b < m;
  }
  return false; // equal to p
}

function bytesToBigint(bytes: Uint8Array, start: number, end: number): bigint {
  let n = 0n;
  for (let i = start; i < end; i++) n = (n << 8n) | BigInt(bytes[i] as number);
  return n;
}

/**
 * Check length, flags, the canonical infinity encoding, and that every coordinate is < p.
 *
 * @param bytes - the candidate encoding.
 * @param degree - 1 for G1 (coordinates in Fp), 2 for G2 (coordinates in Fp2).
 * @param allowInfinity - whether the point at infinity is acceptable here.
 * @throws CryptoError `INVALID_LENGTH`, `INVALID_ENCODING` or `POINT_AT_INFINITY`.
 */
export function parsePointEncoding(bytes: Uint8Array, degree: 1 | 2, allowInfinity: boolean): PointEncodingHeader {
  if (!(bytes instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', 'point encoding must be a Uint8Array');
  const compressedLength = FP_LENGTH * degree;
  if (bytes.length !== compressedLength && bytes.length !== 2 * compressedLength) {
    throw new CryptoError(
      'INVALID_LENGTH',
      `expected ${compressedLength} or ${2 * compressedLength} bytes, got ${bytes.length}`,
    );
  }
  const compressed = bytes.length === compressedLength;
  const first = bytes[0] as number;
  if (((first & FLAG_COMPRESSED) !== 0) !== compressed) {
    throw new CryptoError('INVALID_ENCODING', 'compression flag does not match the encoding length');
  }
  const largerY = (first & FLAG_LARGER_Y) !== 0;
  if ((first & FLAG_INFINITY) !== 0) {
    // Exactly one encoding of infinity: flags C|I (or I alone when uncompressed), all else zero.
    let rest = first & ~FLAG_MASK;
    for (let i = 1; i < bytes.length; i++) rest |= bytes[i] as number;
    if (largerY || rest !== 0) throw new CryptoError('INVALID_ENCODING', 'non-canonical encoding of the point at infinity');
    if (!allowInfinity) throw new CryptoError('POINT_AT_INFINITY', 'point at infinity is not allowed here');
    return { compressed, infinity: true, largerY: false };
  }
  if (largerY && !compressed) throw new CryptoError('INVALID_ENCODING', 'sign flag set on an uncompressed encoding');
  for (let offset = 0; offset < bytes.length; offset += FP_LENGTH) {
    if (!belowModulus(bytes, offset)) throw new CryptoError('INVALID_ENCODING', 'coordinate is not below the field modulus');
  }
  return { compressed, infinity: false, largerY };
}

/** Reads the Fp element at `offset` (flags masked off); only after {@link parsePointEncoding}. */
export function readFp(bytes: Uint8Array, offset: number): bigint {
  const limb = bytesToBigint(bytes, offset, offset + FP_LENGTH);
  return offset === 0 ? limb & ((1n << 381n) - 1n) : limb;
}
