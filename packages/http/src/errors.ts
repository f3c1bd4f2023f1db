/**
 * Stable error codes of `@milagro/http` for mistakes in how the kit is used (thrown while routes are
 * registered or a server is built, never in answer to a request: those become {@link HttpProblem}s).
 * Codes are append-only: removing or renaming one is a breaking change.
 */
export type HttpKitErrorCode =
  /** A route's path, method, operationId or schemas are unusable (e.g. `{id}` in the path but no `id` in `params`). */
  | 'INVALID_ROUTE'
  /** Two routes share a method and path (parameter names aside), or two routes share an operationId. */
  | 'DUPLICATE_ROUTE'
  /** A server or problem option is invalid. */
  | 'INVALID_ARGUMENT';

/** The error class thrown by `@milagro/http` for misuse. Messages never contain request data. */
export class HttpKitError extends Error {
  override readonly name = 'HttpKitError';
  readonly code: HttpKitErrorCode;

  constructor(code: HttpKitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `err` is a {@link HttpKitError}, optionally with the given code. */
export function isHttpKitError(err: unknown, code?: HttpKitErrorCode): err is HttpKitError {
  return err instanceof HttpKitError && (code === undefined || err.code === code);
}
