/**
 * Plugin `safeguard-secret`: the principal hands over a secret (≤ 8 KiB); the fiduciary encrypts it
 * under the order's own AES-256 key-store key (generated inside the HSM with a PKCS#11 store) with
 * the reference as associated data, keeps only the ciphertext, and answers with a commitment the
 * principal can check. Redemption decrypts it and releases it to the principal or beneficiary.
 */
import { concatBytes, constantTimeEqual, sha256, utf8ToBytes } from '@milagro/crypto';
import { DtaError } from '../errors.js';
import type { FiduciaryPlugin, FiduciaryValue } from './fiduciary-plugin.js';

export const SAFEGUARD_SECRET = 'safeguard-secret';

/** Largest secret accepted (the key store's `secret` limit). */
export const MAX_SAFEGUARDED_SECRET_BYTES = 8192;

const COMMITMENT_TAG = utf8ToBytes('milagro/dta/safeguard-secret/commitment/v1');

/** Params of a `safeguard-secret` order. */
export interface SafeguardSecretParams {
  readonly secret: Uint8Array;
}

/**
 * The commitment a fiduciary returns: SHA-256(tag ‖ reference ‖ secret). References have a fixed
 * length (43 characters), so the concatenation is unambiguous.
 */
export function safeguardCommitment(reference: string, secret: Uint8Array): Uint8Array {
  return sha256(concatBytes(COMMITMENT_TAG, utf8ToBytes(reference), secret));
}

/** Principal side: true when a fulfilment's commitment binds `secret` to `reference`. */
export function checkSafeguardCommitment(commitment: FiduciaryValue, reference: string, secret: Uint8Array): boolean {
  return commitment instanceof Uint8Array && commitment.length === 32 && constantTimeEqual(commitment, safeguardCommitment(reference, secret));
}

/** Principal side: the released secret of a `safeguard-secret` release. */
export function releasedSecret(secret: FiduciaryValue): Uint8Array {
  if (!(secret instanceof Uint8Array)) throw new DtaError('INVALID_REQUEST', 'a safeguard-secret release carries bytes');
  return secret;
}

function parseParams(params: FiduciaryValue | undefined): SafeguardSecretParams {
  if (typeof params !== 'object' || params === null || Array.isArray(params) || params instanceof Uint8Array) {
    throw new DtaError('INVALID_REQUEST', 'safeguard-secret: params must be { secret }');
  }
  const keys = Object.keys(params);
  const secret = (params as { readonly [key: string]: FiduciaryValue }).secret;
  if (keys.length !== 1 || !(secret instanceof Uint8Array) || secret.length === 0 || secret.length > MAX_SAFEGUARDED_SECRET_BYTES) {
    throw new DtaError('INVALID_REQUEST', `safeguard-secret: params must be { secret } with 1–${MAX_SAFEGUARDED_SECRET_BYTES} bytes`);
  }
  return { secret };
}

/** The `safeguard-secret` plugin. */
export function safeguardSecretPlugin(): FiduciaryPlugin<SafeguardSecretParams> {
  return {
    name: SAFEGUARD_SECRET,
    parseParams,
    async order({ reference, params }, vault) {
      // Re-running for the same reference re-encrypts the same secret under the same key: equivalent state.
      const ciphertext = await vault.encrypt(params.secret, utf8ToBytes(reference));
      return { commitment: safeguardCommitment(reference, params.secret), state: ciphertext };
    },
    async redeem({ reference, state }, vault) {
      if (state === undefined) throw new DtaError('CONFLICT', 'safeguard-secret: the order holds no ciphertext');
      return vault.decrypt(state, utf8ToBytes(reference));
    },
  };
}
