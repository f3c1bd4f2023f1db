/**
 * The two pubsub frames of messaging v1 (docs/specs/messaging-v1.md §3), as strict DAG-CBOR:
 * an announcement ("envelope `cid` from `from` awaits you") and a signed acknowledgement
 * ("I hold everything you sent me up to and including `cid`").
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { MAX_FRAME_BYTES, MAX_INLINE_ENVELOPE_BYTES, MESSAGING_VERSION } from './constants.js';

/** Sent on the recipient's topic after the envelope is stored; repeated until acknowledged. */
export interface Announcement {
  readonly kind: 'announce';
  /** The sender's identity (CID string). */
  readonly from: string;
  /** The sender's newest identity document, so the recipient can resolve current keys. */
  readonly head: CID;
  /** The envelope: the newest of the sender's outbox chain to this recipient. */
  readonly cid: CID;
  /** The envelope's bytes, when small enough to travel inline (checked against `cid` on receipt). */
  readonly envelope?: Uint8Array;
}

/** Sent on the sender's topic once everything up to `cid` is durably in the recipient's inbox. */
export interface Acknowledgement {
  readonly kind: 'ack';
  /** The acknowledging recipient's identity (CID string). */
  readonly from: string;
  /** The recipient's newest identity document. */
  readonly head: CID;
  /** The sender being acknowledged (CID string). */
  readonly to: string;
  /** The newest envelope held; acknowledges its whole `prev` chain too. */
  readonly cid: CID;
  /** Composite signature by `from` over {@link acknowledgementSignedBytes}. */
  readonly sig: Uint8Array;
}

export type Frame = Announcement | Acknowledgement;

/** Why a frame was not decoded. */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** True for the canonical string form of a CIDv1: the only form identities take. */
export function isIdentityId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 200) return false;
  try {
    const cid = CID.parse(value);
    return cid.version === 1 && cid.toString() === value;
  } catch {
    return false;
  }
}

export function encodeFrame(frame: Frame): Uint8Array {
  if (frame.kind === 'announce') {
    const inline = frame.envelope === undefined ? {} : { envelope: frame.envelope };
    return dagCbor.encode({ v: MESSAGING_VERSION, kind: frame.kind, from: frame.from, head: frame.head, cid: frame.cid, ...inline });
  }
  return dagCbor.encode({ v: MESSAGING_VERSION, kind: frame.kind, from: frame.from, head: frame.head, to: frame.to, cid: frame.cid, sig: frame.sig });
}

/** The bytes an acknowledgement's signature covers: its fields other than `head` and `sig`. */
export function acknowledgementSignedBytes(ack: Pick<Acknowledgement, 'from' | 'to' | 'cid'>): Uint8Array {
  return dagCbor.encode({ v: MESSAGING_VERSION, kind: 'ack', from: ack.from, to: ack.to, cid: ack.cid });
}

const ANNOUNCE_KEYS = ['cid', 'from', 'head', 'kind', 'v'];
const INLINE_ANNOUNCE_KEYS = ['cid', 'envelope', 'from', 'head', 'kind', 'v'];
const ACK_KEYS = ['cid', 'from', 'head', 'kind', 'sig', 'to', 'v'];

/**
 * Decodes a frame: canonical DAG-CBOR, exactly the fields of its kind, identity ids in canonical form.
 * @throws FrameError for anything else.
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length > MAX_FRAME_BYTES) throw new FrameError(`frame larger than ${MAX_FRAME_BYTES} bytes`);
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch {
    throw new FrameError('not DAG-CBOR');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || CID.asCID(value) !== null) {
    throw new FrameError('not a map');
  }
  const map = value as Record<string, unknown>;
  if (map['v'] !== MESSAGING_VERSION) throw new FrameError('unsupported version');
  const keys = Object.keys(map).sort();
  const from = identity(map['from'], 'from');
  const head = cid(map['head'], 'head');
  const envelope = cid(map['cid'], 'cid');
  if (map['kind'] === 'announce') {
    if (sameKeys(keys, ANNOUNCE_KEYS)) return { kind: 'announce', from, head, cid: envelope };
    if (!sameKeys(keys, INLINE_ANNOUNCE_KEYS)) throw new FrameError('unexpected fields');
    const inline = map['envelope'];
    if (!(inline instanceof Uint8Array) || inline.length === 0 || inline.length > MAX_INLINE_ENVELOPE_BYTES) throw new FrameError('envelope must be 1..64 KiB of bytes');
    return { kind: 'announce', from, head, cid: envelope, envelope: inline };
  }
  if (map['kind'] === 'ack') {
    if (!sameKeys(keys, ACK_KEYS)) throw new FrameError('unexpected fields');
    const sig = map['sig'];
    if (!(sig instanceof Uint8Array)) throw new FrameError('sig must be bytes');
    return { kind: 'ack', from, head, to: identity(map['to'], 'to'), cid: envelope, sig };
  }
  throw new FrameError('unknown kind');
}

function sameKeys(keys: string[], expected: string[]): boolean {
  return keys.length === expected.length && keys.every((key, i) => key === expected[i]);
}

function identity(value: unknown, field: string): string {
  if (!isIdentityId(value)) throw new FrameError(`${field} must be an identity CID string`);
  return value;
}

function cid(value: unknown, field: string): CID {
  const parsed = CID.asCID(value);
  if (parsed === null || parsed.version !== 1) throw new FrameError(`${field} must be a CIDv1 link`);
  return parsed;
}
