import { CryptoError } from '../errors.js';

/**
 * Normalise a domain separation tag to bytes (strings as UTF-8) and enforce RFC 9380 §3.1:
 * tags MUST be non-empty. Both backends hash with exactly these bytes; tags longer than 255
 * bytes are reduced as RFC 9380 §5.3.3 prescribes by each backend (they agree; tested).
 * Internal to the `bls12-381` folder.
 */
export function dstBytes(dst: string | Uint8Array): Uint8Array {
  const bytes = typeof dst === 'string' ? new TextEncoder().encode(dst) : dst;
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new CryptoError('INVALID_ARGUMENT', 'domain separation tag must be a non-empty string or Uint8Array');
  }
  return bytes;
}
