/**
 * Stable error codes of `@milagro/custody`. Callers (and the HTTP router, which maps each to a
 * status and a problem type) switch on `code`, never on messages. Codes are append-only.
 */
export type CustodyErrorCode =
  /** Malformed input: bad encoding, wrong length, out-of-range field. (HTTP 400) */
  | 'INVALID_REQUEST'
  /** A signature that does not verify, or a caller that is not the vault's principal. (HTTP 403) */
  | 'NOT_AUTHORISED'
  /** The request fails the vault's policy (too few approvals, amount or destination limits, foreign inputs). (HTTP 403) */
  | 'POLICY_REFUSED'
  /** A signing request id that was already used: it never signs twice. (HTTP 409) */
  | 'REQUEST_REPLAYED'
  /** Unknown vault or request. (HTTP 404) */
  | 'NOT_FOUND'
  /** The request conflicts with stored state (vault exists). (HTTP 409) */
  | 'CONFLICT'
  /** The vault holds no usable key share yet (DKG running or failed). (HTTP 503) */
  | 'VAULT_NOT_READY'
  /** A distributed protocol (DKG, signing, refresh) failed: an operator cheated (named in the message), too few answered, timeout. (HTTP 502) */
  | 'PROTOCOL_FAILED'
  /** A dependency (the PKI, IPFS) did not answer for now; nothing was consumed. (HTTP 503) */
  | 'DEPENDENCY_UNAVAILABLE'
  /** The service was closed. */
  | 'CLOSED';

/** The one error class thrown by `@milagro/custody`. Messages never contain secrets. */
export class CustodyError extends Error {
  override readonly name = 'CustodyError';
  readonly code: CustodyErrorCode;

  constructor(code: CustodyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link CustodyError}, optionally with the given code. */
export function isCustodyError(err: unknown, code?: CustodyErrorCode): err is CustodyError {
  return err instanceof CustodyError && (code === undefined || err.code === code);
}
