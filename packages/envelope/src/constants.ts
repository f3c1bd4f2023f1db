/**
 * Fixed parameters of envelope format version 1 (see docs/specs/envelope-v1.md). Version 1 has
 * exactly one suite; a new algorithm means a new version, never a negotiated identifier.
 */
import { COMPOSITE_SIGNATURE_LENGTHS, XWING_LENGTHS } from '@milagro/crypto';

/** The envelope format version this library writes and reads. */
export const ENVELOPE_VERSION = 1;

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Composite-signature context (bound into both halves of the signature). */
export const SIGNATURE_CONTEXT = ascii('milagro/envelope/v1');
/** HPKE `info` prefix for wrapped keys and shares; followed by the header nonce. */
export const WRAP_INFO_PREFIX = ascii('milagro/envelope/v1 wrap');
/** HKDF `info` prefix for a group key; followed by the group's position as uint32 big-endian. */
export const GROUP_KEY_INFO_PREFIX = ascii('milagro/envelope/v1 group key');
/** Domain-separation tag for drawing a group secret scalar from 32 random bytes. */
export const GROUP_SECRET_DST = 'milagro/envelope/v1 group secret';

/** Lengths of the fixed-size fields. */
export const LENGTHS = Object.freeze({
  nonce: 16,
  contentKey: 32,
  kid: 16,
  enc: XWING_LENGTHS.ciphertext,
  /** HPKE ciphertext of a 32-byte key or share: 32 + 16-byte AES-256-GCM tag. */
  wrapped: 48,
  /** AES-256-GCM of the 32-byte content key under a group key: 32 + 16-byte tag. */
  groupWrapped: 48,
  digest: 32,
  signature: COMPOSITE_SIGNATURE_LENGTHS.signature,
  senderPublicKey: COMPOSITE_SIGNATURE_LENGTHS.publicKey,
  recipientPublicKey: XWING_LENGTHS.publicKey,
});

/** Bounds a decoder enforces (they also bound the work an attacker can make an opener do). */
export const LIMITS = Object.freeze({
  /** UTF-8 bytes of an identity id or of a content type. */
  maxTextBytes: 256,
  /** Direct recipients plus group members, in total. */
  maxRecipients: 65_535,
  /** Recipient groups. */
  maxGroups: 255,
  /** Detached body blocks. */
  maxBlocks: 1_000_000,
});

/** Default plaintext bytes per STREAM chunk for envelope bodies (256 KiB: few GCM calls, small memory). */
export const DEFAULT_CHUNK_SIZE = 256 * 1024;
/** Default detached block size: 1 MiB of ciphertext, the usual IPFS block ceiling. */
export const DEFAULT_BLOCK_SIZE = 1024 * 1024;
/** Multicodec of detached body blocks: raw (0x55). */
export const RAW_CODEC = 0x55;
/** Multicodec of envelopes: dag-cbor (0x71). */
export const DAG_CBOR_CODEC = 0x71;
/** Multihash code of sha2-256 (0x12). */
export const SHA2_256_CODE = 0x12;
