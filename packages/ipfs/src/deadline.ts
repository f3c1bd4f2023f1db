import { DEFAULT_TIMEOUT_MS } from './constants.js';
import { IpfsError } from './errors.js';
import type { CallOptions } from './content-store.js';

/**
 * Runs `operation` with a signal that fires on the caller's signal or after the call's timeout,
 * and turns whatever the backend throws on abort into `ABORTED` or `TIMEOUT`.
 * Backends disagree on abort errors (AbortError, TimeoutError, fetch failures), so the cause is
 * decided by which signal fired, not by the error's shape.
 */
export async function withDeadline<T>(
  what: string,
  options: CallOptions | undefined,
  operation: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const timeoutMs = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const caller = options?.signal;
  if (caller?.aborted === true) throw new IpfsError('ABORTED', `${what}: aborted`);
  const signal = caller === undefined ? timeout : AbortSignal.any([caller, timeout]);
  // A backend may ignore the signal while blocked; racing keeps the deadline honest.
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortError(what, caller, timeoutMs));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    return await Promise.race([operation(signal), aborted]);
  } catch (error) {
    if (error instanceof IpfsError) throw error;
    if (signal.aborted) throw abortError(what, caller, timeoutMs, error);
    throw error;
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

function abortError(what: string, caller: AbortSignal | undefined, timeoutMs: number, cause?: unknown): IpfsError {
  return caller?.aborted === true
    ? new IpfsError('ABORTED', `${what}: aborted`, { cause })
    : new IpfsError('TIMEOUT', `${what}: no answer within ${timeoutMs} ms`, { cause });
}
