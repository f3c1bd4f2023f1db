/**
 * Stable error codes of `@milagro/ipfs`. Callers branch on `code`, never on the message.
 */
export type IpfsErrorCode =
  /** The per-call timeout elapsed before the operation finished. */
  | 'TIMEOUT'
  /** The caller's own AbortSignal fired. */
  | 'ABORTED'
  /** The block is not in the local store (for `has`-style lookups) or could not be found in time on the network. */
  | 'NOT_FOUND'
  /** A block is larger than the configured size limit; it was refused before being fully read. */
  | 'TOO_LARGE'
  /** The node or daemon is stopped, unreachable, or failed to start. */
  | 'UNAVAILABLE'
  /** A CID string or object could not be parsed. */
  | 'INVALID_CID'
  /** Bytes did not decode as the codec the CID names, or did not match the CID's hash. */
  | 'INVALID_DATA'
  /** The node configuration is invalid (bad multiaddr, bad swarm key, unusable data dir). */
  | 'INVALID_CONFIG'
  /** The backend does not offer this feature (e.g. a Kubo daemon started without pubsub). */
  | 'UNSUPPORTED';

/** Error thrown by every `@milagro/ipfs` operation; `code` is stable across releases. */
export class IpfsError extends Error {
  /** Stable machine-readable reason. */
  readonly code: IpfsErrorCode;

  constructor(code: IpfsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IpfsError';
    this.code = code;
  }
}

/** True when `value` is an {@link IpfsError}, optionally with the given code. */
export function isIpfsError(value: unknown, code?: IpfsErrorCode): value is IpfsError {
  return value instanceof IpfsError && (code === undefined || value.code === code);
}
