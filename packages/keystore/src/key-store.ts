/**
 * Key types a {@link KeyStore} holds. The secret each one stores, and what it can do:
 *
 * | type         | secret (import format)                 | public key                      | operations                 |
 * |--------------|----------------------------------------|---------------------------------|----------------------------|
 * | `ed25519`    | 32-byte seed (RFC 8032)                | 32 bytes                        | `sign` (pure Ed25519)      |
 * | `ml-dsa-65`  | 32-byte seed ξ (FIPS 204)              | 1952 bytes                      | `sign` (pure, optional context) |
 * | `x-wing`     | 32-byte seed (draft-connolly-cfrg-xwing-kem) | 1216 bytes                | `decapsulate`              |
 * | `bls12-381`  | 32-byte big-endian scalar, 0 < sk < r  | 48-byte compressed G1 (min-pk)  | `sign` (96-byte G2 signature) |
 * | `secp256k1`  | 32-byte big-endian scalar              | 33-byte compressed SEC1 point   | `sign` (ECDSA, low-S, r‖s) |
 * | `p-256`      | 32-byte big-endian scalar              | 33-byte compressed SEC1 point   | `sign` (ECDSA, low-S, r‖s) |
 * | `aes-256`    | 32-byte key                            | none                            | `encrypt` / `decrypt` (AES-256-GCM) |
 * | `secret`     | 1–8192 opaque bytes                    | none                            | `exportSecret` only        |
 */
export type KeyType =
  | 'ed25519'
  | 'ml-dsa-65'
  | 'x-wing'
  | 'bls12-381'
  | 'secp256k1'
  | 'p-256'
  | 'aes-256'
  | 'secret';

/** Every {@link KeyType}, in a stable order. */
export const KEY_TYPES: readonly KeyType[] = [
  'ed25519',
  'ml-dsa-65',
  'x-wing',
  'bls12-381',
  'secp256k1',
  'p-256',
  'aes-256',
  'secret',
];

/** Names one key: by its store-assigned `id`, or by the caller's `label` (unique within a store). */
export type KeyRef = { readonly id: string } | { readonly label: string };

/**
 * Where a key's secret lives. `software`: sealed at rest, unwrapped in process memory only for the
 * duration of one operation. `hsm`: generated or imported into the HSM as a non-extractable object;
 * operations run inside the token.
 */
export type KeyResidency = 'software' | 'hsm';

/** Metadata of one key. Never contains secret material. */
export interface KeyInfo {
  /** Store-assigned identifier (32 lowercase hex characters). */
  readonly id: string;
  /** Caller-chosen name, unique within the store. */
  readonly label: string;
  readonly type: KeyType;
  /** Public key in the encoding of {@link KeyType}; absent for `aes-256` and `secret`. */
  readonly publicKey?: Uint8Array;
  readonly residency: KeyResidency;
}

/** Options for {@link KeyStore.generate} and {@link KeyStore.import}. */
export interface CreateKeyOptions {
  /** Unique name, 1–128 UTF-8 bytes without control characters. */
  readonly label: string;
}

/** Options for {@link KeyStore.sign}. Each applies to some key types only and is refused on others. */
export interface SignOptions {
  /**
   * ECDSA keys only: `message` is already a 32-byte digest and is signed as is. By default the
   * message is hashed with SHA-256 first.
   */
  readonly prehashed?: boolean;
  /** ML-DSA-65 only: the FIPS 204 context string (at most 255 bytes). Default empty. */
  readonly context?: Uint8Array;
  /**
   * BLS12-381 only: the RFC 9380 domain separation tag for hashing the message to G2. Default
   * `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_` (the basic scheme of draft-irtf-cfrg-bls-signature).
   */
  readonly dst?: string;
}

/** Options for {@link KeyStore.rotateKek}. */
export interface RotateKekOptions {
  /** Encrypted-file stores only: the new passphrase. Default: keep the passphrase, change the salt. */
  readonly passphrase?: string | Uint8Array;
}

/**
 * Keys at rest, used in place. One interface over every backend (memory, encrypted file, PKCS#11).
 *
 * Private keys never leave a store unwrapped except through {@link KeyStore.exportSecret}, which an
 * HSM backend refuses for HSM-resident keys. Every method rejects with a `KeyStoreError` whose
 * `code` says what went wrong.
 */
export interface KeyStore {
  /** Generates a fresh key of `type` from a CSPRNG (inside the HSM where the backend can). */
  generate(type: KeyType, options: CreateKeyOptions): Promise<KeyInfo>;
  /** Stores existing key material (format per {@link KeyType}); rejects invalid keys with `INVALID_KEY`. */
  import(type: KeyType, secret: Uint8Array, options: CreateKeyOptions): Promise<KeyInfo>;
  /** Metadata of one key. */
  describe(ref: KeyRef): Promise<KeyInfo>;
  /** Metadata of every key, ordered by label. */
  list(): Promise<KeyInfo[]>;
  /** The key's public key; `UNSUPPORTED` for `aes-256` and `secret`. */
  publicKey(ref: KeyRef): Promise<Uint8Array>;
  /** Signs `message` with an `ed25519`, `ml-dsa-65`, `bls12-381`, `secp256k1` or `p-256` key. */
  sign(ref: KeyRef, message: Uint8Array, options?: SignOptions): Promise<Uint8Array>;
  /** X-Wing decapsulation: the 32-byte shared secret for a 1120-byte ciphertext. */
  decapsulate(ref: KeyRef, cipherText: Uint8Array): Promise<Uint8Array>;
  /** AES-256-GCM with a fresh random nonce; returns `nonce(12) ‖ ciphertext ‖ tag(16)`. */
  encrypt(ref: KeyRef, plaintext: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array>;
  /** Opens the output of {@link KeyStore.encrypt}; `DECRYPTION_FAILED` if it does not authenticate. */
  decrypt(ref: KeyRef, sealed: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array>;
  /**
   * Returns the raw secret, in the import format of its type. The one way a private key leaves the
   * store: call it only to back up or migrate keys. `NOT_EXTRACTABLE` for HSM-resident keys.
   */
  exportSecret(ref: KeyRef): Promise<Uint8Array>;
  /** Deletes the key; `NOT_FOUND` if it does not exist. */
  delete(ref: KeyRef): Promise<void>;
  /**
   * Re-wraps every software key under a new key-encryption key. Crash-safe: if the process dies
   * part way, every key still opens, under the old or the new KEK.
   */
  rotateKek(options?: RotateKekOptions): Promise<void>;
  /** Releases sessions, handles and cached key-encryption keys. Further calls reject with `CLOSED`. */
  close(): Promise<void>;
}
