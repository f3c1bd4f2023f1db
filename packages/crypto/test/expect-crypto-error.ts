import { isCryptoError } from '../src/errors.js';

/** Assert that `fn` throws a `CryptoError` with exactly `code` (and not some other error). */
export function expectCryptoError(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (!isCryptoError(thrown)) throw new Error(`expected CryptoError ${code}, got ${String(thrown)}`);
  expect(thrown.code).toBe(code);
}
