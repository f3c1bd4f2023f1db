/**
 * X-Wing: the ML-KEM-768 + X25519 hybrid KEM of draft-connolly-cfrg-xwing-kem (checked against
 * the test vectors of revision 10), HPKE KEM id 0x647a.
 *
 * The construction is composed here from audited pieces: ML-KEM-768 (FIPS 203) from `node:crypto`
 * where the runtime has it (Node ≥ 24.7, see ml-kem.ts) else `@noble/post-quantum`, SHAKE-256 and
 * SHA3-256 from `@noble/hashes`, and X25519 from WebCrypto
 * where the platform has it (Node ≥ 20, current browsers), else from `@noble/curves`. noble's own
 * `ml_kem768_x25519` is the same KEM (the tests check both agree), but its pure-JS X25519 costs
 * ~1.3 ms of a ~2.1 ms encapsulation; WebCrypto's X25519 takes ~0.1 ms, which matters when an
 * envelope wraps its content key for hundreds of recipients.
 *
 * @module
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { sha3_256, shake256 } from '@noble/hashes/sha3.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { CryptoError } from './errors.js';
import { mlKemBackend, type MlKemDecapsulationKey } from './ml-kem.js';
import { randomBytes } from './random.js';

const ML_KEM_PUBLIC_KEY_LENGTH = 1184;
const ML_KEM_CIPHERTEXT_LENGTH = 1088;
const X25519_LENGTH = 32;

/** Byte lengths of X-Wing keys, ciphertexts and seeds (draft-connolly-cfrg-xwing-kem §5.1). */
export const XWING_LENGTHS = Object.freeze({
  /** Secret (decapsulation) key; it is also the key-generation seed. */
  secretKey: 32,
  /** Public (encapsulation) key: ML-KEM-768 public key (1184) ‖ X25519 public key (32). */
  publicKey: ML_KEM_PUBLIC_KEY_LENGTH + X25519_LENGTH,
  /** Ciphertext: ML-KEM-768 ciphertext (1088) ‖ X25519 ephemeral public key (32). */
  ciphertext: ML_KEM_CIPHERTEXT_LENGTH + X25519_LENGTH,
  /** Shared secret. */
  sharedSecret: 32,
  /** Encapsulation randomness `eseed` of the derandomised encapsulation. */
  encapsulationSeed: 64,
});

/** An X-Wing key pair: the 32-byte secret key and the 1216-byte public key. */
export interface XWingKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** The result of an encapsulation: the shared secret and the ciphertext that carries it. */
export interface XWingEncapsulation {
  readonly sharedSecret: Uint8Array;
  readonly ciphertext: Uint8Array;
}

// XWingLabel = "\./" ‖ "/^\" (hex 5c2e2f2f5e5c), appended last in the combiner.
const XWING_LABEL = Uint8Array.of(0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c);

/**
 * Whatever can decapsulate X-Wing ciphertexts for one key pair: an {@link XWingDecapsulationKey} in
 * memory, or a key store or HSM that keeps the secret key and exposes only this operation.
 */
export interface XWingDecapsulator {
  /** The 1216-byte public key. */
  readonly publicKey: Uint8Array;
  /** The 32-byte shared secret of a 1120-byte ciphertext; rejects what it cannot decapsulate. */
  decapsulate(ciphertext: Uint8Array): Promise<Uint8Array>;
}

/**
 * An X-Wing secret key expanded once into its ML-KEM-768 and X25519 parts (draft §5.5.1), so that
 * many ciphertexts can be decapsulated without repeating key generation. Never serialise it: only
 * the 32-byte secret key is a portable encoding.
 */
export class XWingDecapsulationKey implements XWingDecapsulator {
  /** The matching 1216-byte public key. */
  readonly publicKey: Uint8Array;
  readonly #mlKem: MlKemDecapsulationKey;
  readonly #x25519Secret: Uint8Array;
  readonly #x25519Public: Uint8Array;

