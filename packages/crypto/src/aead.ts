/**
 * AES-256-GCM (NIST SP 800-38D) with 12-byte nonces and 16-byte tags appended to the ciphertext.
 *
 * Two implementations sit behind one API, both native: `node:crypto` (OpenSSL, synchronous, used
 * whenever the code runs on Node) and WebCrypto (`globalThis.crypto.subtle`, browsers and other
 * runtimes). The API is asynchronous so that both fit; on Node the work is done synchronously and
 * the promise is already settled. `node:crypto` is reached through `process.getBuiltinModule`, so
 * bundlers for the browser never see it.
 */
import { CryptoError } from './errors.js';
import { nodeCrypto } from './node-crypto.js';

/** AES-256 key length in bytes. */
export const AES_GCM_KEY_LENGTH = 32;
/** GCM nonce length in bytes (96 bits, the only length SP 800-38D recommends). */
export const AES_GCM_NONCE_LENGTH = 12;
/** GCM tag length in bytes (full 128-bit tags only). */
export const AES_GCM_TAG_LENGTH = 16;

/** Largest plaintext for one GCM invocation (SP 800-38D: 2^39 − 256 bits). */
const GCM_MAX_PLAINTEXT = 2 ** 36 - 32;

/** An AES-GCM implementation: `'node'` (`node:crypto`) or `'webcrypto'` (`crypto.subtle`). */
export type AesGcmBackend = 'node' | 'webcrypto';

/**
 * An AES-256-GCM key prepared once for many operations (key import is the costly part of
 * WebCrypto). Internal: the stream construction builds on it; not exported from the package.
 */
export interface AesGcmKey {
  readonly backend: AesGcmBackend;
  /** Ciphertext ‖ tag, possibly split into several arrays to avoid copying; concatenate in order. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array[]>;
  /**
   * Plaintext of `sealed` (= ciphertext ‖ tag), returned only once the tag has verified.
   * Resolves to `undefined` on authentication failure so callers can try alternatives cheaply.
   */
  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array | undefined>;
}

/** The AES-GCM implementations available in this runtime, fastest first. */
export function aesGcmBackends(): AesGcmBackend[] {
  const found: AesGcmBackend[] = [];
  if (nodeCrypto()) found.push('node');
  if (subtle()) found.push('webcrypto');
  return found;
}

function subtle(): SubtleCrypto | undefined {
  return (globalThis as { crypto?: Crypto }).crypto?.subtle;
}

const EMPTY = new Uint8Array(0);

/** A plain `Uint8Array` view of a Node `Buffer`, so callers never receive Buffer-specific behaviour. */
function view(buffer: Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== AES_GCM_KEY_LENGTH) {
    throw new CryptoError('INVALID_LENGTH', `AES-256-GCM key must be ${AES_GCM_KEY_LENGTH} bytes`);
  }
}

function checkNonce(nonce: Uint8Array): void {
  if (!(nonce instanceof Uint8Array) || nonce.length !== AES_GCM_NONCE_LENGTH) {
    throw new CryptoError('INVALID_LENGTH', `AES-GCM nonce must be ${AES_GCM_NONCE_LENGTH} bytes`);
  }
}

