import { concatBytes, sha256 } from '@milagro/crypto';
import { NEXT_KEYS_TAG } from './constants.js';
import { encodeKeys, type IdentityKeys } from './identity-document.js';

/**
 * Pre-rotation commitment to a key set: SHA-256("milagro identity v1 next keys" ‖ 0x00 ‖ DAG-CBOR(keys)).
 * A document publishes the commitment to its successor's keys, not the keys, so whoever steals the
 * current keys still cannot produce a successor that the chain accepts.
 */
export function commitToKeys(keys: IdentityKeys): Uint8Array {
  return sha256(concatBytes(NEXT_KEYS_TAG, Uint8Array.of(0), encodeKeys(keys)));
}