  private constructor(secretKey: Uint8Array) {
    checkLength(secretKey, XWING_LENGTHS.secretKey, 'X-Wing secret key');
    const expanded = shake256(secretKey, { dkLen: 96 });
    const backend = mlKemBackend();
    const mlKem = backend.expand(expanded.subarray(0, 64));
    this.#mlKem = mlKem;
    this.#x25519Secret = expanded.slice(64, 96);
    this.#x25519Public = backend.x25519PublicKey(this.#x25519Secret);
    this.publicKey = concatBytes(mlKem.publicKey, this.#x25519Public);
    expanded.fill(0);
  }

  /**
   * Expands a 32-byte X-Wing secret key.
   * @throws CryptoError `INVALID_LENGTH` when the secret key is not 32 bytes.
   */
  static fromSecretKey(secretKey: Uint8Array): XWingDecapsulationKey {
    return new XWingDecapsulationKey(secretKey);
  }

  /** Recovers the shared secret from a ciphertext (see {@link xwingDecapsulate}). */
  async decapsulate(ciphertext: Uint8Array): Promise<Uint8Array> {
    checkLength(ciphertext, XWING_LENGTHS.ciphertext, 'X-Wing ciphertext');
    const ctX = ciphertext.subarray(ML_KEM_CIPHERTEXT_LENGTH);
    // ML-KEM decapsulation rejects implicitly: a tampered ct_M yields an unrelated secret.
    const ssM = this.#mlKem.decapsulate(ciphertext.subarray(0, ML_KEM_CIPHERTEXT_LENGTH));
    const ssX = await x25519Exchange(this.#x25519Secret, ctX, 'DECRYPTION_FAILED');
    return combiner(ssM, ssX, ctX, this.#x25519Public);
  }
}

/**
 * Derives an X-Wing key pair from a 32-byte seed (`GenerateKeyPairDerand`): the seed itself is the
 * secret key.
 * @throws CryptoError `INVALID_LENGTH` when the seed is not 32 bytes.
 */
export function xwingKeyPairFromSeed(seed: Uint8Array): XWingKeyPair {
  const key = XWingDecapsulationKey.fromSecretKey(seed);
  return { publicKey: key.publicKey, secretKey: seed.slice() };
}

/** Generates a fresh X-Wing key pair from the platform CSPRNG. */
export function generateXWingKeyPair(): XWingKeyPair {
  return xwingKeyPairFromSeed(randomBytes(XWING_LENGTHS.secretKey));
}

/**
 * Encapsulates a fresh shared secret to an X-Wing public key.
 * @param encapsulationSeed 64 bytes of encapsulation randomness, for known-answer tests only
 *   (`EncapsulateDerand`); omit it in production.
 * @throws CryptoError `INVALID_LENGTH` for a wrong-length public key or seed; `INVALID_ENCODING`
 *   when the ML-KEM encapsulation key check (FIPS 203 §7.2) fails or the X25519 key is a
 *   low-order point.
 */
export async function xwingEncapsulate(
  publicKey: Uint8Array,
  encapsulationSeed?: Uint8Array,
): Promise<XWingEncapsulation> {
  checkLength(publicKey, XWING_LENGTHS.publicKey, 'X-Wing public key');
  const eseed = encapsulationSeed ?? randomBytes(XWING_LENGTHS.encapsulationSeed);
  checkLength(eseed, XWING_LENGTHS.encapsulationSeed, 'X-Wing encapsulation seed');
  const pkM = publicKey.subarray(0, ML_KEM_PUBLIC_KEY_LENGTH);
  const pkX = publicKey.subarray(ML_KEM_PUBLIC_KEY_LENGTH);
  const ekX = eseed.subarray(32, 64);
  let mlKem: { sharedSecret: Uint8Array; cipherText: Uint8Array };
  try {
    // Derandomised (known-answer tests) on noble, which takes the seed; fresh on the fastest backend.
    mlKem = encapsulationSeed === undefined ? mlKemBackend().encapsulate(pkM) : ml_kem768.encapsulate(pkM, eseed.subarray(0, 32));
  } catch (cause) {
    throw new CryptoError('INVALID_ENCODING', 'X-Wing public key fails the ML-KEM-768 encapsulation key check', { cause });
  }
  const [ctX, ssX] = await Promise.all([
    x25519Exchange(ekX, X25519_BASE_POINT, 'INVALID_ENCODING'),
    x25519Exchange(ekX, pkX, 'INVALID_ENCODING'),
  ]);
  if (encapsulationSeed === undefined) eseed.fill(0);
  return {
    sharedSecret: combiner(mlKem.sharedSecret, ssX, ctX, pkX),
    ciphertext: concatBytes(mlKem.cipherText, ctX),
  };
}

/**
 * Recovers the shared secret of an X-Wing ciphertext. Pass an {@link XWingDecapsulationKey} to
 * skip re-expanding the secret key (about 0.6 ms) on every call.
 * @throws CryptoError `INVALID_LENGTH` for a wrong-length key or ciphertext; `DECRYPTION_FAILED`
 *   when the ciphertext's X25519 share is a low-order point. Any other tampering is rejected
 *   implicitly: the result is a shared secret that matches nothing.
 */
export async function xwingDecapsulate(
  secretKey: Uint8Array | XWingDecapsulationKey,
  ciphertext: Uint8Array,
): Promise<Uint8Array> {
  const key = secretKey instanceof XWingDecapsulationKey ? secretKey : XWingDecapsulationKey.fromSecretKey(secretKey);
  return key.decapsulate(ciphertext);
}

function combiner(ssM: Uint8Array, ssX: Uint8Array, ctX: Uint8Array, pkX: Uint8Array): Uint8Array {
  return sha3_256(concatBytes(ssM, ssX, ctX, pkX, XWING_LABEL));
}

function checkLength(bytes: Uint8Array, expected: number, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== expected) {
    const got = bytes instanceof Uint8Array ? `${bytes.length} bytes` : typeof bytes;
    throw new CryptoError('INVALID_LENGTH', `${what} must be ${expected} bytes, got ${got}`);
  }
}

// ---------------------------------------------------------------------------------------------
// X25519 (RFC 7748): WebCrypto when available, else noble. Both reject an all-zero result
// (a low-order input point), which callers turn into a typed error.

const X25519_BASE_POINT = Uint8Array.of(9, ...new Uint8Array(31));
// PKCS #8 prefix for a raw X25519 private key (RFC 8410).
const PKCS8_X25519_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20);

type X25519Function = (scalar: Uint8Array, u: Uint8Array) => Promise<Uint8Array>;

const nobleX25519: X25519Function = async (scalar, u) => x25519.scalarMult(scalar, u);

function webCryptoX25519(subtle: SubtleCrypto): X25519Function {
  const algorithm = { name: 'X25519' } as const;
  return async (scalar, u) => {
    const pkcs8 = concatBytes(PKCS8_X25519_PREFIX, scalar);
    const [privateKey, publicKey] = await Promise.all([
      subtle.importKey('pkcs8', pkcs8, algorithm, false, ['deriveBits']),
      subtle.importKey('raw', u.slice(), algorithm, true, []),
    ]);
    pkcs8.fill(0);
    return new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: publicKey }, privateKey, 256));
  };
}

