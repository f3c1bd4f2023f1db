/**
 * Stable error codes of `@milagro/backup`. Callers switch on `code`, never on messages (ADR 0004).
 * Codes are append-only.
 */
export type BackupErrorCode =
  /** A bad option or argument: wrong threshold, unknown fiduciary, malformed recovery secret. */
  | 'INVALID_ARGUMENT'
  /** A manifest, archive or message that does not decode, or whose signature does not verify. */
  | 'MALFORMED'
  /** The backup's bytes do not match what its manifest and envelope commit to (damaged or altered). */
  | 'TAMPERED'
  /** The backup ends early: blocks or archive entries missing. */
  | 'TRUNCATED'
  /** No valid recovery proof: wrong recovery secret, stale proof, or a proof for another requester. */
  | 'NOT_AUTHORISED'
  /** Too few fiduciaries released their shares (refused, or offline until the deadline). */
  | 'NOT_ENOUGH_SHARES'
  /** Something named is not there: no manifest, no block, no backup head. */
  | 'NOT_FOUND'
  /** The restore target holds data and replacing it was not asked for. */
  | 'TARGET_NOT_EMPTY'
  /** The restored node does not check out (its key store, identity or database). Nothing was replaced. */
  | 'INTEGRITY_CHECK_FAILED'
  /** A deadline passed (waiting for fiduciaries). */
  | 'TIMEOUT'
  /** The service was closed. */
  | 'CLOSED'
  /** A fiduciary refused a release: this node's backups were released too often in its window (try again later). */
  | 'RATE_LIMITED'
  /** The backup was retired by its node (retention policy): its body is no longer kept; restore a newer one. */
  | 'RETIRED'
  /** A fiduciary refused a deposit: it would hold more of this node's backups than its per-node limit. */
  | 'QUOTA_EXCEEDED';

/** The one error class thrown by `@milagro/backup`. Messages never contain secrets. */
export class BackupError extends Error {
  override readonly name = 'BackupError';
  readonly code: BackupErrorCode;

  constructor(code: BackupErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link BackupError}, optionally with the given code. */
export function isBackupError(err: unknown, code?: BackupErrorCode): err is BackupError {
  return err instanceof BackupError && (code === undefined || err.code === code);
}
