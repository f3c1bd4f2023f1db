/**
 * The issuer→client hop of M-Pin: a client-secret share sealed to a key the client supplies (HPKE
 * base mode, X-Wing), so the share travels encrypted end to end even through TLS-terminating
 * proxies. The HPKE `info` and `aad` bind the realm, the issuing D-TA, the identity hash, the epoch
 * and the D-TA's Shamir index: a sealed share replayed under another binding (another identity,
 * D-TA or epoch) does not open. The D-TA seals, the client opens; both use this one format
 * (docs/specs/dta.md §3, ADR 0009).
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CryptoError, XWING_LENGTHS, hpkeOpen, hpkeSeal, type HpkeRecipientKey } from '@milagro/crypto';

/** HPKE output: the X-Wing encapsulation and the AEAD ciphertext of the share. */
export interface SealedShare {
  readonly enc: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/** What a sealed share is bound to. */
export interface SealedShareBinding {
  readonly realmId: string;
  /** The issuing D-TA (identity CID string). */
  readonly dta: string;
  /** SHA-256 of the M-Pin identity. */
  readonly identityHash: Uint8Array;
  readonly epoch: number;
  /** The issuing D-TA's Shamir index in `epoch`. */
  readonly index: bigint;
}

/** HPKE `info` of sealed shares (the name keeps its D-TA origin: changing it would change the format). */
export const SEALED_SHARE_INFO = 'milagro/dta/sealed-share/v1';

const INFO_BYTES = new TextEncoder().encode(SEALED_SHARE_INFO);

/** The AEAD associated data: the binding as deterministic DAG-CBOR. */
function bindingBytes(binding: SealedShareBinding): Uint8Array {
  return dagCbor.encode({
    v: 1,
    realm: binding.realmId,
    dta: binding.dta,
    identityHash: binding.identityHash,
    epoch: binding.epoch,
    index: Number(binding.index),
  });
}

/**
 * The issuer's side: seals `share` to `recipientPublicKey` (a 1216-byte X-Wing public key).
 * @throws CryptoError `INVALID_LENGTH` for a key of the wrong length, `INVALID_ENCODING` for one the KEM rejects.
 */
export async function sealShare(recipientPublicKey: Uint8Array, share: Uint8Array, binding: SealedShareBinding): Promise<SealedShare> {
  if (!(recipientPublicKey instanceof Uint8Array) || recipientPublicKey.length !== XWING_LENGTHS.publicKey) {
    throw new CryptoError('INVALID_LENGTH', `a sealed share's recipient must be a ${XWING_LENGTHS.publicKey}-byte X-Wing public key`);
  }
  try {
    return await hpkeSeal(recipientPublicKey, share, { info: INFO_BYTES, aad: bindingBytes(binding) });
  } catch (cause) {
    throw new CryptoError('INVALID_ENCODING', 'not a usable X-Wing public key', { cause });
  }
}

/**
 * The client's side: opens a sealed share with its X-Wing secret key (32 bytes, an
 * `XWingDecapsulationKey`, or any decapsulator), checking it was sealed under `binding`.
 * @throws CryptoError `DECRYPTION_FAILED` when it does not open (wrong key, tampered, other binding, malformed).
 */
export async function openSealedShare(recipientKey: HpkeRecipientKey, sealed: SealedShare, binding: SealedShareBinding): Promise<Uint8Array> {
  try {
    return await hpkeOpen(recipientKey, sealed.enc, sealed.ciphertext, { info: INFO_BYTES, aad: bindingBytes(binding) });
  } catch (cause) {
    throw new CryptoError('DECRYPTION_FAILED', 'sealed share does not open under this key and binding', { cause });
  }
}
