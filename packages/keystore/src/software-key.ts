// What each key type does when its secret is in process memory. Shared by every backend: the
// memory and file stores for all keys, the PKCS#11 store for keys the token cannot hold natively.
import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { mlDsa65PublicKey, mlDsa65Sign, mlDsa65Verify, XWingDecapsulationKey } from '@milagro/crypto';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { KeyStoreError } from './errors.js';
import type { KeyType, SignOptions } from './key-store.js';

/** Default BLS domain separation tag: basic scheme, signatures in G2 (draft-irtf-cfrg-bls-signature-05 §4.2.1). */
export const BLS_DEFAULT_DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_';

const MAX_OPAQUE_SECRET = 8192;
const GCM_NONCE = 12;
const GCM_TAG = 16;
const X_WING_CIPHERTEXT = 1120;
// PKCS#8 prefix of an Ed25519 private key (RFC 8410 §7): lets node:crypto (OpenSSL) sign from a raw seed.
const ED25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

// SubjectPublicKeyInfo prefixes (RFC 8410, RFC 5480) for compressed points, so OpenSSL can verify.
const SPKI_PREFIX: Partial<Record<KeyType, string>> = {
  ed25519: '302a300506032b6570032100',
  'p-256': '3039301306072a8648ce3d020106082a8648ce3d030107032200',
  secp256k1: '3036301006072a8648ce3d020106052b8104000a032200',
};

function publicKeyObject(type: KeyType, publicKey: Uint8Array) {
  return createPublicKey({ key: Buffer.concat([Buffer.from(SPKI_PREFIX[type]!, 'hex'), publicKey]), format: 'der', type: 'spki' });
}

type Ecdsa = typeof secp256k1;
const ECDSA: Partial<Record<KeyType, Ecdsa>> = { secp256k1, 'p-256': p256 };

/** The noble ECDSA implementation for `secp256k1` / `p-256`, or undefined for other types. */
export function ecdsaCurve(type: KeyType): Ecdsa | undefined {
  return ECDSA[type];
}

/** A fresh secret of `type` from the platform CSPRNG. */
export function generateSecret(type: KeyType): Uint8Array {
  switch (type) {
    case 'secp256k1':
    case 'p-256':
      return ecdsaCurve(type)!.utils.randomSecretKey();
    case 'bls12-381':
      return bls12_381.utils.randomSecretKey();
    case 'secret':
      return new Uint8Array(randomBytes(32));
    default:
      return new Uint8Array(randomBytes(32));
  }
}

function invalidKey(type: KeyType, why: string): KeyStoreError {
  return new KeyStoreError('INVALID_KEY', `not a valid ${type} secret: ${why}`);
}

function requireLength(type: KeyType, secret: Uint8Array, length: number): void {
  if (secret.length !== length) throw invalidKey(type, `expected ${length} bytes, got ${secret.length}`);
}

/**
 * Checks `secret` is valid for `type` and returns its public key (undefined for types without one).
 * Throws `INVALID_KEY` otherwise.
 */
export function derivePublicKey(type: KeyType, secret: Uint8Array): Uint8Array | undefined {
  switch (type) {
    case 'ed25519':
      requireLength(type, secret, 32);
      return ed25519.getPublicKey(secret);
    case 'ml-dsa-65':
      requireLength(type, secret, 32);
      return mlDsa65PublicKey(secret);
    case 'x-wing':
      requireLength(type, secret, 32);
      return XWingDecapsulationKey.fromSecretKey(secret).publicKey;
    case 'bls12-381':
      requireLength(type, secret, 32);
      try {
        return bls12_381.longSignatures.getPublicKey(secret).toBytes(true);
      } catch (cause) {
        throw new KeyStoreError('INVALID_KEY', 'not a valid bls12-381 secret: scalar out of range', { cause });
      }
    case 'secp256k1':
    case 'p-256': {
      requireLength(type, secret, 32);
      const curve = ecdsaCurve(type)!;
      if (!curve.utils.isValidSecretKey(secret)) throw invalidKey(type, 'scalar out of range');
      return curve.getPublicKey(secret, true);
    }
    case 'aes-256':
      requireLength(type, secret, 32);
      return undefined;
    case 'secret':
      if (secret.length < 1 || secret.length > MAX_OPAQUE_SECRET) {
        throw invalidKey(type, `length must be 1..${MAX_OPAQUE_SECRET} bytes`);
      }
      return undefined;
    default:
      throw new KeyStoreError('INVALID_ARGUMENT', `unknown key type ${String(type)}`);
  }
}

