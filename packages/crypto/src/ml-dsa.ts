/**
 * ML-DSA-65 (FIPS 204) from a 32-byte seed ξ, with two implementations behind one API:
 * `node:crypto` (OpenSSL 3.5, on Node ≥ 24.7) and `@noble/post-quantum` (everywhere else).
 *
 * Both follow FIPS 204 exactly, so a key pair derived from one seed is the same in both, and each
 * verifies the other's signatures (test/ml-dsa-backends.test.ts checks both directions). Signing
 * is hedged in both (fresh randomness, as FIPS 204 recommends), so two signatures of one message
 * differ. With OpenSSL a composite signature is about 13× faster to make and 7× faster to verify
 * than in pure JS (docs/benchmarks.md); every envelope, acknowledgement and identity document
 * carries one, so this sits on the messaging hot path.
 *
 * The key is never kept: a signing key object is built from the seed for one call and dropped.
 * `node:crypto` is reached through `process.getBuiltinModule` (see node-crypto.ts), so bundlers
 * and browsers never see it.
 *
 * @module
 */
import { concatBytes } from '@noble/hashes/utils.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { CryptoError } from './errors.js';
import { constantTimeEqual } from './constant-time.js';
import { cachedPublicKey, nodeCrypto, toBuffer, type NodeCrypto } from './node-crypto.js';

/** Byte lengths of ML-DSA-65 encodings (FIPS 204, Table 2). */
export const ML_DSA_65_LENGTHS = Object.freeze({
  seed: 32,
  publicKey: 1952,
  signature: 3309,
  /** Longest FIPS 204 context string. */
  maxContext: 255,
});

/** An ML-DSA-65 implementation: `'node'` (`node:crypto`, OpenSSL) or `'noble'` (pure JS). */
export type MlDsaBackendName = 'node' | 'noble';

