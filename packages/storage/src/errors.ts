/**
 * Stable error codes of `@milagro/storage`. Callers switch on `code`, never on messages.
 * Codes are append-only: removing or renaming one is a breaking change.
 */
export type StorageErrorCode =
  /**
   * A bad call: a value that is not a `SqlValue` (booleans, `undefined`, non-finite numbers,
   * integers outside 64 bits), the wrong number of `?` parameters, several statements in one
   * call, malformed migrations (duplicate or non-ascending versions), or a statement on the
   * database itself from inside one of its transactions (use `tx`).
   */
  | 'INVALID_ARGUMENT'
  /** A UNIQUE, PRIMARY KEY, FOREIGN KEY, NOT NULL or CHECK constraint refused the write. Nothing was changed. */
  | 'CONSTRAINT_VIOLATION'
  /** Another process held the database's write lock for longer than the busy timeout. Try again later. */
  | 'BUSY'
  /** The database holds migrations of a namespace newer than this code knows: it was written by a newer release. */
  | 'SCHEMA_TOO_NEW'
  /** The database has been closed, or a transaction handle was used after its transaction ended. */
  | 'CLOSED'
  /** Anything else: SQL errors (syntax, unknown table), I/O errors, a full disk, a corrupt file. */
  | 'FAILED'
  /** `holdLock`: another connection (another process, or another holder here) holds the named lock. */
  | 'LOCK_HELD';

/**
 * The one error class thrown by `@milagro/storage`. Messages never contain bound parameter values
 * (they may be secrets); the driver's error, when there is one, is the `cause`.
 */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * True when `err` is a {@link StorageError}, optionally with the given code. Also recognises one
 * from another copy of this module (two installed versions, a bundled build).
 */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  const branded =
    err instanceof StorageError ||
    (err instanceof Error && err.name === 'StorageError' && typeof (err as { code?: unknown }).code === 'string');
  return branded && (code === undefined || (err as StorageError).code === code);
}
