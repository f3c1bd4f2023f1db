/**
 * Single-shot HPKE sealing (RFC 9180 §6.1, base mode), to one recipient or to many.
 * @module
 */
import { CryptoError } from '../errors.js';
import { createSenderContext, type HpkeSuiteName } from './suite.js';

/** Options of {@link hpkeSeal}, {@link hpkeSealToMany} and `hpkeOpen`. */
export interface HpkeOptions {
  /** Application info bound into the key schedule (RFC 9180 `info`); default empty. */
  readonly info?: Uint8Array;
  /** Associated data authenticated by the AEAD; default empty. */
  readonly aad?: Uint8Array;
  /** Cipher suite; default {@link HPKE_DEFAULT_SUITE} (X-Wing, HKDF-SHA256, AES-256-GCM). */
  readonly suite?: HpkeSuiteName;
}

/** A sealed message: the KEM encapsulation `enc` and the AEAD ciphertext (with its 16-byte tag). */
export interface HpkeSealed {
  readonly enc: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/**
 * Encrypts `plaintext` to one recipient's public key (1216-byte X-Wing key by default).
 * @throws CryptoError `INVALID_LENGTH` for a wrong-length public key; `INVALID_ENCODING` when the
 *   key is rejected by the KEM (ML-KEM key check, low-order X25519 point).
 */
export async function hpkeSeal(
  recipientPublicKey: Uint8Array,
  plaintext: Uint8Array,
  options: HpkeOptions = {},
): Promise<HpkeSealed> {
  return sealWithContext(recipientPublicKey, plaintext, options);
}

/** How many seals run at once in {@link hpkeSealToMany}: enough to keep WebCrypto's thread pool busy while ML-KEM runs on this thread. */
const SEAL_CONCURRENCY = 8;

/**
 * Encrypts the same small `plaintext` (typically a 32-byte content key) to many recipients, each
 * with its own encapsulation, in recipient order. Every result is an ordinary single-shot HPKE
 * message that {@link hpkeSeal} could have produced; the saving is only scheduling (the X25519,
 * HKDF and AES work of several recipients overlaps on WebCrypto's thread pool).
 * @throws CryptoError as {@link hpkeSeal}, for the first recipient whose key is rejected.
 */
export async function hpkeSealToMany(
  recipientPublicKeys: readonly Uint8Array[],
  plaintext: Uint8Array,
  options: HpkeOptions = {},
): Promise<HpkeSealed[]> {
  const results = new Array<HpkeSealed>(recipientPublicKeys.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < recipientPublicKeys.length) {
      const index = next++;
      results[index] = await sealWithContext(recipientPublicKeys[index]!, plaintext, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SEAL_CONCURRENCY, recipientPublicKeys.length) }, worker));
  return results;
}

/**
 * Seal with injected ephemeral randomness, for known-answer tests only.
 * @internal
 */
export async function sealWithContext(
  recipientPublicKey: Uint8Array,
  plaintext: Uint8Array,
  options: HpkeOptions,
  ekm?: Uint8Array,
): Promise<HpkeSealed> {
  const context = await createSenderContext(options.suite, recipientPublicKey, options.info, ekm);
  try {
    const ciphertext = await context.seal(plaintext, options.aad ?? new Uint8Array(0));
    return { enc: new Uint8Array(context.enc), ciphertext: new Uint8Array(ciphertext) };
  } catch (cause) {
    throw new CryptoError('INVALID_ARGUMENT', 'HPKE seal failed', { cause });
  }
}
