/**
 * Stable error codes of `@milagro/pki`. Callers switch on `code`, never on messages.
 * Codes are append-only: removing or renaming one is a breaking change.
 */
export type PkiErrorCode =
  /** A caller-supplied argument is invalid (not a CID, bad label prefix, bad option). */
  | 'INVALID_ARGUMENT'
  /** The bytes are not a well-formed version 1 identity document (structure, types, lengths, keys, canonical DAG-CBOR). */
  | 'MALFORMED'
  /** The document declares a format version this library does not implement. */
  | 'UNSUPPORTED_VERSION'
  /** A signature or the BLS proof of possession does not verify. */
  | 'BAD_SIGNATURE'
  /** A document does not follow its predecessor: wrong identity, sequence, `prev` link or pre-rotation commitment. */
  | 'BROKEN_CHAIN'
  /** The identity has a revocation document: it must not be used. */
  | 'REVOKED'
  /** Two valid documents extend the same predecessor: the resolver reports the fork instead of choosing. */
  | 'FORKED'
  /** A document could not be fetched from the content store (absent, timed out, store unavailable). */
  | 'NOT_FOUND'
  /** The key store refused an operation (missing key, closed store, HSM failure). */
  | 'KEY_STORE_FAILED';

/** The one error class thrown by `@milagro/pki`. Messages never contain secrets. */
export class PkiError extends Error {
  override readonly name = 'PkiError';
  readonly code: PkiErrorCode;

  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link PkiError}, optionally with the given code. */
export function isPkiError(err: unknown, code?: PkiErrorCode): err is PkiError {
  return err instanceof PkiError && (code === undefined || err.code === code);
}