/** Refuses options that do not apply to `type`, so a caller never believes an option took effect. */
function checkSignOptions(type: KeyType, options: SignOptions): void {
  if (options.prehashed !== undefined && !ecdsaCurve(type)) {
    throw new KeyStoreError('INVALID_ARGUMENT', `prehashed applies to ECDSA keys, not ${type}`);
  }
  if (options.context !== undefined && type !== 'ml-dsa-65') {
    throw new KeyStoreError('INVALID_ARGUMENT', `context applies to ml-dsa-65 keys, not ${type}`);
  }
  if (options.context !== undefined && options.context.length > 255) {
    throw new KeyStoreError('INVALID_ARGUMENT', 'ML-DSA context is at most 255 bytes');
  }
  if (options.dst !== undefined && type !== 'bls12-381') {
    throw new KeyStoreError('INVALID_ARGUMENT', `dst applies to bls12-381 keys, not ${type}`);
  }
}

/**
 * The 32-byte value an ECDSA key signs: SHA-256(message), or the message itself when `prehashed`.
 * Checks that sign options fit the key type.
 */
export function signingInput(type: KeyType, message: Uint8Array, options: SignOptions = {}): Uint8Array {
  checkSignOptions(type, options);
  if (!ecdsaCurve(type)) return message;
  if (!options.prehashed) return sha256(message);
  if (message.length !== 32) throw new KeyStoreError('INVALID_ARGUMENT', 'a prehashed message must be 32 bytes');
  return message;
}

