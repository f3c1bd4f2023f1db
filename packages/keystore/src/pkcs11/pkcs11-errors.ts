import { KeyStoreError, type KeyStoreErrorCode } from '../errors.js';

// Return values meaning the module, slot, token or session is gone: the connection must be rebuilt.
const CONNECTION_LOST = new Set([
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_SESSION_COUNT',
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_DEVICE_MEMORY',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_SLOT_ID_INVALID',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_CRYPTOKI_ALREADY_INITIALIZED',
]);

const WRONG_PIN = new Set(['CKR_PIN_INCORRECT', 'CKR_PIN_INVALID', 'CKR_PIN_LEN_RANGE']);

/** The `CKR_*` name of a PKCS#11 error thrown by pkcs11js/graphene, or undefined for other errors. */
export function pkcs11ReturnValue(err: unknown): string | undefined {
  const message = err instanceof Error ? err.message : '';
  return /^(CKR_[A-Z0-9_]+)/.exec(message)?.[1];
}

/** True when `err` means the connection to the token is lost (module finalised, token removed, ...). */
export function isConnectionLost(err: unknown): boolean {
  const rv = pkcs11ReturnValue(err);
  return rv !== undefined && CONNECTION_LOST.has(rv);
}

/**
 * Maps an error from a PKCS#11 call to a {@link KeyStoreError}: a lost connection is
 * `TOKEN_UNAVAILABLE`, PIN problems are `WRONG_PIN` / `PIN_LOCKED`, anything else `fallback`.
 * Existing `KeyStoreError`s pass through.
 */
export function toKeyStoreError(err: unknown, what: string, fallback: KeyStoreErrorCode): KeyStoreError {
  if (err instanceof KeyStoreError) return err;
  const rv = pkcs11ReturnValue(err);
  if (rv && CONNECTION_LOST.has(rv)) return new KeyStoreError('TOKEN_UNAVAILABLE', `${what}: ${rv}`, { cause: err });
  if (rv && WRONG_PIN.has(rv)) return new KeyStoreError('WRONG_PIN', `${what}: the token refused the PIN`, { cause: err });
  if (rv === 'CKR_PIN_LOCKED') return new KeyStoreError('PIN_LOCKED', `${what}: the PIN is locked`, { cause: err });
  return new KeyStoreError(fallback, `${what}: ${rv ?? 'PKCS#11 call failed'}`, { cause: err });
}
