/**
 * Sealed client-secret shares as the D-TA speaks of them: the format is M-Pin's issuer→client hop
 * and lives in `@milagro/mpin` (ADR 0009), so a client can open shares without this package. These
 * wrappers keep the D-TA's error contract (`DtaError` `INVALID_REQUEST`).
 */
import {
  SEALED_SHARE_INFO,
  openSealedShare as openMpinSealedShare,
  sealShare as sealMpinShare,
  type SealedShare,
  type SealedShareBinding,
} from '@milagro/mpin';
import type { HpkeRecipientKey } from '@milagro/crypto';
import { DtaError } from './errors.js';

export { SEALED_SHARE_INFO, type SealedShare, type SealedShareBinding };

/**
 * The D-TA's side: seals `share` to `recipientPublicKey` (a 1216-byte X-Wing public key).
 * @throws DtaError `INVALID_REQUEST` for a key of the wrong length or one the KEM rejects.
 */
export async function sealShare(recipientPublicKey: Uint8Array, share: Uint8Array, binding: SealedShareBinding): Promise<SealedShare> {
  try {
    return await sealMpinShare(recipientPublicKey, share, binding);
  } catch (cause) {
    throw new DtaError('INVALID_REQUEST', 'sealTo must be a usable 1216-byte X-Wing public key', { cause });
  }
}

/**
 * The client's side: opens a sealed share with its X-Wing secret key, checking it was sealed under `binding`.
 * @throws DtaError `INVALID_REQUEST` when it does not open (wrong key, tampered, other binding).
 */
export async function openSealedShare(recipientKey: HpkeRecipientKey, sealed: SealedShare, binding: SealedShareBinding): Promise<Uint8Array> {
  try {
    return await openMpinSealedShare(recipientKey, sealed, binding);
  } catch (cause) {
    throw new DtaError('INVALID_REQUEST', 'sealed share does not open under this key and binding', { cause });
  }
}
