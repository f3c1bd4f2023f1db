/**
 * The codec of Apache Milagro's C library (crypto-c v3, `mpin.c.in` / `pbc_support.c`): its
 * SHA-256 try-and-increment map to G1 and its point and scalar encodings. Kept only so that we can
 * reproduce Milagro's M-Pin test vectors and talk to old clients; the modern suite does not use it.
 * All field arithmetic is `@noble/curves`'; points are handed to the backend through the standard
 * (ZCash) uncompressed encoding, so the backend's own decoder validates every point.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from '@milagro/crypto';

const Fp = bls12_381.fields.Fp;
const G1Point = bls12_381.G1.Point;

/** Bytes of one base-field element (and of a Milagro scalar). */
export const MILAGRO_FIELD_BYTES = 48;

/**
 * Milagro's full G1 cofactor (u−1)²/3. Milagro clears it by plain multiplication, not by RFC 9380's
 * h_eff, so the mapped points differ from `clearCofactor`'s.
 */
const G1_COFACTOR = 0x396c8c005555e1568c00aaab0000aaabn;

/**
 * Milagro's `mhashit`: SHA-256 of (4-byte big-endian `n` if n > 0) ‖ data, left-padded with zeros
 * to the field size.
 */
export function milagroHash(n: number, data: Uint8Array): Uint8Array {
  const prefix = n > 0 ? numberToBytesBE(BigInt(n), 4) : new Uint8Array(0);
  const input = new Uint8Array(prefix.length + data.length);
  input.set(prefix);
  input.set(data, prefix.length);
  const out = new Uint8Array(MILAGRO_FIELD_BYTES);
  out.set(sha256(input), MILAGRO_FIELD_BYTES - 32);
  return out;
}

/**
 * Milagro's `ECP_mapit`: try-and-increment from x = int(h) mod p to the first x whose point
 * (x, even y) times the full cofactor is not infinity. Returns the standard uncompressed
 * encoding of the result (96 bytes), ready for a backend's validating decoder.
 */
export function milagroMapToG1(h: Uint8Array): Uint8Array {
  let x = Fp.create(bytesToNumberBE(h));
  for (;;) {
    const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), 4n);
    let y: bigint | undefined;
    try {
      y = Fp.sqrt(rhs);
    } catch {
      y = undefined; // not a square: next x
    }
    if (y !== undefined) {
      if ((y & 1n) === 1n) y = Fp.neg(y); // Milagro picks the even root
      // multiplyUnsafe with a public constant on a point outside the subgroup: no GLV shortcuts
      // apply to the G1 of BLS12-381 in noble, and nothing here is secret.
      const point = G1Point.fromAffine({ x, y }).multiplyUnsafe(G1_COFACTOR);
      if (!point.is0()) return point.toBytes(false);
    }
    x = Fp.add(x, 1n);
  }
}

/** `04 ‖ X ‖ Y` (97 bytes) from a standard uncompressed G1 encoding (96 bytes, no infinity). */
export function milagroG1FromStandard(standard: Uint8Array): Uint8Array {
  if ((standard[0] ?? 0) & 0x40) {
    throw new CryptoError('POINT_AT_INFINITY', 'the Milagro v3 codec has no encoding for the point at infinity');
  }
  const out = new Uint8Array(1 + 2 * MILAGRO_FIELD_BYTES);
  out[0] = 0x04;
  out.set(standard, 1);
  return out;
}

/**
 * A standard uncompressed G1 encoding from Milagro's `04 ‖ X ‖ Y` or compressed `02/03 ‖ X`
 * (the low bit of the prefix is the parity of y). Checks lengths, prefixes and that coordinates
 * are below p; curve and subgroup membership are left to the backend's decoder.
 */
export function milagroG1ToStandard(bytes: Uint8Array): Uint8Array {
  const prefix = bytes[0];
  if (bytes.length === 1 + 2 * MILAGRO_FIELD_BYTES) {
    if (prefix !== 0x04) throw new CryptoError('INVALID_ENCODING', 'Milagro G1 encoding must start with 04, 02 or 03');
    const out = bytes.slice(1);
    assertCanonical(out.subarray(0, MILAGRO_FIELD_BYTES));
    assertCanonical(out.subarray(MILAGRO_FIELD_BYTES));
    return out;
  }
  if (bytes.length === 1 + MILAGRO_FIELD_BYTES) {
    if (prefix !== 0x02 && prefix !== 0x03) {
      throw new CryptoError('INVALID_ENCODING', 'Milagro G1 encoding must start with 04, 02 or 03');
    }
    const xBytes = bytes.subarray(1);
    assertCanonical(xBytes);
    const x = bytesToNumberBE(xBytes);
    let y: bigint;
    try {
      y = Fp.sqrt(Fp.add(Fp.mul(Fp.sqr(x), x), 4n));
    } catch (cause) {
      throw new CryptoError('POINT_NOT_ON_CURVE', 'no curve point has this x coordinate', { cause });
    }
    if (((y & 1n) === 1n) !== (prefix === 0x03)) y = Fp.neg(y);
    const out = new Uint8Array(2 * MILAGRO_FIELD_BYTES);
    out.set(xBytes);
    out.set(numberToBytesBE(y, MILAGRO_FIELD_BYTES), MILAGRO_FIELD_BYTES);
    return out;
  }
  throw new CryptoError('INVALID_LENGTH', `Milagro G1 encoding must be 97 or 49 bytes, got ${bytes.length}`);
}

/** Milagro's raw G2 `X.re ‖ X.im ‖ Y.re ‖ Y.im` from the standard uncompressed encoding (`X.im ‖ X.re ‖ Y.im ‖ Y.re`). */
export function milagroG2FromStandard(standard: Uint8Array): Uint8Array {
  if ((standard[0] ?? 0) & 0x40) {
    throw new CryptoError('POINT_AT_INFINITY', 'the Milagro v3 codec has no encoding for the point at infinity');
  }
  return swapFp2Halves(standard);
}

/** The standard uncompressed G2 encoding from Milagro's raw 192 bytes. */
export function milagroG2ToStandard(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 4 * MILAGRO_FIELD_BYTES) {
    throw new CryptoError('INVALID_LENGTH', `Milagro G2 encoding must be 192 bytes, got ${bytes.length}`);
  }
  for (let i = 0; i < 4; i++) assertCanonical(bytes.subarray(i * MILAGRO_FIELD_BYTES, (i + 1) * MILAGRO_FIELD_BYTES));
  return swapFp2Halves(bytes);
}

/** Both encodings hold two Fp2 elements as two 48-byte halves each, in opposite order. */
function swapFp2Halves(bytes: Uint8Array): Uint8Array {
  const n = MILAGRO_FIELD_BYTES;
  const out = new Uint8Array(4 * n);
  for (const base of [0, 2 * n]) {
    out.set(bytes.subarray(base + n, base + 2 * n), base);
    out.set(bytes.subarray(base, base + n), base + n);
  }
  return out;
}

/** A coordinate must be a canonical field element (this also keeps standard flag bits clear). */
function assertCanonical(coordinate: Uint8Array): void {
  if (bytesToNumberBE(coordinate) >= Fp.ORDER) {
    throw new CryptoError('INVALID_ENCODING', 'coordinate is not below the field modulus');
  }
}
