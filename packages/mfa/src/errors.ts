/**
 * Stable error codes of `@milagro/mfa`. Callers and the HTTP routes switch on `code`, never on
 * messages. Codes are append-only. Login failures have exactly one code on purpose: the service
 * never tells a client *why* a login failed (docs/specs/mfa-threat-model.md).
 */
export type MfaErrorCode =
  /** Malformed input the schema could not catch (HTTP 400). */
  | 'INVALID_REQUEST'
  /** Any login failure: session unknown, expired or replayed; bad point; wrong PIN; identity unknown, replaced or locked. (HTTP 401) */
  | 'AUTHENTICATION_FAILED'
  /** A missing, invalid, expired or logged-out access token. (HTTP 401) */
  | 'NOT_AUTHENTICATED'
  /** Any activation failure: unknown or expired registration, wrong code, not approved, already active. (HTTP 403) */
  | 'ACTIVATION_FAILED'
  /** Admin: unknown or non-pending registration reference. (HTTP 404) */
  | 'NOT_FOUND'
  /** Too many requests from one client address. (HTTP 429) */
  | 'RATE_LIMITED'
  /** The activation verifier could not deliver the code (webhook or mail transport failed). (HTTP 502) */
  | 'ACTIVATION_DELIVERY_FAILED'
  /** The grant issuer failed. (HTTP 503) */
  | 'GRANTS_UNAVAILABLE'
  /** No validated server secret yet. (HTTP 503) */
  | 'NOT_READY'
  /** The service was closed. */
  | 'CLOSED';

/** The one error class thrown by `@milagro/mfa`. Messages never contain secrets. */
export class MfaError extends Error {
  override readonly name = 'MfaError';
  readonly code: MfaErrorCode;

  constructor(code: MfaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is an {@link MfaError}, optionally with the given code. */
export function isMfaError(err: unknown, code?: MfaErrorCode): err is MfaError {
  return err instanceof MfaError && (code === undefined || err.code === code);
}

/** The one login failure every cause collapses into. */
export function authenticationFailed(): MfaError {
  return new MfaError('AUTHENTICATION_FAILED', 'Authentication failed');
}

/** The one activation failure every cause collapses into. */
export function activationFailed(): MfaError {
  return new MfaError('ACTIVATION_FAILED', 'Activation failed');
}
