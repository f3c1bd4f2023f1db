/**
 * Stable error codes of `@milagro/envelope`. Callers switch on `code`, never on messages.
 * Codes are append-only: removing or renaming one is a breaking change.
 */
export type EnvelopeErrorCode =
  /** The bytes or the value are not a well-formed version 1 envelope (structure, types, lengths, canonical DAG-CBOR). */
  | 'MALFORMED'
  /** The envelope declares a format version this library does not implement. */
  | 'UNSUPPORTED_VERSION'
  /** The composite signature does not verify under the expected sender's key, or the envelope names another sender. */
  | 'BAD_SIGNATURE'
  /** The opener holds no entry in this envelope (not listed, or listed under a different key). */
  | 'NOT_A_RECIPIENT'
  /** Authenticated data does not check out: a body chunk, block, body digest, wrapped key or share failed. */
  | 'TAMPERED'
  /** The body stream ended before its final chunk. */
  | 'TRUNCATED'
  /** Fewer distinct shares than the group's threshold (or none for any group). */
  | 'NOT_ENOUGH_SHARES'
  /** A share does not belong to this envelope, or is inconsistent with the other shares. */
  | 'SHARE_INVALID'
  /** A caller-supplied argument is invalid (bad key length, empty recipient list, bad option). */
  | 'INVALID_ARGUMENT';

/** The one error class thrown by `@milagro/envelope`. Messages never contain secrets. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  readonly code: EnvelopeErrorCode;

  constructor(code: EnvelopeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is an {@link EnvelopeError}, optionally with the given code. */
export function isEnvelopeError(err: unknown, code?: EnvelopeErrorCode): err is EnvelopeError {
  return err instanceof EnvelopeError && (code === undefined || err.code === code);
}
