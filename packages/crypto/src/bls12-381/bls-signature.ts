import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { CryptoError, isCryptoError } from '../errors.js';
import { assertShareIndex, interpolateInExponent, type ScalarShare } from '../sharing/lagrange.js';
import type { Bls12381Backend } from './backend.js';
import { SCALAR_ORDER, decodeScalar, encodeScalar } from './scalar.js';

/**
 * BLS signatures as in draft-irtf-cfrg-bls-signature-05: the minimal-pubkey-size variant
 * (public keys in G1, 48 bytes; signatures in G2, 96 bytes) with the proof-of-possession scheme,
 * i.e. the ciphersuites `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` (signatures) and
 * `BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` (proofs of possession). This is the suite
 * Ethereum's consensus layer uses, and its published test vectors pass.
 *
 * Plus threshold signing: holders of Shamir shares of a secret key each sign with their share
 * ({@link BlsSignatures.signShare}); any threshold of those partial signatures combine, with
 * Lagrange coefficients in G2, into exactly the signature of the whole key.
 *
 * Runs on any {@link Bls12381Backend} (noble or mcl); all encodings are the ZCash/IETF compressed
 * ones, so a signature made on one backend verifies on the other.
 *
 * Rogue-key safety: `fastAggregateVerify` (same message, many keys) is only sound for public keys
 * whose proof of possession has been checked with `popVerify` beforehand.
 */

/** Ciphersuite ID (and hash-to-G2 DST) of signatures. */
export const BLS_SIGNATURE_CIPHERSUITE = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
/** Ciphersuite ID (and hash-to-G2 DST) of proofs of possession. */
export const BLS_POP_CIPHERSUITE = 'BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';

/** A signature made with one Shamir share of a secret key. */
export interface PartialSignature {
  /** The share's public index (the x at which the key polynomial was evaluated). */
  readonly index: bigint;
  /** 96-byte compressed G2 point: share·H(message). */
  readonly signature: Uint8Array;
}

/** The BLS signature operations over one backend. Keys and signatures are bytes. */
export interface BlsSignatures {
  /** The backend doing the group maths. */
  readonly backend: Bls12381Backend<unknown, unknown, unknown>;
  /**
   * The draft's KeyGen: a secret key (32 bytes, big-endian) derived from `ikm` with HKDF-SHA-256.
   * @param ikm - at least 32 bytes of secret keying material.
   * @param keyInfo - optional context bound into the key (default empty).
   * @throws CryptoError `INVALID_ARGUMENT` if `ikm` is shorter than 32 bytes.
   */
  keyGen(ikm: Uint8Array, keyInfo?: Uint8Array): Uint8Array;
  /** SkToPk: the 48-byte public key of a secret key. @throws CryptoError `INVALID_LENGTH`/`INVALID_SCALAR`. */
  skToPk(secretKey: Uint8Array): Uint8Array;
  /** KeyValidate: true iff `publicKey` decodes to a G1 subgroup point other than infinity. */
  keyValidate(publicKey: Uint8Array): boolean;
  /** Sign: the 96-byte signature of `message`. @throws CryptoError for an invalid secret key. */
  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** Verify: true iff `signature` is valid for `message` under `publicKey`; false for any invalid input. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /**
   * Aggregate: the sum of signatures (each must be a valid G2 subgroup encoding).
   * @throws CryptoError `INVALID_ARGUMENT` for an empty list, or the decode error of a bad signature.
   */
  aggregateSignatures(signatures: readonly Uint8Array[]): Uint8Array;
  /**
   * The sum of public keys (each must pass KeyValidate). Only meaningful for keys whose proofs of
   * possession were verified. @throws CryptoError as {@link aggregateSignatures}.
   */
  aggregatePublicKeys(publicKeys: readonly Uint8Array[]): Uint8Array;
  /** AggregateVerify: key i signed message i (messages need not differ in the POP scheme). */
  aggregateVerify(publicKeys: readonly Uint8Array[], messages: readonly Uint8Array[], signature: Uint8Array): boolean;
  /** FastAggregateVerify: every key signed the same message. Requires POP-verified keys. */
  fastAggregateVerify(publicKeys: readonly Uint8Array[], message: Uint8Array, signature: Uint8Array): boolean;
  /** PopProve: the 96-byte proof of possession of a secret key. */
  popProve(secretKey: Uint8Array): Uint8Array;
  /** PopVerify: true iff `proof` is a valid proof of possession for `publicKey`. */
  popVerify(publicKey: Uint8Array, proof: Uint8Array): boolean;
  /**
   * Sign with a Shamir share of a secret key. The partial signature verifies with `verify` under
   * the share's public key `skToPk(encodeScalar(share.value))`.
   * @throws CryptoError `INVALID_SCALAR` for a share value of 0 or >= r, `INVALID_ARGUMENT` for
   *   an index outside [1, r).
   */
  signShare(share: ScalarShare, message: Uint8Array): PartialSignature;
  /**
   * Combine partial signatures of distinct shares into the signature of the shared key. Give at
   * least the threshold of them; the result is only correct if every partial is, so verify the
   * result (or each partial) before relying on it.
   * @throws CryptoError `NOT_ENOUGH_SHARES` (none, or duplicate indices), `INVALID_ARGUMENT`
   *   (bad index), or the decode error of a malformed partial signature.
   */
  combineSignatureShares(partials: ReadonlyArray<PartialSignature>): Uint8Array;
}

