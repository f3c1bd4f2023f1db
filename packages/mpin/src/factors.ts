/**
 * Authentication factors folded into a client secret. A client secret CS = s·H(ID) is never stored:
 * the client stores the token CS − f·H(ID) where f is the sum of its factors' scalars, and restores
 * CS at login from the token and the factors the user presents.
 *
 * - A **PIN** is the integer it spells (so `'0042'` is 42), as in Milagro. Keeping the PIN linear is
 *   what lets the server compute the signed PIN error (server-only, {@link pinErrorDistance}).
 * - A **secret** factor (e.g. a device-bound key held in a platform keystore, ≥ 16 bytes) becomes
 *   the scalar `hashToScalar(secret, DST_FACTOR)` of `@milagro/crypto` (RFC 9380 hash_to_field over r), with {@link DST_FACTOR}.
 */
import { CryptoError, hashToScalar } from '@milagro/crypto';
import { GROUP_ORDER, type MpinSuite } from './suite.js';

/** DST of a secret factor's scalar. */
export const DST_FACTOR = 'MILAGRO-MPIN-V1-CS01-with-BLS12381FR_XMD:SHA-256_FACTOR_';

/** One factor: a PIN (digits, or its integer value) or a secret byte string. */
export type Factor = { readonly pin: string | number } | { readonly secret: Uint8Array };

/**
 * The scalar of one factor.
 * @throws CryptoError `INVALID_ARGUMENT` for a PIN that is not exactly `pinDigits` digits (or an
 * integer in [0, 10^pinDigits)), or a secret shorter than 16 bytes.
 */
export function factorScalar(suite: Pick<MpinSuite, 'pinDigits'>, factor: Factor): bigint {
  if ('pin' in factor) return BigInt(pinValue(suite.pinDigits, factor.pin));
  if (!(factor.secret instanceof Uint8Array) || factor.secret.length < 16) {
    throw new CryptoError('INVALID_ARGUMENT', 'a secret factor must be at least 16 bytes');
  }
  return hashToScalar(factor.secret, DST_FACTOR);
}

/** The sum of the factors' scalars mod r. */
export function factorsScalar(suite: Pick<MpinSuite, 'pinDigits'>, factors: readonly Factor[]): bigint {
  let sum = 0n;
  for (const factor of factors) sum = (sum + factorScalar(suite, factor)) % GROUP_ORDER;
  return sum;
}

/** The integer value of a PIN, validated against the configured length. */
export function pinValue(pinDigits: number, pin: string | number): number {
  const limit = 10 ** pinDigits;
  if (typeof pin === 'string') {
    if (pin.length !== pinDigits || !/^[0-9]+$/.test(pin)) {
      throw new CryptoError('INVALID_ARGUMENT', `PIN must be exactly ${pinDigits} decimal digits`);
    }
    return Number(pin);
  }
  if (!Number.isInteger(pin) || pin < 0 || pin >= limit) {
    throw new CryptoError('INVALID_ARGUMENT', `PIN must be an integer in [0, ${limit})`);
  }
  return pin;
}
