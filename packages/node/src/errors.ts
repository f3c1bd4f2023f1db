/**
 * Stable error codes of `@milagro/node`. Callers switch on `code`, never on messages.
 * Codes are append-only: removing or renaming one is a breaking change.
 */
export type NodeErrorCode =
  /**
   * The configuration is missing, unreadable, not JSON, or refused by its schema (unknown keys,
   * wrong types, bad values). The message names the file and every failing path.
   */
  | 'INVALID_CONFIG'
  /** A secret's source gives nothing: its environment variable is unset or empty, its file unreadable or empty. */
  | 'SECRET_UNAVAILABLE'
  /**
   * Another live process has the data dir open (its lock file names the process and host). Two
   * processes on one data dir would interleave one messaging journal and one IPFS repository.
   */
  | 'DATA_DIR_IN_USE'
  /**
   * Another process holds this identity's D-TA or custody role on the same PostgreSQL database.
   * Those roles run their protocols from one process per identity; only the MFA role has replicas.
   */
  | 'ROLE_RUNS_ELSEWHERE'
  /** The database connection holding a role's lock ended (server restart, failover): the node stops. */
  | 'ROLE_LOCK_LOST';

/**
 * The one error class thrown by `@milagro/node`. Messages name the config path or the secret's
 * source (variable name, file path), never a secret value. Lower layers' errors during
 * `bootstrapNode` (key store, IPFS, storage, messaging) pass through unchanged.
 */
export class NodeError extends Error {
  override readonly name = 'NodeError';
  readonly code: NodeErrorCode;

  constructor(code: NodeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * True when `err` is a {@link NodeError}, optionally with the given code. Also recognises one
 * from another copy of this module (two installed versions, a bundled build).
 */
export function isNodeError(err: unknown, code?: NodeErrorCode): err is NodeError {
  const branded =
    err instanceof NodeError || (err instanceof Error && err.name === 'NodeError' && typeof (err as { code?: unknown }).code === 'string');
  return branded && (code === undefined || (err as NodeError).code === code);
}
