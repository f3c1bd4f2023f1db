/**
 * The HPKE (RFC 9180) cipher suites Milagro offers, built on `@hpke/core`.
 *
 * The default, X-Wing + HKDF-SHA256 + AES-256-GCM, is what envelopes use to wrap content keys:
 * post-quantum (ML-KEM-768) and classical (X25519) at once. DHKEM(X25519) suites are kept only as
 * a secondary option; they also let the RFC 9180 Appendix A vectors check the shared key schedule.
 * @module
 */
import {
  Aes128Gcm,
  Aes256Gcm,
  CipherSuite,
  DhkemX25519HkdfSha256,
  HkdfSha256,
  type RecipientContext,
  type SenderContext,
} from '@hpke/core';
import { CryptoError } from '../errors.js';
import { XWING_LENGTHS, type XWingDecapsulator } from '../xwing.js';
import { ChaCha20Poly1305Aead } from './chacha20-poly1305-aead.js';
import { XWingHpkeKem, XWingPrivateKeyHandle, XWingPublicKeyHandle } from './xwing-kem.js';

/** Names of the supported HPKE suites, as `KEM/KDF/AEAD`. */
export type HpkeSuiteName =
  | 'X-Wing/HKDF-SHA256/AES-256-GCM'
  | 'DHKEM-X25519/HKDF-SHA256/AES-128-GCM'
  | 'DHKEM-X25519/HKDF-SHA256/AES-256-GCM'
  | 'DHKEM-X25519/HKDF-SHA256/ChaCha20Poly1305';

/** The suite used when none is named: X-Wing (KEM id 0x647a), HKDF-SHA256, AES-256-GCM. */
export const HPKE_DEFAULT_SUITE: HpkeSuiteName = 'X-Wing/HKDF-SHA256/AES-256-GCM';

/** A recipient's decapsulation key: the 32-byte secret key, or an X-Wing decapsulator (expanded key, key store). */
export type HpkeRecipientKey = Uint8Array | XWingDecapsulator;

/** What a suite needs checked before `@hpke/core` sees the bytes. */
export interface SuiteDescription {
  readonly suite: CipherSuite;
  readonly publicKeyLength: number;
  readonly secretKeyLength: number;
  readonly encLength: number;
  readonly isXWing: boolean;
}

const suites = new Map<HpkeSuiteName, SuiteDescription>();

function build(name: HpkeSuiteName): SuiteDescription {
  const [kemName, , aeadName] = name.split('/');
  const aead =
    aeadName === 'AES-128-GCM' ? new Aes128Gcm() : aeadName === 'AES-256-GCM' ? new Aes256Gcm() : new ChaCha20Poly1305Aead();
  if (kemName === 'X-Wing') {
    return {
      suite: new CipherSuite({ kem: new XWingHpkeKem(), kdf: new HkdfSha256(), aead }),
      publicKeyLength: XWING_LENGTHS.publicKey,
      secretKeyLength: XWING_LENGTHS.secretKey,
      encLength: XWING_LENGTHS.ciphertext,
      isXWing: true,
    };
  }
  return {
    suite: new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead }),
    publicKeyLength: 32,
    secretKeyLength: 32,
    encLength: 32,
    isXWing: false,
  };
}

/** The cached `@hpke/core` suite for a name. @throws CryptoError `INVALID_ARGUMENT` for an unknown name. */
export function describeSuite(name: HpkeSuiteName = HPKE_DEFAULT_SUITE): SuiteDescription {
  let description = suites.get(name);
  if (description === undefined) {
    if (!SUITE_NAMES.includes(name)) throw new CryptoError('INVALID_ARGUMENT', `unknown HPKE suite ${String(name)}`);
    description = build(name);
    suites.set(name, description);
  }
  return description;
}

const SUITE_NAMES: readonly HpkeSuiteName[] = [
  'X-Wing/HKDF-SHA256/AES-256-GCM',
  'DHKEM-X25519/HKDF-SHA256/AES-128-GCM',
  'DHKEM-X25519/HKDF-SHA256/AES-256-GCM',
  'DHKEM-X25519/HKDF-SHA256/ChaCha20Poly1305',
];

/**
 * Sets up a base-mode sender context (RFC 9180 §5.1.1).
 * @param ekm test-only injected ephemeral randomness: `ikmE` for DHKEM, the 64-byte `eseed` for X-Wing.
 */
export async function createSenderContext(
  name: HpkeSuiteName | undefined,
  recipientPublicKey: Uint8Array,
  info: Uint8Array | undefined,
  ekm?: Uint8Array,
): Promise<SenderContext> {
  const { suite, publicKeyLength } = describeSuite(name);
  checkBytes(recipientPublicKey, publicKeyLength, 'HPKE recipient public key');
  let publicKey: CryptoKey;
  try {
    publicKey =
      suite.kem instanceof XWingHpkeKem
        ? new XWingPublicKeyHandle(recipientPublicKey)
        : await suite.kem.deserializePublicKey(recipientPublicKey);
  } catch (cause) {
    throw new CryptoError('INVALID_ENCODING', 'HPKE recipient public key is not a valid key', { cause });
  }
  try {
    return await suite.createSenderContext({
      recipientPublicKey: publicKey,
      ...(info === undefined ? {} : { info }),
      ...(ekm === undefined ? {} : { ekm }),
    });
  } catch (cause) {
    if (cause instanceof CryptoError) throw cause;
    throw new CryptoError('INVALID_ENCODING', 'HPKE encapsulation to this public key failed', { cause });
  }
}

/**
 * Sets up a base-mode recipient context (RFC 9180 §5.1.1). Any failure after the length checks is
 * reported as `DECRYPTION_FAILED`, so a caller learns nothing about which step rejected.
 */
export async function createRecipientContext(
  name: HpkeSuiteName | undefined,
  recipientKey: HpkeRecipientKey,
  enc: Uint8Array,
  info: Uint8Array | undefined,
): Promise<RecipientContext> {
  const { suite, secretKeyLength, encLength, isXWing } = describeSuite(name);
  checkBytes(enc, encLength, 'HPKE enc');
  let privateKey: CryptoKey;
  if (!(recipientKey instanceof Uint8Array)) {
    if (!isXWing) throw new CryptoError('INVALID_ARGUMENT', 'an X-Wing key cannot open a DHKEM(X25519) suite');
    privateKey = new XWingPrivateKeyHandle(recipientKey);
  } else {
    checkBytes(recipientKey, secretKeyLength, 'HPKE recipient secret key');
    privateKey = await suite.kem.deserializePrivateKey(recipientKey).catch((cause: unknown) => {
      throw new CryptoError('INVALID_ENCODING', 'HPKE recipient secret key is not a valid key', { cause });
    });
  }
  try {
    return await suite.createRecipientContext({
      recipientKey: privateKey,
      enc,
      ...(info === undefined ? {} : { info }),
    });
  } catch (cause) {
    throw new CryptoError('DECRYPTION_FAILED', 'HPKE decapsulation failed', { cause });
  }
}

function checkBytes(bytes: Uint8Array, expected: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== expected) {
    const got = bytes instanceof Uint8Array ? `${bytes.length} bytes` : typeof bytes;
    throw new CryptoError('INVALID_LENGTH', `${what} must be ${expected} bytes, got ${got}`);
  }
}
