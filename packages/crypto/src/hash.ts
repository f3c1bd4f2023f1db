/**
 * Hash functions and HKDF under stable names, as thin wrappers over the audited `@noble/hashes`.
 * Inputs are validated by noble; any rejection surfaces as a {@link CryptoError}.
 */
import { extract, expand, hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { sha3_256 as nobleSha3_256 } from '@noble/hashes/sha3.js';
import { CryptoError } from './errors.js';
import { nodeCrypto, type NodeCrypto } from './node-crypto.js';

/** Hash functions usable with {@link hkdf} and {@link hmac}. */
export type HashName = 'SHA-256' | 'SHA-512';

const HASHES = { 'SHA-256': nobleSha256, 'SHA-512': nobleSha512 } as const;
const OUTPUT_LENGTH: Record<HashName, number> = { 'SHA-256': 32, 'SHA-512': 64 };

function hashFor(name: HashName) {
  const hash = HASHES[name];
  if (hash === undefined) throw new CryptoError('INVALID_ARGUMENT', `unsupported hash ${String(name)}`);
  return hash;
}

/** Runs a noble call, turning its TypeError/RangeError for bad input into a typed error. */
function guarded<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    if (cause instanceof CryptoError) throw cause;
    throw new CryptoError('INVALID_ARGUMENT', `${what}: invalid input`, { cause });
  }
}

/** SHA-256 (FIPS 180-4) of `data`: 32 bytes. */
export function sha256(data: Uint8Array): Uint8Array {
  return guarded('sha256', () => nobleSha256(data));
}

/**
 * A SHA-256 computed over data that arrives in pieces (a stream, a file, a body cut into blocks).
 * Feed it with {@link Sha256Hash.update}, then call {@link Sha256Hash.digest} once.
 */
export interface Sha256Hash {
  /** Absorbs `data`; returns the same hash so calls chain. @throws CryptoError `INVALID_ARGUMENT` for non-bytes or after `digest`. */
  update(data: Uint8Array): Sha256Hash;
  /** The 32-byte SHA-256 of everything absorbed; the hash cannot be used afterwards. */
  digest(): Uint8Array;
}

/** The two implementations behind {@link createSha256}: `node:crypto` and `@noble/hashes`. */
interface Sha256Engine {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

/** `@noble/hashes` SHA-256 (any runtime). Internal; exported for tests of the fallback. */
export function nobleSha256Engine(): Sha256Engine {
  const hash = nobleSha256.create();
  return { update: (data) => void hash.update(data), digest: () => hash.digest() };
}

/** OpenSSL's SHA-256 through `node:crypto` (SHA-NI where the CPU has it). Internal. */
export function nodeSha256Engine(node: NodeCrypto): Sha256Engine {
  const hash = node.createHash('sha256');
  return {
    update: (data) => void hash.update(data),
    digest: () => {
      const out = hash.digest();
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice();
    },
  };
}

/** Wraps an engine with the argument and state checks both implementations share. */
export function sha256Hash(engine: Sha256Engine): Sha256Hash {
  let finished = false;
  const hash: Sha256Hash = {
    update(data) {
      if (finished) throw new CryptoError('INVALID_ARGUMENT', 'sha256: update after digest');
      if (!(data instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', 'sha256: data must be a Uint8Array');
      engine.update(data);
      return hash;
    },
    digest() {
      if (finished) throw new CryptoError('INVALID_ARGUMENT', 'sha256: digest was already taken');
      finished = true;
      return engine.digest();
    },
  };
  return hash;
}

/**
 * Starts an incremental SHA-256 (FIPS 180-4). On Node it runs on `node:crypto` (OpenSSL, several
 * times faster than JavaScript on large inputs); elsewhere (browsers, other runtimes) on
 * `@noble/hashes`. Both give the same digest; use it for bodies of megabytes and streams.
 *
 * @example
 * ```ts
 * const hash = createSha256();
 * for await (const chunk of source) hash.update(chunk);
 * const digest = hash.digest(); // 32 bytes
 * ```
 */
export function createSha256(): Sha256Hash {
  const node = nodeCrypto();
  return sha256Hash(node === undefined ? nobleSha256Engine() : nodeSha256Engine(node));
}

/** SHA-512 (FIPS 180-4) of `data`: 64 bytes. */
export function sha512(data: Uint8Array): Uint8Array {
  return guarded('sha512', () => nobleSha512(data));
}

/** SHA3-256 (FIPS 202) of `data`: 32 bytes. */
export function sha3_256(data: Uint8Array): Uint8Array {
  return guarded('sha3_256', () => nobleSha3_256(data));
}

/** HMAC (RFC 2104) of `message` under `key` with the given hash. */
export function hmac(hash: HashName, key: Uint8Array, message: Uint8Array): Uint8Array {
  return guarded('hmac', () => nobleHmac(hashFor(hash), key, message));
}

/**
 * HKDF (RFC 5869), extract then expand: `length` bytes of output keying material.
 *
 * @param salt - optional non-secret salt; empty or absent means HashLen zero bytes (RFC 5869 §2.2)
 * @param info - context binding the output to its purpose (a domain-separation string)
 * @throws CryptoError `INVALID_ARGUMENT` if `length` exceeds 255·HashLen or an input is not bytes
 */
export function hkdf(
  hash: HashName,
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: Uint8Array | undefined,
  length: number,
): Uint8Array {
  checkOutputLength(hash, length);
  return guarded('hkdf', () => nobleHkdf(hashFor(hash), ikm, salt, info, length));
}

/** HKDF-Extract (RFC 5869 §2.2): a HashLen-byte pseudorandom key from `ikm` and `salt`. */
export function hkdfExtract(hash: HashName, ikm: Uint8Array, salt?: Uint8Array): Uint8Array {
  return guarded('hkdfExtract', () => extract(hashFor(hash), ikm, salt));
}

/**
 * HKDF-Expand (RFC 5869 §2.3): `length` bytes from a pseudorandom key.
 *
 * @throws CryptoError `INVALID_LENGTH` if `prk` is shorter than HashLen; `INVALID_ARGUMENT` if
 *   `length` exceeds 255·HashLen
 */
export function hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array | undefined, length: number): Uint8Array {
  checkOutputLength(hash, length);
  if (prk instanceof Uint8Array && prk.length < OUTPUT_LENGTH[hash]) {
    throw new CryptoError('INVALID_LENGTH', `HKDF-Expand needs a PRK of at least ${OUTPUT_LENGTH[hash]} bytes`);
  }
  return guarded('hkdfExpand', () => expand(hashFor(hash), prk, info, length));
}

function checkOutputLength(hash: HashName, length: number): void {
  const max = 255 * (OUTPUT_LENGTH[hash] ?? 0);
  if (!Number.isSafeInteger(length) || length < 0 || length > max) {
    throw new CryptoError('INVALID_ARGUMENT', `HKDF output length must be 0..${max}`);
  }
}
