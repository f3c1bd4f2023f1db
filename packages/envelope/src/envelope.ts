/**
 * The envelope data model (format version 1), as decoded from and encoded to DAG-CBOR.
 * Byte-level definitions are in docs/specs/envelope-v1.md.
 */
import type { CID } from 'multiformats/cid';

/** One wrapped key: a direct recipient's content key, or a group member's share. */
export interface RecipientEntry {
  /** The recipient's identity: the CID string of its inception document. */
  readonly id: string;
  /** Key id: the first 16 bytes of SHA-256 of the recipient's X-Wing public key. */
  readonly kid: Uint8Array;
  /** HPKE encapsulation (X-Wing ciphertext, 1120 bytes). */
  readonly enc: Uint8Array;
  /** HPKE ciphertext of the 32-byte content key or share (48 bytes). */
  readonly ct: Uint8Array;
}

/** A k-of-n recipient group: any `threshold` members together recover the content key. */
export interface RecipientGroup {
  /** k: how many members must combine their shares (1 ≤ k ≤ members). */
  readonly threshold: number;
  /** The content key sealed with AES-256-GCM under the group key (48 bytes). */
  readonly key: Uint8Array;
  /** The members in share order: member i (0-based) holds the share at index i + 1. */
  readonly members: readonly RecipientEntry[];
}

/** Everything fixed before the body is encrypted; its digest is the body's associated data. */
export interface EnvelopeHeader {
  /** Content type, e.g. `milagro/dta/order`. */
  readonly type: string;
  /** Version of the content type's own schema. */
  readonly typeVersion: number;
  /** The sender's identity (CID string). */
  readonly from: string;
  /** Direct recipients (may be empty when there are groups). */
  readonly to: readonly RecipientEntry[];
  /** k-of-n recipient groups (empty when none). */
  readonly groups: readonly RecipientGroup[];
  /** The previous envelope of the same conversation or log, if any. */
  readonly prev?: CID;
  /** 16 random bytes: makes every envelope, and its wrap context, unique. */
  readonly nonce: Uint8Array;
}

/** The commitment to the body ciphertext that the signature covers. */
export type BodyCommitment =
  /** Inline or streamed body: its length and SHA-256. */
  | { readonly size: number; readonly sha256: Uint8Array }
  /** Detached body: its length and the raw-codec CIDs of its blocks, in order. */
  | { readonly size: number; readonly blocks: readonly CID[] };

/** A decoded, structurally valid envelope. Authenticity is checked by verifying or opening it. */
export interface Envelope {
  /** Format version (always 1 here). */
  readonly version: 1;
  readonly header: EnvelopeHeader;
  readonly body: BodyCommitment;
  /** The body ciphertext when carried inline. */
  readonly data?: Uint8Array;
  /** Composite Ed25519 + ML-DSA-65 signature by the sender (3373 bytes). */
  readonly signature: Uint8Array;
}

/** The sender as the verifier knows it from the PKI: its identity and composite public key. */
export interface SenderPublicKey {
  /** Identity CID string; must equal the envelope's `from`. */
  readonly id: string;
  /** Composite Ed25519 + ML-DSA-65 public key (1984 bytes) listed by the identity document. */
  readonly publicKey: Uint8Array;
}

/** A recipient as the sender knows it from the PKI: its identity and X-Wing public key. */
export interface RecipientPublicKey {
  /** Identity CID string. */
  readonly id: string;
  /** X-Wing public key (1216 bytes) listed by the identity document. */
  readonly publicKey: Uint8Array;
}

/** True when a body commitment lists detached blocks. */
export function isDetachedBody(body: BodyCommitment): body is { readonly size: number; readonly blocks: readonly CID[] } {
  return 'blocks' in body;
}
