/**
 * Stable error codes of `@milagro/crypto`. Callers switch on `code`, never on messages.
 * Codes are append-only: removing or renaming one is a breaking change.
 */
export type CryptoErrorCode =
  /** Input has the wrong length for its type. */
  | 'INVALID_LENGTH'
  /** Input is not a valid encoding (bad prefix, flags, characters, non-canonical form). */
  | 'INVALID_ENCODING'
  /** A decoded point does not satisfy the curve equation. */
  | 'POINT_NOT_ON_CURVE'
  /** A decoded point is on the curve but outside the prime-order subgroup. */
  | 'POINT_NOT_IN_SUBGROUP'
  /** A decoded point is the point at infinity where a proper point is required. */
  | 'POINT_AT_INFINITY'
  /** A scalar is zero, or not below the group order. */
  | 'INVALID_SCALAR'
  /** A parameter is out of range (threshold, share count, chunk size, ...). */
  | 'INVALID_ARGUMENT'
  /** AEAD authentication failed: wrong key, wrong associated data or tampered ciphertext. */
  | 'DECRYPTION_FAILED'
  /** A chunked stream ended before its final chunk. */
  | 'STREAM_TRUNCATED'
  /** A chunked stream carried data after its final chunk. */
  | 'STREAM_TRAILING_DATA'
  /** A signature did not verify. */
  | 'SIGNATURE_INVALID'
  /** A secret share is inconsistent with the dealer's commitments. */
  | 'SHARE_INVALID'
  /** Fewer shares than the threshold, or duplicate share indices. */
  | 'NOT_ENOUGH_SHARES'
  /** A DKG participant misbehaved or the protocol cannot complete. */
  | 'DKG_FAILED'
  /** A DKG message does not fit this session, its claimed sender or the current round; it was not applied. */
  | 'DKG_MESSAGE_REJECTED'
  /** An optional backend (e.g. mcl-wasm) could not be loaded. */
  | 'BACKEND_UNAVAILABLE';

/** The one error class thrown by `@milagro/crypto` for bad input or failed checks. */
export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link CryptoError}, optionally with the given code. */
export function isCryptoError(err: unknown, code?: CryptoErrorCode): err is CryptoError {
  return err instanceof CryptoError && (code === undefined || err.code === code);
}