const KEYGEN_SALT = new TextEncoder().encode('BLS-SIG-KEYGEN-SALT-');
/** L = ceil((3 · ceil(log2(r))) / 16) = 48 bytes of HKDF output per draft §2.3. */
const KEYGEN_L = 48;

/**
 * KeyGen of draft-irtf-cfrg-bls-signature-05 §2.3 (independent of the backend).
 * @throws CryptoError `INVALID_ARGUMENT` if `ikm` is shorter than 32 bytes.
 */
function keyGen(ikm: Uint8Array, keyInfo: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (!(ikm instanceof Uint8Array) || ikm.length < 32) {
    throw new CryptoError('INVALID_ARGUMENT', 'KeyGen needs at least 32 bytes of IKM');
  }
  if (!(keyInfo instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', 'keyInfo must be a Uint8Array');
  const ikmZero = concatBytes(ikm, new Uint8Array([0]));
  const info = concatBytes(keyInfo, new Uint8Array([0, KEYGEN_L]));
  let salt: Uint8Array = KEYGEN_SALT;
  for (;;) {
    salt = sha256(salt);
    const okm = expand(sha256, extract(sha256, ikmZero, salt), info, KEYGEN_L);
    let sk = 0n;
    for (const b of okm) sk = (sk << 8n) | BigInt(b);
    sk %= SCALAR_ORDER;
    okm.fill(0);
    ikmZero.fill(0);
    if (sk !== 0n) return encodeScalar(sk);
    ikmZero.set(ikm);
  }
}

/** False for anything that is not a well-formed, valid point; other errors propagate. */
function validOrFalse(check: () => boolean): boolean {
  try {
    return check();
  } catch (err) {
    if (isCryptoError(err)) return false;
    throw err;
  }
}

/**
 * The BLS signature scheme (draft-irtf-cfrg-bls-signature-05, minimal-pubkey-size, POP) over a
 * backend, e.g. `createBlsSignatures(nobleBackend)` or `createBlsSignatures(await createMclBackend())`.
 */
export function createBlsSignatures<G1, G2, PreparedG2>(
  backend: Bls12381Backend<G1, G2, PreparedG2>,
): BlsSignatures {
  const { g1, g2 } = backend;
  const negG1 = g1.negate(g1.base);

  const secretScalar = (secretKey: Uint8Array): bigint => decodeScalar(secretKey, { rejectZero: true });
  // The scheme's encodings are the compressed ones only (48 and 96 bytes); the backends would
  // also take uncompressed points, which would give one key two encodings (and two PoP messages).
  const decodeCompressed = <P>(bytes: Uint8Array, group: { compressedLength: number; decode(b: Uint8Array): P }): P => {
    if (!(bytes instanceof Uint8Array) || bytes.length !== group.compressedLength) {
      throw new CryptoError('INVALID_LENGTH', `expected a ${group.compressedLength}-byte compressed point`);
    }
    return group.decode(bytes);
  };
  const decodePublicKey = (publicKey: Uint8Array): G1 => decodeCompressed(publicKey, g1);
  const decodeSignature = (signature: Uint8Array): G2 => decodeCompressed(signature, g2);
  const signWith = (sk: bigint, message: Uint8Array, dst: string): Uint8Array =>
    g2.encode(g2.multiply(g2.hash(message, dst), sk));

  /** CoreVerify: e(PK, H(m)) · e(−G1, σ) = 1. Inputs already decoded and validated. */
  const coreVerify = (pk: G1, message: Uint8Array, signature: G2, dst: string): boolean =>
    backend.pairingProductIsOne([
      [pk, backend.prepareG2(g2.hash(message, dst))],
      [negG1, backend.prepareG2(signature)],
    ]);

  const sumOf = <P>(items: readonly Uint8Array[], decode: (b: Uint8Array) => P, add: (a: P, b: P) => P, zero: P): P => {
    if (!Array.isArray(items) || items.length === 0) throw new CryptoError('INVALID_ARGUMENT', 'nothing to aggregate');
    return items.reduce<P>((acc, item) => add(acc, decode(item)), zero);
  };

  return {
    backend: backend as Bls12381Backend<unknown, unknown, unknown>,
    keyGen,
    skToPk: (secretKey) => g1.encode(g1.multiply(g1.base, secretScalar(secretKey))),
    keyValidate: (publicKey) => validOrFalse(() => (decodePublicKey(publicKey), true)),
    sign: (secretKey, message) => signWith(secretScalar(secretKey), message, BLS_SIGNATURE_CIPHERSUITE),
    verify: (publicKey, message, signature) =>
      validOrFalse(() =>
        coreVerify(decodePublicKey(publicKey), message, decodeSignature(signature), BLS_SIGNATURE_CIPHERSUITE),
      ),
    aggregateSignatures: (signatures) => g2.encode(sumOf(signatures, decodeSignature, g2.add, g2.zero)),
    aggregatePublicKeys: (publicKeys) => g1.encode(sumOf(publicKeys, decodePublicKey, g1.add, g1.zero)),
    aggregateVerify: (publicKeys, messages, signature) =>
      validOrFalse(() => {
        if (publicKeys.length === 0 || publicKeys.length !== messages.length) return false;
        const pairs: Array<readonly [G1, PreparedG2]> = publicKeys.map((pk, i) => [
          decodePublicKey(pk),
          backend.prepareG2(g2.hash(messages[i] as Uint8Array, BLS_SIGNATURE_CIPHERSUITE)),
        ]);
        pairs.push([negG1, backend.prepareG2(decodeSignature(signature))]);
        return backend.pairingProductIsOne(pairs);
      }),
    fastAggregateVerify: (publicKeys, message, signature) =>
      validOrFalse(() => {
        if (publicKeys.length === 0) return false;
        const aggregate = sumOf(publicKeys, decodePublicKey, g1.add, g1.zero);
        if (g1.isZero(aggregate)) return false; // KeyValidate of the aggregate
        return coreVerify(aggregate, message, decodeSignature(signature), BLS_SIGNATURE_CIPHERSUITE);
      }),
    popProve(secretKey) {
      const sk = secretScalar(secretKey);
      return signWith(sk, g1.encode(g1.multiply(g1.base, sk)), BLS_POP_CIPHERSUITE);
    },
    popVerify: (publicKey, proof) =>
      validOrFalse(() => coreVerify(decodePublicKey(publicKey), publicKey, decodeSignature(proof), BLS_POP_CIPHERSUITE)),
    signShare(share, message) {
      assertShareIndex(share.index);
      const value = share.value;
      if (typeof value !== 'bigint' || value <= 0n || value >= SCALAR_ORDER) {
        throw new CryptoError('INVALID_SCALAR', 'share value must be a bigint in [1, r)');
      }
      return { index: share.index, signature: signWith(value, message, BLS_SIGNATURE_CIPHERSUITE) };
    },
    combineSignatureShares: (partials) =>
      g2.encode(
        interpolateInExponent(
          g2,
          partials.map((p) => ({ index: p.index, point: decodeSignature(p.signature) })),
        ),
      ),
  };
}
