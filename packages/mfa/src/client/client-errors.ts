/**
 * Stable error codes of the MFA client. Callers switch on `code`; messages are for logs and never
 * contain a PIN, token, client secret, registration secret or access token.
 */
export type MfaClientErrorCode =
  /** A PIN that is not exactly the realm's number of decimal digits. */
  | 'INVALID_PIN'
  /** The server refused the request's shape (HTTP 400): a bug or a wrong argument (user id, device name). */
  | 'INVALID_REQUEST'
  /** The credential store holds nothing for this step: register (and activate, set a PIN) first. */
  | 'NOT_REGISTERED'
  /** The server refused the activation or the grant re-issue (HTTP 403): wrong or used code, not approved yet, expired. */
  | 'ACTIVATION_FAILED'
  /** Fewer than `threshold` D-TAs issued a share that opened (down, refusing, tampered), even with fresh grants. */
  | 'NOT_ENOUGH_SHARES'
  /** The login failed (HTTP 401): wrong PIN, replaced or locked device; the server does not say which. */
  | 'AUTHENTICATION_FAILED'
  /** The access token was refused (missing, expired, logged out). */
  | 'NOT_AUTHENTICATED'
  /** Too many requests from this address (HTTP 429); `retryAfter` says how many seconds to wait. */
  | 'RATE_LIMITED'
  /** The service cannot answer now (HTTP 503, or the network failed): try again later. */
  | 'UNAVAILABLE'
  /** The stored credential cannot be read (another format, or corrupted). */
  | 'CREDENTIAL_UNREADABLE'
  /** The credential store failed (IndexedDB unavailable, file not writable). */
  | 'STORE_FAILED'
  /** Any other answer the client did not expect (HTTP 5xx, a malformed body). */
  | 'SERVER_ERROR';

/** The one error class of the MFA client. */
export class MfaClientError extends Error {
  override readonly name = 'MfaClientError';
  readonly code: MfaClientErrorCode;
  /** HTTP status of the answer that caused it, when there was one. */
  readonly status: number | undefined;
  /** Seconds to wait, for `RATE_LIMITED` and `UNAVAILABLE` when the server said so. */
  readonly retryAfter: number | undefined;

  constructor(code: MfaClientErrorCode, message: string, options: { cause?: unknown; status?: number; retryAfter?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.retryAfter = options.retryAfter;
  }
}

/** True when `err` is an {@link MfaClientError}, optionally with the given code. */
export function isMfaClientError(err: unknown, code?: MfaClientErrorCode): err is MfaClientError {
  return err instanceof MfaClientError && (code === undefined || err.code === code);
}
