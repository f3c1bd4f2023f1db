import { isPkiError, type PkiErrorCode } from '../../src/index.js';

/** Asserts that `promise` rejects with a `PkiError` of exactly `code` (and not some other error). */
export async function expectPkiError(promise: Promise<unknown>, code: PkiErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPkiError(error)) throw new Error(`expected PkiError ${code}, got ${String(error)}`);
  expect(error.code).toBe(code);
}
