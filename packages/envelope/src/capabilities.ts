/**
 * What the envelope needs from key holders, as two small capabilities, so keystores and HSMs fit
 * in without handing over key bytes: a signer for the sender and a key unwrapper per recipient.
 */
import { compositeSign, hpkeOpen, XWingDecapsulationKey } from '@milagro/crypto';
import { EnvelopeError } from './errors.js';
import { isIdentityId } from './identity-id.js';

/** The sender's signing capability: a composite Ed25519 + ML-DSA-65 key of identity `id`. */
export interface EnvelopeSigner {
  /** The sender's identity (CID string); written to the envelope's `from`. */
  readonly id: string;
  /**
   * Composite-signs `message` with `context` (draft-ietf-lamps-pq-composite-sigs construction, as
   * `compositeSign` of `@milagro/crypto`). Returns the 3373-byte signature.
   */
  sign(message: Uint8Array, context: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** A recipient's decryption capability: the X-Wing key of identity `id`. */
export interface EnvelopeRecipientKey {
  /** The recipient's identity (CID string). */
  readonly id: string;
  /** The X-Wing public key (1216 bytes) matching the secret key behind {@link unwrap}. */
  readonly publicKey: Uint8Array;
  /**
   * HPKE base-mode open (RFC 9180, X-Wing / HKDF-SHA256 / AES-256-GCM) of one wrapped key.
   * Must reject (throw) when the ciphertext does not authenticate.
   */
  unwrap(enc: Uint8Array, ciphertext: Uint8Array, info: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
}

function checkId(id: string): void {
  if (!isIdentityId(id)) throw new EnvelopeError('INVALID_ARGUMENT', 'identity id must be a canonical CIDv1 string');
}

/**
 * A signer over a composite secret key held in memory (64 bytes: Ed25519 seed ‖ ML-DSA-65 seed).
 * Keystores implement {@link EnvelopeSigner} themselves instead.
 */
export function compositeSigner(id: string, secretKey: Uint8Array): EnvelopeSigner {
  checkId(id);
  const key = secretKey.slice();
  return { id, sign: (message, context) => compositeSign(key, message, context) };
}

/**
 * A recipient key over an X-Wing secret key held in memory (32 bytes), expanded once so that many
 * envelopes open without re-deriving it.
 */
export function xwingRecipientKey(id: string, secretKey: Uint8Array | XWingDecapsulationKey): EnvelopeRecipientKey {
  checkId(id);
  let key: XWingDecapsulationKey;
  try {
    key = secretKey instanceof XWingDecapsulationKey ? secretKey : XWingDecapsulationKey.fromSecretKey(secretKey);
  } catch (cause) {
    throw new EnvelopeError('INVALID_ARGUMENT', 'X-Wing secret key must be 32 bytes', { cause });
  }
  return {
    id,
    publicKey: key.publicKey,
    unwrap: (enc, ciphertext, info, aad) => hpkeOpen(key, enc, ciphertext, { info, aad }),
  };
}
