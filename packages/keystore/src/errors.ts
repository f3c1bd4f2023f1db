/**
 * Stable error codes of `@milagro/keystore`. Callers switch on `code`, never on messages.
 * Codes are append-only: removing or renaming one is a breaking change.
 */
export type KeyStoreErrorCode =
  /** The passphrase does not open this key file (its key-check entry failed to authenticate). */
  | 'WRONG_PASSPHRASE'
  /** The PKCS#11 token refused the PIN. */
  | 'WRONG_PIN'
  /** The PKCS#11 token has locked the PIN after too many failed logins. */
  | 'PIN_LOCKED'
  /** The PIN source (environment variable or file) is missing or empty. */
  | 'PIN_UNAVAILABLE'
  /** Stored data failed its integrity check or could not be decoded. */
  | 'CORRUPTED'
  /** No key with that id or label. */
  | 'NOT_FOUND'
  /** A key with that label already exists. */
  | 'ALREADY_EXISTS'
  /** The PKCS#11 module, slot or token cannot be reached (missing, finalised, removed). Try again later. */
  | 'TOKEN_UNAVAILABLE'
  /** The key type does not support the operation (e.g. `sign` with an X-Wing key), or the backend cannot do it. */
  | 'UNSUPPORTED'
  /** The key lives in an HSM and cannot be exported. */
  | 'NOT_EXTRACTABLE'
  /** Key material has the wrong length or is not a valid key of its type. */
  | 'INVALID_KEY'
  /** AES-256-GCM `decrypt`: wrong key, wrong associated data or tampered ciphertext. */
  | 'DECRYPTION_FAILED'
  /** An argument is out of range or malformed (label, ciphertext length, options). */
  | 'INVALID_ARGUMENT'
  /** Persisting the store failed (disk full, permissions). Nothing was changed. */
  | 'WRITE_FAILED'
  /** Another writer held the key file's lock for longer than the timeout. */
  | 'LOCK_TIMEOUT'
  /** A signature produced by the HSM did not verify against the key's public key; it was not released. */
  | 'SIGNATURE_FAILED'
  /** The store has been closed. */
  | 'CLOSED';

/** The one error class thrown by `@milagro/keystore`. Messages never contain secrets, PINs or passphrases. */
export class KeyStoreError extends Error {
  override readonly name = 'KeyStoreError';
  readonly code: KeyStoreErrorCode;

  constructor(code: KeyStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * True when `err` is a {@link KeyStoreError}, optionally with the given code. Also recognises one
 * from another copy of this module (the CommonJS build bundles each entry point separately).
 */
export function isKeyStoreError(err: unknown, code?: KeyStoreErrorCode): err is KeyStoreError {
  const branded =
    err instanceof KeyStoreError ||
    (err instanceof Error && err.name === 'KeyStoreError' && typeof (err as { code?: unknown }).code === 'string');
  return branded && (code === undefined || (err as KeyStoreError).code === code);
}
