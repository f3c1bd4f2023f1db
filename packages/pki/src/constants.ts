/** Tunables and fixed strings of identity format version 1 (docs/specs/identity-v1.md). */
import { utf8ToBytes } from '@milagro/crypto';

/** Format version written to every document (`v`). */
export const IDENTITY_VERSION = 1;

/** Composite-signature context of the signature by a document's own keys (proof of possession). */
export const SELF_SIGNATURE_CONTEXT = utf8ToBytes('milagro identity v1 self');
/** Composite-signature context of the signature by the predecessor's keys (authorisation). */
export const PREV_SIGNATURE_CONTEXT = utf8ToBytes('milagro identity v1 prev');
/** Domain separation of the pre-rotation commitment: SHA-256(tag ‖ 0x00 ‖ DAG-CBOR(keys)). */
export const NEXT_KEYS_TAG = utf8ToBytes('milagro identity v1 next keys');

/** Byte lengths of the public keys a document carries. */
export const KEY_LENGTHS = Object.freeze({
  sign: 32 + 1952,
  kem: 1216,
  bls: 48,
  secp256k1: 33,
});
export const COMMITMENT_LENGTH = 32;
export const SIGNATURE_LENGTH = 64 + 3309;
export const BLS_POP_LENGTH = 96;

/** Largest encoded document accepted (a full rotation is about 10.3 KiB). */
export const MAX_DOCUMENT_BYTES = 16 * 1024;
/** Longest chain a resolver follows in one resolution before giving up (a defence against endless `prev` walks). */
export const MAX_CHAIN_LENGTH = 100_000;
/** Identities kept by a resolver's default in-memory cache. */
export const DEFAULT_CACHE_ENTRIES = 10_000;
/** Per-fetch timeout of a resolver (milliseconds). */
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