/** Signs with a secret held in memory. ECDSA output is compact `r ‖ s` with low S. */
export function signWithSecret(
  type: KeyType,
  secret: Uint8Array,
  message: Uint8Array,
  options: SignOptions = {},
): Uint8Array {
  const input = signingInput(type, message, options);
  switch (type) {
    case 'ed25519': {
      // node:crypto (OpenSSL) is several times faster than pure-JS Ed25519 here.
      const der = new Uint8Array(ED25519_PKCS8_PREFIX.length + 32);
      der.set(ED25519_PKCS8_PREFIX);
      der.set(secret, ED25519_PKCS8_PREFIX.length);
      const key = createPrivateKey({ key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8' });
      der.fill(0);
      return new Uint8Array(nodeSign(null, input, key));
    }
    case 'ml-dsa-65':
      // node:crypto (OpenSSL) where the runtime has it, pure JS otherwise (@milagro/crypto picks).
      return mlDsa65Sign(secret, input, options.context);
    case 'bls12-381': {
      const bls = bls12_381.longSignatures;
      return bls.sign(bls.hash(input, options.dst ?? BLS_DEFAULT_DST), secret).toBytes(true);
    }
    case 'secp256k1':
    case 'p-256':
      return ecdsaCurve(type)!.sign(input, secret, { prehash: false, lowS: true });
    default:
      throw new KeyStoreError('UNSUPPORTED', `${type} keys cannot sign`);
  }
}

/**
 * Verifies a signature as {@link signWithSecret} makes it. Used to check every HSM signature before
 * it is released; ECDSA signatures must be low-S.
 */
export function verifySignature(
  type: KeyType,
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  options: SignOptions = {},
): boolean {
  const input = signingInput(type, message, options);
  try {
    switch (type) {
      case 'ed25519':
        // node:crypto here as well: every HSM signature is verified, so this sits on the hot path.
        return signature.length === 64 && publicKey.length === 32 && nodeVerify(null, input, publicKeyObject(type, publicKey), signature);
      case 'ml-dsa-65':
        return mlDsa65Verify(signature, input, publicKey, options.context);
      case 'bls12-381': {
        const bls = bls12_381.longSignatures;
        return bls.verify(signature, bls.hash(input, options.dst ?? BLS_DEFAULT_DST), publicKey);
      }
      case 'secp256k1':
      case 'p-256': {
        const curve = ecdsaCurve(type)!;
        if (options.prehashed || publicKey.length !== 33 || signature.length !== 64) {
          return curve.verify(signature, input, publicKey, { prehash: false, lowS: true });
        }
        // OpenSSL verifies about ten times faster than pure JS; it hashes the message itself and
        // does not enforce low S, so that is checked here.
        if (curve.Signature.fromBytes(signature, 'compact').hasHighS()) return false;
        const key = { key: publicKeyObject(type, publicKey), dsaEncoding: 'ieee-p1363' as const };
        return nodeVerify('sha256', message, key, signature);
      }
      default:
        return false;
    }
  } catch {
    return false;
  }
}

/** Rewrites an ECDSA `r ‖ s` signature with S above n/2 as (r, n − s): the same signature, low-S form. */
export function normaliseLowS(type: KeyType, signature: Uint8Array): Uint8Array {
  const curve = ecdsaCurve(type);
  if (!curve) return signature;
  const sig = curve.Signature.fromBytes(signature, 'compact');
  if (!sig.hasHighS()) return signature;
  return new curve.Signature(sig.r, curve.Point.Fn.ORDER - sig.s).toBytes('compact');
}

/** X-Wing decapsulation with a seed held in memory. */
export function decapsulateWithSecret(type: KeyType, secret: Uint8Array, cipherText: Uint8Array): Promise<Uint8Array> {
  if (type !== 'x-wing') throw new KeyStoreError('UNSUPPORTED', `${type} keys cannot decapsulate`);
  if (cipherText.length !== X_WING_CIPHERTEXT) {
    throw new KeyStoreError('INVALID_ARGUMENT', `an X-Wing ciphertext is ${X_WING_CIPHERTEXT} bytes`);
  }
  // The key is expanded from `secret` synchronously, before this returns: callers zero `secret`
  // as soon as the call returns. @milagro/crypto's X-Wing uses the platform's X25519 (about a
  // tenth of the pure-JS cost), and gives the same shared secret as noble's (its tests check).
  return XWingDecapsulationKey.fromSecretKey(secret).decapsulate(cipherText);
}

/** AES-256-GCM seal with a random nonce: `nonce ‖ ciphertext ‖ tag`. */
export function aesGcmSeal(key: Uint8Array, plaintext: Uint8Array, associatedData?: Uint8Array): Uint8Array {
  const nonce = randomBytes(GCM_NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  if (associatedData) cipher.setAAD(associatedData);
  const body = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return new Uint8Array(body.buffer, body.byteOffset, body.length);
}

/** Opens {@link aesGcmSeal} output; undefined when it does not authenticate. */
export function aesGcmOpen(key: Uint8Array, sealed: Uint8Array, associatedData?: Uint8Array): Uint8Array | undefined {
  if (sealed.length < GCM_NONCE + GCM_TAG) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, GCM_NONCE));
  decipher.setAuthTag(sealed.subarray(sealed.length - GCM_TAG));
  if (associatedData) decipher.setAAD(associatedData);
  try {
    const out = Buffer.concat([decipher.update(sealed.subarray(GCM_NONCE, sealed.length - GCM_TAG)), decipher.final()]);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch {
    return undefined;
  }
}

/** Rejects operations a key type does not have, before any secret is unwrapped. */
export function requireCapability(type: KeyType, operation: 'sign' | 'decapsulate' | 'encrypt' | 'decrypt'): void {
  const ok =
    operation === 'sign'
      ? ['ed25519', 'ml-dsa-65', 'bls12-381', 'secp256k1', 'p-256'].includes(type)
      : operation === 'decapsulate'
        ? type === 'x-wing'
        : type === 'aes-256';
  if (!ok) throw new KeyStoreError('UNSUPPORTED', `${type} keys cannot ${operation}`);
}
