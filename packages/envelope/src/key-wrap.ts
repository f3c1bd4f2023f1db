/**
 * Wrapping the content key: per recipient with HPKE (base mode, X-Wing / HKDF-SHA256 /
 * AES-256-GCM), and per k-of-n group with a Shamir-shared group secret (spec §6).
 */
import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  combineShares,
  CryptoError,
  decodeScalar,
  encodeScalar,
  hashToScalar,
  hkdf,
  hpkeSeal,
  randomBytes,
  sha256,
  splitSecret,
  type HpkeSealed,
} from '@milagro/crypto';
import type { EnvelopeRecipientKey } from './capabilities.js';
import { GROUP_KEY_INFO_PREFIX, GROUP_SECRET_DST, LENGTHS, WRAP_INFO_PREFIX } from './constants.js';
import type { RecipientEntry, RecipientPublicKey } from './envelope.js';
import { EnvelopeError } from './errors.js';

const encoder = new TextEncoder();
const ZERO_NONCE = new Uint8Array(12);

/** Key id of an X-Wing public key: SHA-256(publicKey)[0..16]. */
export function keyId(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).subarray(0, LENGTHS.kid);
}

/** HPKE `info` of every wrap in an envelope: the label followed by the header nonce. */
export function wrapInfo(nonce: Uint8Array): Uint8Array {
  const info = new Uint8Array(WRAP_INFO_PREFIX.length + nonce.length);
  info.set(WRAP_INFO_PREFIX);
  info.set(nonce, WRAP_INFO_PREFIX.length);
  return info;
}

/** HPKE associated data of one wrap: the recipient's identity id in UTF-8. */
export function wrapAad(id: string): Uint8Array {
  return encoder.encode(id);
}

/** How many HPKE seals run at once: lets WebCrypto's X25519 overlap ML-KEM on this thread. */
const SEAL_CONCURRENCY = 8;

/**
 * Seals `payloads[i]` to `recipients[i]`, in order, each with its own X-Wing encapsulation.
 * @throws EnvelopeError `INVALID_ARGUMENT` for a public key the KEM rejects.
 */
export async function wrapForRecipients(
  recipients: readonly RecipientPublicKey[],
  payloads: readonly Uint8Array[],
  nonce: Uint8Array,
): Promise<RecipientEntry[]> {
  const info = wrapInfo(nonce);
  const entries = new Array<RecipientEntry>(recipients.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < recipients.length) {
      const i = next++;
      const recipient = recipients[i] as RecipientPublicKey;
      let sealed: HpkeSealed;
      try {
        sealed = await hpkeSeal(recipient.publicKey, payloads[i] as Uint8Array, { info, aad: wrapAad(recipient.id) });
      } catch (cause) {
        throw new EnvelopeError('INVALID_ARGUMENT', `recipient ${recipient.id} has no valid X-Wing public key`, { cause });
      }
      entries[i] = { id: recipient.id, kid: keyId(recipient.publicKey), enc: sealed.enc, ct: sealed.ciphertext };
    }
  };
  await Promise.all(Array.from({ length: Math.min(SEAL_CONCURRENCY, recipients.length) }, worker));
  return entries;
}

/**
 * Opens the entry of `recipient` with its capability.
 * @throws EnvelopeError `TAMPERED` when the wrapped key does not authenticate.
 */
export async function unwrapEntry(recipient: EnvelopeRecipientKey, entry: RecipientEntry, nonce: Uint8Array): Promise<Uint8Array> {
  let payload: Uint8Array;
  try {
    payload = await recipient.unwrap(entry.enc, entry.ct, wrapInfo(nonce), wrapAad(entry.id));
  } catch (cause) {
    throw new EnvelopeError('TAMPERED', 'the wrapped key for this recipient does not authenticate', { cause });
  }
  if (payload.length !== LENGTHS.contentKey) throw new EnvelopeError('TAMPERED', 'the wrapped key has the wrong length');
  return payload;
}

