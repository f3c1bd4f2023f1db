import { scrypt as scryptCallback } from 'node:crypto';
import { KeyStoreError } from './errors.js';

/** scrypt cost parameters (RFC 7914). */
export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelism. */
  readonly p: number;
}

/**
 * Production scrypt parameters: N = 2^17, r = 8, p = 1 (128 MiB, about 0.3–0.5 s on a server core),
 * above the OWASP minimum (N = 2^17, r = 8, p = 1). Tests may pass weaker parameters; files
 * record the parameters they were written with.
 */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

/** Throws `INVALID_ARGUMENT` (or, for parameters read from a file, `CORRUPTED`) when out of range. */
export function checkScryptParams(params: ScryptParams, code: 'INVALID_ARGUMENT' | 'CORRUPTED'): void {
  const { N, r, p } = params;
  const ok =
    Number.isSafeInteger(N) && N >= 2 && N <= 2 ** 24 && (N & (N - 1)) === 0 &&
    Number.isSafeInteger(r) && r >= 1 && r <= 32 &&
    Number.isSafeInteger(p) && p >= 1 && p <= 16;
  if (!ok) throw new KeyStoreError(code, 'scrypt parameters out of range (N power of two ≤ 2^24, r ≤ 32, p ≤ 16)');
}

/** Encodes a passphrase as NFC-normalised UTF-8 so the same words typed on any system give the same key. */
export function passphraseBytes(passphrase: string | Uint8Array): Uint8Array {
  if (typeof passphrase === 'string') return new Uint8Array(Buffer.from(passphrase.normalize('NFC'), 'utf8'));
  if (passphrase instanceof Uint8Array) return passphrase.slice();
  throw new KeyStoreError('INVALID_ARGUMENT', 'a passphrase must be a string or a Uint8Array');
}

/** Derives the 32-byte key-encryption key from a passphrase with scrypt (node:crypto, off the main thread). */
export function derivePassphraseKek(passphrase: Uint8Array, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array> {
  const maxmem = 128 * params.N * params.r * params.p + 128 * params.r * 2 + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scryptCallback(passphrase, salt, 32, { N: params.N, r: params.r, p: params.p, maxmem }, (err, key) => {
      if (err) reject(new KeyStoreError('INVALID_ARGUMENT', 'scrypt failed for these parameters', { cause: err }));
      else resolve(new Uint8Array(key.buffer, key.byteOffset, key.length));
    });
  });
}