let selectedX25519: Promise<X25519Function> | undefined;

/** Picks WebCrypto once, after checking it really computes RFC 7748 X25519 on this platform. */
function x25519Backend(): Promise<X25519Function> {
  selectedX25519 ??= (async () => {
    const subtle = globalThis.crypto?.subtle;
    if (subtle === undefined) return nobleX25519;
    try {
      const candidate = webCryptoX25519(subtle);
      const scalar = new Uint8Array(32).fill(0x42);
      const got = await candidate(scalar, X25519_BASE_POINT);
      const want = x25519.getPublicKey(scalar);
      return got.length === 32 && got.every((b, i) => b === want[i]) ? candidate : nobleX25519;
    } catch {
      return nobleX25519;
    }
  })();
  return selectedX25519;
}

async function x25519Exchange(
  scalar: Uint8Array,
  u: Uint8Array,
  failure: 'INVALID_ENCODING' | 'DECRYPTION_FAILED',
): Promise<Uint8Array> {
  const exchange = await x25519Backend();
  try {
    return await exchange(scalar, u);
  } catch (cause) {
    throw new CryptoError(failure, 'X25519 input is a low-order point', { cause });
  }
}

/**
 * Test hook: forces the pure-JS X25519 backend, or restores automatic selection.
 * @internal
 */
export function _usePureJsX25519ForTesting(pureJs: boolean): void {
  selectedX25519 = pureJs ? Promise.resolve(nobleX25519) : undefined;
}

/**
 * Test hook: which X25519 backend is in use.
 * @internal
 */
export async function _x25519BackendForTesting(): Promise<'webcrypto' | 'noble'> {
  return (await x25519Backend()) === nobleX25519 ? 'noble' : 'webcrypto';
}