/** The group key G_j = HKDF-SHA256(IKM = I2OSP(s_j, 32), salt = nonce, info = label ‖ uint32_be(j)). */
function groupKey(secret: bigint, nonce: Uint8Array, group: number): Uint8Array {
  const info = new Uint8Array(GROUP_KEY_INFO_PREFIX.length + 4);
  info.set(GROUP_KEY_INFO_PREFIX);
  new DataView(info.buffer).setUint32(GROUP_KEY_INFO_PREFIX.length, group);
  const ikm = encodeScalar(secret);
  try {
    return hkdf('SHA-256', ikm, nonce, info, LENGTHS.contentKey);
  } finally {
    ikm.fill(0);
  }
}

/** A freshly dealt group: the wrapped content key and one 32-byte share per member. */
export interface DealtGroup {
  readonly key: Uint8Array;
  readonly shares: Uint8Array[];
}

/**
 * Deals group `group`: draws a secret scalar s, Shamir-splits it `threshold`-of-`members`, and
 * seals the content key under the group key derived from s.
 */
export async function dealGroup(
  contentKey: Uint8Array,
  threshold: number,
  members: number,
  nonce: Uint8Array,
  group: number,
): Promise<DealtGroup> {
  // 32 random bytes hashed to Fr (RFC 9380 hash_to_field, 128-bit margin): a uniform scalar, and
  // the draw spec §6.2 describes, so other implementations can follow it step by step.
  const seed = randomBytes(32);
  const secret = hashToScalar(seed, GROUP_SECRET_DST);
  seed.fill(0);
  let shares;
  try {
    shares = splitSecret(secret, { threshold, shares: members });
  } catch (cause) {
    throw new EnvelopeError('INVALID_ARGUMENT', 'group threshold must be in 1..members', { cause });
  }
  const key = groupKey(secret, nonce, group);
  try {
    return { key: await aesGcmEncrypt(key, ZERO_NONCE, contentKey), shares: shares.map((s) => encodeScalar(s.value)) };
  } finally {
    key.fill(0);
  }
}

/** One member's unwrapped share, as the combiner receives it. */
export interface ShareValue {
  /** 1-based share index (the member's position in the group + 1). */
  readonly index: number;
  /** The share value: a BLS12-381 scalar, 32 bytes big-endian. */
  readonly value: Uint8Array;
}

/**
 * Recovers the content key of a group from at least `threshold` shares.
 * @throws EnvelopeError `NOT_ENOUGH_SHARES`, `SHARE_INVALID` (inconsistent or malformed shares),
 *   `TAMPERED` (the recovered key does not open the group's wrapped content key).
 */
export async function recoverGroupKey(
  wrappedKey: Uint8Array,
  threshold: number,
  shares: readonly ShareValue[],
  nonce: Uint8Array,
  group: number,
): Promise<Uint8Array> {
  if (new Set(shares.map((s) => s.index)).size !== shares.length) throw new EnvelopeError('SHARE_INVALID', 'two shares have the same index');
  if (shares.length < threshold) throw new EnvelopeError('NOT_ENOUGH_SHARES', `group ${group} needs ${threshold} shares, got ${shares.length}`);
  let secret: bigint;
  try {
    const scalars = shares.map((s) => ({ index: BigInt(s.index), value: decodeScalar(s.value) }));
    secret = combineShares(scalars, threshold);
  } catch (cause) {
    if (cause instanceof CryptoError && cause.code === 'NOT_ENOUGH_SHARES') {
      throw new EnvelopeError('NOT_ENOUGH_SHARES', `group ${group} needs ${threshold} shares`, { cause });
    }
    throw new EnvelopeError('SHARE_INVALID', 'the shares are malformed or inconsistent', { cause });
  }
  const key = groupKey(secret, nonce, group);
  try {
    return await aesGcmDecrypt(key, ZERO_NONCE, wrappedKey);
  } catch (cause) {
    throw new EnvelopeError('SHARE_INVALID', 'the combined shares do not open the group key', { cause });
  } finally {
    key.fill(0);
  }
}