interface MlDsaBackend {
  readonly name: MlDsaBackendName;
  publicKey(seed: Uint8Array): Uint8Array;
  sign(seed: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array;
  /** False for any signature, key or context that does not verify, malformed ones included. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, context: Uint8Array): boolean;
}

const noble: MlDsaBackend = {
  name: 'noble',
  publicKey(seed) {
    const { publicKey, secretKey } = ml_dsa65.keygen(seed);
    secretKey.fill(0);
    return publicKey;
  },
  sign(seed, message, context) {
    const { secretKey } = ml_dsa65.keygen(seed);
    try {
      return ml_dsa65.sign(message, secretKey, { context });
    } finally {
      secretKey.fill(0);
    }
  },
  verify(signature, message, publicKey, context) {
    try {
      return ml_dsa65.verify(signature, message, publicKey, { context });
    } catch {
      // noble throws on some malformed encodings; for a verifier that is simply "not valid".
      return false;
    }
  },
};

// DER of a seed-only PKCS #8 private key and of a SubjectPublicKeyInfo for ML-DSA-65
// (RFC 9881 / draft-ietf-lamps-dilithium-certificates: id-ml-dsa-65 = 2.16.840.1.101.3.4.3.18,
// the private key as `seed [0] IMPLICIT OCTET STRING (SIZE (32))`).
const ML_DSA_65_OID = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12];
const PKCS8_SEED_PREFIX = Uint8Array.of(0x30, 0x34, 0x02, 0x01, 0x00, 0x30, 0x0b, ...ML_DSA_65_OID, 0x04, 0x22, 0x80, 0x20);
const SPKI_PREFIX = Uint8Array.of(0x30, 0x82, 0x07, 0xb2, 0x30, 0x0b, ...ML_DSA_65_OID, 0x03, 0x82, 0x07, 0xa1, 0x00);

function nodeBackend(crypto: NodeCrypto): MlDsaBackend {
  const privateKey = (seed: Uint8Array) => {
    const der = concatBytes(PKCS8_SEED_PREFIX, seed);
    try {
      return crypto.createPrivateKey({ key: toBuffer(der), format: 'der', type: 'pkcs8' });
    } finally {
      der.fill(0);
    }
  };
  return {
    name: 'node',
    publicKey(seed) {
      const spki = crypto.createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' });
      return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
    },
    sign(seed, message, context) {
      return new Uint8Array(crypto.sign(null, message, { key: privateKey(seed), context } as Parameters<NodeCrypto['sign']>[2]));
    },
    verify(signature, message, publicKey, context) {
      if (signature.length !== ML_DSA_65_LENGTHS.signature || publicKey.length !== ML_DSA_65_LENGTHS.publicKey) return false;
      try {
        const key = cachedPublicKey(crypto, 'ml-dsa-65', publicKey, SPKI_PREFIX);
        return crypto.verify(null, message, { key, context } as Parameters<NodeCrypto['verify']>[2], signature);
      } catch {
        return false;
      }
    },
  };
}

/** Why the last probe kept pure JS (undefined when node:crypto was chosen or never probed). */
let probeFailure: string | undefined;

/**
 * node:crypto's ML-DSA-65 when it is there and agrees with FIPS 204 on a known seed; else undefined.
 * Tried twice: one CI run (in ~15) fell back to pure JS on a runtime that has ML-DSA, for a reason
 * not seen again; a second try costs ~5 ms, once per process, and the reason is kept.
 */
function probeNode(): MlDsaBackend | undefined {
  const crypto = nodeCrypto();
  if (crypto === undefined) {
    probeFailure = 'no node:crypto';
    return undefined;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const candidate = nodeBackend(crypto);
      const seed = new Uint8Array(32).fill(7);
      const publicKey = candidate.publicKey(seed);
      const context = Uint8Array.of(1);
      const message = Uint8Array.of(2);
      // The same key as noble's, and a context-bound signature noble accepts: else keep pure JS.
      if (!constantTimeEqual(publicKey, noble.publicKey(seed))) probeFailure = 'node:crypto derived another public key';
      else if (!noble.verify(candidate.sign(seed, message, context), message, publicKey, context)) probeFailure = 'noble refused a node:crypto signature';
      else {
        probeFailure = undefined;
        return candidate;
      }
    } catch (error) {
      // Node < 24.7, or OpenSSL without ML-DSA
      probeFailure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    if (attempt === 2) return undefined;
  }
}

let selected: MlDsaBackend | undefined;
let forced: MlDsaBackendName | undefined;

function backend(): MlDsaBackend {
  if (selected === undefined) selected = (forced === 'noble' ? undefined : probeNode()) ?? noble;
  if (forced === 'node' && selected.name !== 'node') throw new CryptoError('BACKEND_UNAVAILABLE', 'node:crypto has no ML-DSA-65 in this runtime (Node ≥ 24.7 has)');
  return selected;
}

/** Which implementation this runtime uses: `'node'` where `node:crypto` has ML-DSA-65, else `'noble'`. */
export function mlDsa65Backend(): MlDsaBackendName {
  return backend().name;
}

/**
 * The ML-DSA-65 public key of a 32-byte seed ξ (FIPS 204 ML-DSA.KeyGen_internal).
 * @throws CryptoError `INVALID_LENGTH` when the seed is not 32 bytes.
 */
export function mlDsa65PublicKey(seed: Uint8Array): Uint8Array {
  checkLength(seed, ML_DSA_65_LENGTHS.seed, 'ML-DSA-65 seed');
  return backend().publicKey(seed);
}

/**
 * Signs `message` (FIPS 204 ML-DSA.Sign, hedged) with the key of `seed`, bound to `context`.
 * @throws CryptoError `INVALID_LENGTH` for a wrong-length seed or a context over 255 bytes.
 */
export function mlDsa65Sign(seed: Uint8Array, message: Uint8Array, context: Uint8Array = EMPTY): Uint8Array {
  checkLength(seed, ML_DSA_65_LENGTHS.seed, 'ML-DSA-65 seed');
  checkContext(context);
  return backend().sign(seed, message, context);
}

/**
 * True when `signature` is a valid ML-DSA-65 signature of `message` under `publicKey` and
 * `context`; false for anything else, malformed inputs included.
 * @throws CryptoError `INVALID_LENGTH` for a context over 255 bytes.
 */
export function mlDsa65Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, context: Uint8Array = EMPTY): boolean {
  checkContext(context);
  if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
  return backend().verify(signature, message, publicKey, context);
}

const EMPTY = new Uint8Array(0);

function checkContext(context: Uint8Array): void {
  if (!(context instanceof Uint8Array) || context.length > ML_DSA_65_LENGTHS.maxContext) {
    throw new CryptoError('INVALID_LENGTH', `an ML-DSA context must be at most ${ML_DSA_65_LENGTHS.maxContext} bytes`);
  }
}

function checkLength(bytes: Uint8Array, expected: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== expected) {
    const got = bytes instanceof Uint8Array ? `${bytes.length} bytes` : typeof bytes;
    throw new CryptoError('INVALID_LENGTH', `${what} must be ${expected} bytes, got ${got}`);
  }
}

/**
 * Test hook: forces one implementation (`'noble'` works everywhere; `'node'` throws where
 * node:crypto lacks ML-DSA-65), or restores automatic selection with `undefined`.
 * @internal
 */
export function _useMlDsaBackendForTesting(name: MlDsaBackendName | undefined): void {
  forced = name;
  selected = name === 'noble' ? noble : undefined;
}

/**
 * Test hook: why automatic selection kept pure JS on a runtime that may have ML-DSA (undefined when
 * it chose node:crypto or has not run).
 * @internal
 */
export function _mlDsaProbeFailureForTesting(): string | undefined {
  return probeFailure;
}