function checkBytes(value: Uint8Array, what: string): void {
  if (!(value instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', `${what} must be a Uint8Array`);
}

function nodeKey(key: Uint8Array): AesGcmKey {
  const node = nodeCrypto();
  if (!node) throw new CryptoError('BACKEND_UNAVAILABLE', 'node:crypto is not available in this runtime');
  // A KeyObject keeps the key bytes out of the JS heap and avoids re-validating them per call.
  const secret = node.createSecretKey(key);
  return {
    backend: 'node',
    async seal(nonce, plaintext, aad) {
      const cipher = node.createCipheriv('aes-256-gcm', secret, nonce, { authTagLength: AES_GCM_TAG_LENGTH });
      if (aad.length > 0) cipher.setAAD(aad);
      // `update` output is returned as is (no copy into a combined buffer); `final` is empty for GCM.
      const ciphertext = cipher.update(plaintext);
      cipher.final();
      return [view(ciphertext), view(cipher.getAuthTag())];
    },
    async open(nonce, sealed, aad) {
      const split = sealed.length - AES_GCM_TAG_LENGTH;
      const decipher = node.createDecipheriv('aes-256-gcm', secret, nonce, { authTagLength: AES_GCM_TAG_LENGTH });
      decipher.setAuthTag(sealed.subarray(split));
      if (aad.length > 0) decipher.setAAD(aad);
      const plaintext = decipher.update(sealed.subarray(0, split));
      try {
        decipher.final();
      } catch {
        plaintext.fill(0); // unauthenticated plaintext never leaves this function
        return undefined;
      }
      return view(plaintext);
    },
  };
}

async function webcryptoKey(key: Uint8Array): Promise<AesGcmKey> {
  const api = subtle();
  if (!api) throw new CryptoError('BACKEND_UNAVAILABLE', 'WebCrypto (crypto.subtle) is not available in this runtime');
  const cryptoKey = await api.importKey('raw', key as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt']);
  return {
    backend: 'webcrypto',
    async seal(nonce, plaintext, aad) {
      const params: AesGcmParams = { name: 'AES-GCM', iv: nonce as BufferSource, additionalData: aad as BufferSource, tagLength: 128 };
      return [new Uint8Array(await api.encrypt(params, cryptoKey, plaintext as BufferSource))];
    },
    async open(nonce, sealed, aad) {
      const params: AesGcmParams = { name: 'AES-GCM', iv: nonce as BufferSource, additionalData: aad as BufferSource, tagLength: 128 };
      try {
        return new Uint8Array(await api.decrypt(params, cryptoKey, sealed as BufferSource));
      } catch {
        return undefined; // WebCrypto's OperationError: the tag did not verify
      }
    },
  };
}

/**
 * Prepares `key` for repeated AES-256-GCM operations on the given (or the fastest available)
 * backend. Internal building block of the STREAM construction.
 *
 * @throws CryptoError `INVALID_LENGTH` for a key that is not 32 bytes; `BACKEND_UNAVAILABLE`
 */
export async function importAesGcmKey(key: Uint8Array, backend?: AesGcmBackend): Promise<AesGcmKey> {
  checkKey(key);
  const chosen = backend ?? aesGcmBackends()[0];
  if (chosen === 'node') return nodeKey(key);
  if (chosen === 'webcrypto') return webcryptoKey(key);
  throw new CryptoError('BACKEND_UNAVAILABLE', 'no AES-GCM implementation in this runtime');
}

function joinSealed(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Options of {@link aesGcmEncrypt} and {@link aesGcmDecrypt}. */
export interface AesGcmOptions {
  /** Force an implementation; by default `node:crypto` on Node, WebCrypto elsewhere. */
  backend?: AesGcmBackend;
}

/**
 * Encrypts `plaintext` with AES-256-GCM: returns ciphertext ‖ 16-byte tag.
 *
 * A nonce must never repeat under one key; with random 12-byte nonces stay well below 2^32
 * messages per key. For large or streamed bodies use {@link encryptStream} instead.
 *
 * @param aad - associated data: authenticated, not encrypted, not included in the output
 * @throws CryptoError `INVALID_LENGTH` for a key ≠ 32 bytes or a nonce ≠ 12 bytes;
 *   `INVALID_ARGUMENT` for a plaintext above the GCM limit of 2^36 − 32 bytes
 */
export async function aesGcmEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = EMPTY,
  options: AesGcmOptions = {},
): Promise<Uint8Array> {
  checkNonce(nonce);
  checkBytes(plaintext, 'plaintext');
  checkBytes(aad, 'associated data');
  if (plaintext.length > GCM_MAX_PLAINTEXT) throw new CryptoError('INVALID_ARGUMENT', 'plaintext exceeds the AES-GCM limit');
  const aes = await importAesGcmKey(key, options.backend);
  return joinSealed(await aes.seal(nonce, plaintext, aad));
}

/**
 * Decrypts ciphertext ‖ tag produced by {@link aesGcmEncrypt}. Returns the plaintext only after
 * the tag has verified.
 *
 * @throws CryptoError `DECRYPTION_FAILED` for a wrong key, nonce or associated data, or any
 *   modification; `INVALID_LENGTH` for a key ≠ 32 bytes, a nonce ≠ 12 bytes or a ciphertext
 *   shorter than the tag
 */
export async function aesGcmDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array = EMPTY,
  options: AesGcmOptions = {},
): Promise<Uint8Array> {
  checkNonce(nonce);
  checkBytes(ciphertext, 'ciphertext');
  checkBytes(aad, 'associated data');
  if (ciphertext.length < AES_GCM_TAG_LENGTH) {
    throw new CryptoError('INVALID_LENGTH', `AES-GCM ciphertext must be at least ${AES_GCM_TAG_LENGTH} bytes`);
  }
  const aes = await importAesGcmKey(key, options.backend);
  const plaintext = await aes.open(nonce, ciphertext, aad);
  if (plaintext === undefined) throw new CryptoError('DECRYPTION_FAILED', 'AES-GCM authentication failed');
  return plaintext;
}
