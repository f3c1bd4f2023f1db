/**
 * Stable error codes of `@milagro/dta`. Callers (and the HTTP router, which maps each to a status
 * and a problem type) switch on `code`, never on messages. Codes are append-only.
 */
export type DtaErrorCode =
  /** Malformed input: bad encoding, wrong length, out-of-range field, unknown plugin. (HTTP 400) */
  | 'INVALID_REQUEST'
  /** A grant that does not decode, is not signed by the realm's MFA service, or names another realm. (HTTP 403) */
  | 'GRANT_INVALID'
  /** A grant past its expiry. (HTTP 403) */
  | 'GRANT_EXPIRED'
  /** A grant whose nonce was already used. (HTTP 409) */
  | 'GRANT_REPLAYED'
  /** A grant addressed to another D-TA. (HTTP 403) */
  | 'GRANT_WRONG_AUDIENCE'
  /** A time permit for a day beyond the realm's horizon (or before yesterday). (HTTP 403) */
  | 'PERMIT_BEYOND_HORIZON'
  /** The identity is on the realm's revocation list. (HTTP 403) */
  | 'IDENTITY_REVOKED'
  /** The caller is not allowed to do this (not the MFA service, not principal or beneficiary, bad signature). (HTTP 403) */
  | 'NOT_AUTHORISED'
  /** Unknown realm, order or reference. (HTTP 404) */
  | 'NOT_FOUND'
  /** The request conflicts with stored state: realm exists, order already fulfilled or redeemed. (HTTP 409) */
  | 'CONFLICT'
  /** A resharing removed this D-TA from the realm: it issues nothing more for it, and retrying will not change that. (HTTP 410) */
  | 'REALM_RETIRED'
  /** The realm exists but holds no usable master-secret share yet (DKG or resharing running or failed). (HTTP 503) */
  | 'REALM_NOT_READY'
  /** A dependency that should answer did not, for now: the grant issuer's identity documents could not be fetched from IPFS. Retry later; nothing was consumed. (HTTP 503) */
  | 'DEPENDENCY_UNAVAILABLE'
  /** A distributed protocol (DKG, resharing) failed: too few qualified participants, split view, timeout. */
  | 'PROTOCOL_FAILED'
  /** The service was closed. */
  | 'CLOSED';

/** The one error class thrown by `@milagro/dta`. Messages never contain secrets. */
export class DtaError extends Error {
  override readonly name = 'DtaError';
  readonly code: DtaErrorCode;

  constructor(code: DtaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link DtaError}, optionally with the given code. */
export function isDtaError(err: unknown, code?: DtaErrorCode): err is DtaError {
  return err instanceof DtaError && (code === undefined || err.code === code);
}
