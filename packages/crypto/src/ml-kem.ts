/**
 * ML-KEM-768 (FIPS 203) and the X25519 public-key derivation that X-Wing needs, on `node:crypto`
 * (OpenSSL 3.5, Node ≥ 24.7) where the runtime has them, else on `@noble/post-quantum` and
 * `@noble/curves`. Internal to the package: X-Wing (xwing.ts) is the public API.
 *
 * Both implementations follow FIPS 203, so a seed gives the same key pair and each decapsulates
 * the other's ciphertexts; the native one is picked only after it derives noble's public key for a
 * fixed seed. Native key expansion plus decapsulation takes about a third of the pure-JS time, and
 * a key store expands the key for every decapsulation (it keeps no secret in memory between calls).
 * Derandomised encapsulation (known-answer tests) always runs on noble: OpenSSL takes no seed.
 *
 * @module
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import type { KeyObject } from 'node:crypto';
import { constantTimeEqual } from './constant-time.js';
import { nodeCrypto, toBuffer, type NodeCrypto } from './node-crypto.js';

/** An expanded ML-KEM-768 decapsulation key. */
export interface MlKemDecapsulationKey {
  readonly publicKey: Uint8Array;
  /** The shared secret of a 1088-byte ciphertext (implicit rejection: tampering gives an unrelated secret). */
  decapsulate(cipherText: Uint8Array): Uint8Array;
}

export interface MlKemBackend {
  readonly name: 'node' | 'noble';
  /** ML-KEM.KeyGen_internal from the 64-byte seed d ‖ z. */
  expand(seed: Uint8Array): MlKemDecapsulationKey;
  /** Fresh encapsulation; throws when the encapsulation key fails the FIPS 203 §7.2 check. */
  encapsulate(publicKey: Uint8Array): { sharedSecret: Uint8Array; cipherText: Uint8Array };
  /** The X25519 public key of a 32-byte scalar (RFC 7748). */
  x25519PublicKey(scalar: Uint8Array): Uint8Array;
}

export const nobleMlKem: MlKemBackend = {
  name: 'noble',
  expand(seed) {
    const { publicKey, secretKey } = ml_kem768.keygen(seed);
    return { publicKey, decapsulate: (cipherText) => ml_kem768.decapsulate(cipherText, secretKey) };
  },
  encapsulate: (publicKey) => ml_kem768.encapsulate(publicKey),
  x25519PublicKey: (scalar) => x25519.getPublicKey(scalar),
};

// DER of seed-only PKCS #8 keys and of SubjectPublicKeyInfo (RFC 9935 for ML-KEM, with
// id-alg-ml-kem-768 = 2.16.840.1.101.3.4.4.2 and the private key as `seed [0] OCTET STRING (64)`;
// RFC 8410 for X25519).
const ML_KEM_768_OID = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04, 0x02];
const PKCS8_ML_KEM_SEED_PREFIX = Uint8Array.of(0x30, 0x54, 0x02, 0x01, 0x00, 0x30, 0x0b, ...ML_KEM_768_OID, 0x04, 0x42, 0x80, 0x40);
const SPKI_ML_KEM_PREFIX = Uint8Array.of(0x30, 0x82, 0x04, 0xb2, 0x30, 0x0b, ...ML_KEM_768_OID, 0x03, 0x82, 0x04, 0xa1, 0x00);
const PKCS8_X25519_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20);
const SPKI_X25519_PREFIX_LENGTH = 12;

function nodeMlKem(crypto: NodeCrypto): MlKemBackend {
  const privateKey = (prefix: Uint8Array, secret: Uint8Array): KeyObject => {
    const der = concatBytes(prefix, secret);
    try {
      return crypto.createPrivateKey({ key: toBuffer(der), format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0);
    }
  };
  const publicKeyBytes = (key: KeyObject, prefixLength: number): Uint8Array =>
    new Uint8Array(crypto.createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(prefixLength));
  return {
    name: 'node',
    expand(seed) {
      const key = privateKey(PKCS8_ML_KEM_SEED_PREFIX, seed);
      return {
        publicKey: publicKeyBytes(key, SPKI_ML_KEM_PREFIX.length),
        decapsulate: (cipherText) => new Uint8Array(crypto.decapsulate(key, cipherText)),
      };
    },
    encapsulate(publicKey) {
      // OpenSSL runs the FIPS 203 encapsulation key check when it reads the key, and throws.
      const der = concatBytes(SPKI_ML_KEM_PREFIX, publicKey);
      const key = crypto.createPublicKey({ key: toBuffer(der), format: 'der', type: 'spki' });
      const { sharedKey, ciphertext } = crypto.encapsulate(key);
      return { sharedSecret: new Uint8Array(sharedKey), cipherText: new Uint8Array(ciphertext) };
    },
    x25519PublicKey: (scalar) => publicKeyBytes(privateKey(PKCS8_X25519_PREFIX, scalar), SPKI_X25519_PREFIX_LENGTH),
  };
}

function probeNode(): MlKemBackend | undefined {
  const crypto = nodeCrypto();
  if (crypto === undefined || typeof crypto.decapsulate !== 'function') return undefined;
  try {
    const candidate = nodeMlKem(crypto);
    const seed = new Uint8Array(64).fill(5);
    const key = candidate.expand(seed);
    const reference = nobleMlKem.expand(seed);
    const { sharedSecret, cipherText } = candidate.encapsulate(reference.publicKey);
    const scalar = new Uint8Array(32).fill(0x42);
    const agrees =
      constantTimeEqual(key.publicKey, reference.publicKey) &&
      constantTimeEqual(reference.decapsulate(cipherText), sharedSecret) &&
      constantTimeEqual(candidate.x25519PublicKey(scalar), nobleMlKem.x25519PublicKey(scalar));
    return agrees ? candidate : undefined;
  } catch {
    return undefined; // Node < 24.7, or OpenSSL without ML-KEM
  }
}

let selected: MlKemBackend | undefined;

/** node:crypto's ML-KEM-768 when present and in agreement with noble, else noble. */
export function mlKemBackend(): MlKemBackend {
  selected ??= probeNode() ?? nobleMlKem;
  return selected;
}

/**
 * Test hook: forces the pure-JS backend (`true`) or restores automatic selection (`false`).
 * @internal
 */
export function _usePureJsMlKemForTesting(pureJs: boolean): void {
  selected = pureJs ? nobleMlKem : undefined;
}
