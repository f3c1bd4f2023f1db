import { bls12_381 } from '@noble/curves/bls12-381.js';
import { hash_to_field } from '@noble/curves/abstract/hash-to-curve.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from '../errors.js';
import { dstBytes } from './dst.js';

/**
 * Scalars of BLS12-381: integers modulo the prime group order r (the order of G1, G2 and GT).
 * Secret keys, Shamir shares and Lagrange coefficients all live here.
 */

const Fr = bls12_381.fields.Fr;

/** The prime order r of G1, G2 and GT (a 255-bit prime). */
export const SCALAR_ORDER: bigint = Fr.ORDER;

/** Length of an encoded scalar: 32 bytes, big-endian. */
export const SCALAR_LENGTH = 32;

/**
 * A uniformly random scalar in [1, r) from the platform CSPRNG (WebCrypto `getRandomValues`).
 * Rejection sampling over 255-bit candidates, so there is no modular bias; each try succeeds
 * with probability r / 2^255 ≈ 0.9.
 */
export function randomScalar(): bigint {
  const buf = new Uint8Array(SCALAR_LENGTH);
  for (;;) {
    crypto.getRandomValues(buf);
    buf[0] = (buf[0] as number) & 0x7f; // r < 2^255: drop the top bit, then reject >= r
    let k = 0n;
    for (const b of buf) k = (k << 8n) | BigInt(b);
    if (k !== 0n && k < SCALAR_ORDER) {
      buf.fill(0);
      return k;
    }
  }
}

/**
 * Encode a scalar as 32 bytes big-endian (I2OSP(s, 32)).
 * @throws CryptoError `INVALID_SCALAR` unless 0 <= scalar < r.
 */
export function encodeScalar(scalar: bigint): Uint8Array {
  if (typeof scalar !== 'bigint' || scalar < 0n || scalar >= SCALAR_ORDER) {
    throw new CryptoError('INVALID_SCALAR', 'scalar must be a bigint in [0, r)');
  }
  const out = new Uint8Array(SCALAR_LENGTH);
  let k = scalar;
  for (let i = SCALAR_LENGTH - 1; i >= 0; i--) {
    out[i] = Number(k & 0xffn);
    k >>= 8n;
  }
  return out;
}

/**
 * Decode a 32-byte big-endian scalar. Non-canonical values (>= r) are rejected, never reduced.
 * @param options.rejectZero - also reject 0 (e.g. for secret keys).
 * @throws CryptoError `INVALID_LENGTH` (not 32 bytes) or `INVALID_SCALAR` (>= r, or 0 when rejected).
 */
export function decodeScalar(bytes: Uint8Array, options?: { rejectZero?: boolean }): bigint {
  if (!(bytes instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', 'scalar encoding must be a Uint8Array');
  if (bytes.length !== SCALAR_LENGTH) {
    throw new CryptoError('INVALID_LENGTH', `expected ${SCALAR_LENGTH} bytes, got ${bytes.length}`);
  }
  let k = 0n;
  for (const b of bytes) k = (k << 8n) | BigInt(b);
  if (k >= SCALAR_ORDER) throw new CryptoError('INVALID_SCALAR', 'scalar is not below the group order');
  if (k === 0n && options?.rejectZero) throw new CryptoError('INVALID_SCALAR', 'scalar must not be zero');
  return k;
}

/**
 * Hash a message to a scalar: RFC 9380 `hash_to_field` with p = r, m = 1, k = 128
 * (so L = 48 bytes per element) and `expand_message_xmd` over SHA-256.
 * The result is uniform in [0, r) (it is 0 with negligible probability).
 */
export function hashToScalar(message: Uint8Array, dst: string | Uint8Array): bigint {
  if (!(message instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', 'message must be a Uint8Array');
  const [[k]] = hash_to_field(message, 1, { DST: dstBytes(dst), p: SCALAR_ORDER, m: 1, k: 128, expand: 'xmd', hash: sha256 }) as [[bigint]];
  return k;
}
