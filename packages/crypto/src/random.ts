import { CryptoError } from './errors.js';

/** `crypto.getRandomValues` refuses requests above 65 536 bytes (WebCrypto's quota). */
const GET_RANDOM_VALUES_LIMIT = 65_536;

/**
 * `length` bytes from the platform CSPRNG (`globalThis.crypto.getRandomValues`: WebCrypto in
 * browsers, OpenSSL's generator on Node). There is deliberately no seedable or fallback generator.
 *
 * @throws CryptoError `INVALID_ARGUMENT` if `length` is not a non-negative safe integer;
 *   `BACKEND_UNAVAILABLE` if the platform has no CSPRNG.
 */
export function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new CryptoError('INVALID_ARGUMENT', 'randomBytes length must be a non-negative integer');
  }
  const webcrypto = (globalThis as { crypto?: Crypto }).crypto;
  if (typeof webcrypto?.getRandomValues !== 'function') {
    throw new CryptoError('BACKEND_UNAVAILABLE', 'no platform CSPRNG (globalThis.crypto.getRandomValues)');
  }
  const out = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += GET_RANDOM_VALUES_LIMIT) {
    webcrypto.getRandomValues(out.subarray(offset, Math.min(offset + GET_RANDOM_VALUES_LIMIT, length)));
  }
  return out;
}
