/**
 * Stable error codes of `@milagro/messaging`. Callers switch on `code`, never on messages.
 * Codes are append-only: removing or renaming one is a breaking change.
 */
export type MessagingErrorCode =
  /** A caller-supplied argument is invalid (bad identity, type, body, option). */
  | 'INVALID_ARGUMENT'
  /** The recipient cannot be messaged: unknown, revoked or forked in the PKI, or its documents are unreachable. */
  | 'RECIPIENT_UNAVAILABLE'
  /** The messenger's durable journal is unreadable, or a write to it failed. Nothing was acknowledged. */
  | 'JOURNAL_FAILED'
  /** The envelope could not be stored in the content store. */
  | 'STORE_FAILED'
  /** The messenger was closed. */
  | 'CLOSED';

/** The one error class thrown by `@milagro/messaging`. Messages never contain secrets. */
export class MessagingError extends Error {
  override readonly name = 'MessagingError';
  readonly code: MessagingErrorCode;

  constructor(code: MessagingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link MessagingError}, optionally with the given code. */
export function isMessagingError(err: unknown, code?: MessagingErrorCode): err is MessagingError {
  return err instanceof MessagingError && (code === undefined || err.code === code);
}
