import { CryptoError } from '../errors.js';
import { decodeScalar, encodeScalar, SCALAR_LENGTH } from '../bls12-381/scalar.js';

/**
 * The messages of the joint-Feldman DKG (see `dkg.ts`) and of resharing (see `resharing.ts`),
 * and their wire encoding.
 *
 * Every message carries the session id, so a message of one DKG run can never be applied to
 * another. Messages are plain data; the transport must authenticate the sender of every message
 * and give every participant the same broadcast messages, and must **encrypt** `DkgPrivateShare`
 * (it carries a secret share in the clear).
 *
 * Wire format (all integers big-endian):
 * ```
 * version=0x01 ‖ type (1 byte) ‖ len(sessionId) (1 byte, 1..255) ‖ sessionId ‖ body
 *   type 1 dealing:       dealer (u16) ‖ len(commitments) (u32) ‖ commitments
 *   type 2 private share: dealer (u16) ‖ recipient (u16) ‖ value (32 bytes, < r)
 *   type 3 complaint:     complainer (u16) ‖ dealer (u16)
 *   type 4 justification: dealer (u16) ‖ recipient (u16) ‖ value (32 bytes, < r)
 *   types 5..8: the resharing messages, laid out as types 1..4 (dealing, private share,
 *   complaint, justification); `dealer` is an old holder's index, `recipient` and
 *   `complainer` a new holder's.
 * ```
 * The two protocols have distinct type codes, so a DKG message never decodes as a resharing
 * message or the other way round (`decodeDkgMessage` refuses types 5..8,
 * `decodeResharingMessage` types 1..4), even under the same session id.
 * Participant indices are 1..65535. Decoding is strict: exact lengths, no trailing bytes,
 * canonical scalars. Commitment points are validated by the receiving participant (it knows the
 * group): `DkgParticipant.receive` decodes them with full point validation.
 */

/** Round 1, broadcast: a dealer's Feldman commitments (from `encodeCommitments`). */
export interface DkgDealing {
  readonly type: 'dealing';
  readonly sessionId: Uint8Array;
  readonly dealer: bigint;
  /** The encoded commitment vector C_0..C_{t−1} (t compressed points). */
  readonly commitments: Uint8Array;
}

/** Round 1, private (encrypted, authenticated, to `recipient` only): f_dealer(recipient). */
export interface DkgPrivateShare {
  readonly type: 'private-share';
  readonly sessionId: Uint8Array;
  readonly dealer: bigint;
  readonly recipient: bigint;
  /** Secret. */
  readonly value: bigint;
}

/** Round 2, broadcast: `complainer` received no valid share from `dealer`. */
export interface DkgComplaint {
  readonly type: 'complaint';
  readonly sessionId: Uint8Array;
  readonly complainer: bigint;
  readonly dealer: bigint;
}

/** Round 3, broadcast: `dealer` answers a complaint by publishing f_dealer(recipient). */
export interface DkgJustification {
  readonly type: 'justification';
  readonly sessionId: Uint8Array;
  readonly dealer: bigint;
  readonly recipient: bigint;
  /** The revealed share; public from now on. */
  readonly value: bigint;
}

/** Any DKG message. */
export type DkgMessage = DkgDealing | DkgPrivateShare | DkgComplaint | DkgJustification;

/** Resharing round 1, broadcast: old holder `dealer`'s commitments to g_dealer, with g_dealer(0) its old share. */
export interface ResharingDealing {
  readonly type: 'reshare-dealing';
  readonly sessionId: Uint8Array;
  /** The dealer's index among the old holders. */
  readonly dealer: bigint;
  /** The encoded commitment vector C_0..C_{t'−1} (t' compressed points). */
  readonly commitments: Uint8Array;
}

/** Resharing round 1, private (encrypted, authenticated, to `recipient` only): g_dealer(recipient). */
export interface ResharingPrivateShare {
  readonly type: 'reshare-private-share';
  readonly sessionId: Uint8Array;
  /** Old holder index. */
  readonly dealer: bigint;
  /** New holder index. */
  readonly recipient: bigint;
  /** Secret. */
  readonly value: bigint;
}

/** Resharing round 2, broadcast: new holder `complainer` received no valid share from old holder `dealer`. */
export interface ResharingComplaint {
  readonly type: 'reshare-complaint';
  readonly sessionId: Uint8Array;
  /** New holder index. */
  readonly complainer: bigint;
  /** Old holder index. */
  readonly dealer: bigint;
}

/** Resharing round 3, broadcast: old holder `dealer` answers a complaint by publishing g_dealer(recipient). */
export interface ResharingJustification {
  readonly type: 'reshare-justification';
  readonly sessionId: Uint8Array;
  /** Old holder index. */
  readonly dealer: bigint;
  /** New holder index. */
  readonly recipient: bigint;
  /** The revealed share; public from now on. */
  readonly value: bigint;
}

/** Any resharing message. */
export type ResharingMessage = ResharingDealing | ResharingPrivateShare | ResharingComplaint | ResharingJustification;

type SharingMessage = DkgMessage | ResharingMessage;

const VERSION = 0x01;
const TYPE_CODES = {
  dealing: 1,
  'private-share': 2,
  complaint: 3,
  justification: 4,
  'reshare-dealing': 5,
  'reshare-private-share': 6,
  'reshare-complaint': 7,
  'reshare-justification': 8,
} as const satisfies Record<SharingMessage['type'], number>;
const DKG_TYPES: ReadonlySet<string> = new Set<DkgMessage['type']>(['dealing', 'private-share', 'complaint', 'justification']);
const RESHARING_TYPES: ReadonlySet<string> = new Set<ResharingMessage['type']>([
  'reshare-dealing',
  'reshare-private-share',
  'reshare-complaint',
  'reshare-justification',
]);
/** Type code → type, for decoding. */
const TYPE_NAMES = new Map<number, SharingMessage['type']>(
  Object.entries(TYPE_CODES).map(([name, code]) => [code, name as SharingMessage['type']]),
);
/** Largest participant index the wire format carries. */
export const MAX_DKG_PARTICIPANTS = 0xffff;
/** Longest session id the wire format carries. */
export const MAX_SESSION_ID_LENGTH = 0xff;

function checkIndex(index: unknown, field: string): number {
  if (typeof index !== 'bigint' || index < 1n || index > BigInt(MAX_DKG_PARTICIPANTS)) {
    throw new CryptoError('INVALID_ARGUMENT', `${field} must be a bigint in [1, ${MAX_DKG_PARTICIPANTS}]`);
  }
  return Number(index);
}

/** @throws CryptoError `INVALID_ARGUMENT` unless `sessionId` is 1..255 bytes. */
export function assertSessionId(sessionId: unknown): asserts sessionId is Uint8Array {
  if (!(sessionId instanceof Uint8Array) || sessionId.length < 1 || sessionId.length > MAX_SESSION_ID_LENGTH) {
    throw new CryptoError('INVALID_ARGUMENT', `session id must be 1..${MAX_SESSION_ID_LENGTH} bytes`);
  }
}

/**
 * Encode a DKG message for the wire. Validates every field first.
 * @throws CryptoError `INVALID_ARGUMENT` (unknown type, bad index or session id, empty
 *   commitments) or `INVALID_SCALAR` (a share value outside [0, r)).
 */
export function encodeDkgMessage(message: DkgMessage): Uint8Array {
  if (!DKG_TYPES.has((message as { type?: unknown } | null)?.type as string)) {
    throw new CryptoError('INVALID_ARGUMENT', 'unknown DKG message type');
  }
  return encodeSharingMessage(message);
}

/**
 * Encode a resharing message for the wire. Validates every field first.
 * @throws CryptoError as {@link encodeDkgMessage}.
 */
export function encodeResharingMessage(message: ResharingMessage): Uint8Array {
  if (!RESHARING_TYPES.has((message as { type?: unknown } | null)?.type as string)) {
    throw new CryptoError('INVALID_ARGUMENT', 'unknown resharing message type');
  }
  return encodeSharingMessage(message);
}

function encodeSharingMessage(message: SharingMessage): Uint8Array {
  assertSessionId(message.sessionId);
  const body: number[] = [];
  const u16 = (v: number): void => void body.push(v >>> 8, v & 0xff);
  let tail: Uint8Array = new Uint8Array(0);
  switch (message.type) {
    case 'dealing':
    case 'reshare-dealing': {
      u16(checkIndex(message.dealer, 'dealer'));
      const c = message.commitments;
      if (!(c instanceof Uint8Array) || c.length === 0) {
        throw new CryptoError('INVALID_ARGUMENT', 'commitments must be a non-empty Uint8Array');
      }
      body.push((c.length >>> 24) & 0xff, (c.length >>> 16) & 0xff, (c.length >>> 8) & 0xff, c.length & 0xff);
      tail = c;
      break;
    }
    case 'private-share':
    case 'justification':
    case 'reshare-private-share':
    case 'reshare-justification':
      u16(checkIndex(message.dealer, 'dealer'));
      u16(checkIndex(message.recipient, 'recipient'));
      tail = encodeScalar(message.value);
      break;
    case 'complaint':
    case 'reshare-complaint':
      u16(checkIndex(message.complainer, 'complainer'));
      u16(checkIndex(message.dealer, 'dealer'));
      break;
    default:
      throw new CryptoError('INVALID_ARGUMENT', 'unknown message type');
  }
  const sid = message.sessionId;
  const out = new Uint8Array(3 + sid.length + body.length + tail.length);
  out.set([VERSION, TYPE_CODES[message.type], sid.length]);
  out.set(sid, 3);
  out.set(body, 3 + sid.length);
  out.set(tail, 3 + sid.length + body.length);
  return out;
}

/** A bounds-checked reader over one message; every read past the end is INVALID_LENGTH. */
class Reader {
  #offset = 0;
  constructor(private readonly bytes: Uint8Array) {}
  take(n: number): Uint8Array {
    if (this.#offset + n > this.bytes.length) throw new CryptoError('INVALID_LENGTH', 'message is truncated');
    const out = this.bytes.slice(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0] as number;
  }
  u16(): number {
    const b = this.take(2);
    return ((b[0] as number) << 8) | (b[1] as number);
  }
  u32(): number {
    const b = this.take(4);
    return (((b[0] as number) << 24) >>> 0) + (((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number));
  }
  index(field: string): bigint {
    const v = this.u16();
    if (v === 0) throw new CryptoError('INVALID_ENCODING', `${field} index 0 is not a participant`);
    return BigInt(v);
  }
  end(): void {
    if (this.#offset !== this.bytes.length) throw new CryptoError('INVALID_LENGTH', 'trailing bytes after the message');
  }
}

/**
 * Decode a DKG message from the wire, strictly (see the format above). The result always
 * re-encodes to the same bytes.
 * @throws CryptoError `INVALID_LENGTH` (truncated, trailing bytes), `INVALID_ENCODING` (unknown
 *   version or type, including a resharing type, empty session id or commitments, index 0),
 *   `INVALID_SCALAR` (value >= r).
 */
export function decodeDkgMessage(bytes: Uint8Array): DkgMessage {
  return decodeSharingMessage(bytes, DKG_TYPES, 'DKG') as DkgMessage;
}

/**
 * Decode a resharing message from the wire, strictly (see the format above). The result always
 * re-encodes to the same bytes.
 * @throws CryptoError as {@link decodeDkgMessage} (a DKG type is an unknown type here).
 */
export function decodeResharingMessage(bytes: Uint8Array): ResharingMessage {
  return decodeSharingMessage(bytes, RESHARING_TYPES, 'resharing') as ResharingMessage;
}

function decodeSharingMessage(bytes: Uint8Array, accepted: ReadonlySet<string>, protocol: string): SharingMessage {
  if (!(bytes instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', `${protocol} message must be a Uint8Array`);
  const reader = new Reader(bytes);
  if (reader.u8() !== VERSION) throw new CryptoError('INVALID_ENCODING', `unknown ${protocol} message version`);
  const typeCode = reader.u8();
  const sidLength = reader.u8();
  if (sidLength === 0) throw new CryptoError('INVALID_ENCODING', 'empty session id');
  const sessionId = reader.take(sidLength);
  const type = TYPE_NAMES.get(typeCode);
  if (type === undefined || !accepted.has(type)) throw new CryptoError('INVALID_ENCODING', `unknown ${protocol} message type`);
  let message: SharingMessage;
  switch (type) {
    case 'dealing':
    case 'reshare-dealing': {
      const dealer = reader.index('dealer');
      const length = reader.u32();
      if (length === 0) throw new CryptoError('INVALID_ENCODING', 'empty commitments');
      message = { type, sessionId, dealer, commitments: reader.take(length) };
      break;
    }
    case 'private-share':
    case 'justification':
    case 'reshare-private-share':
    case 'reshare-justification': {
      const dealer = reader.index('dealer');
      const recipient = reader.index('recipient');
      message = { type, sessionId, dealer, recipient, value: decodeScalar(reader.take(SCALAR_LENGTH)) };
      break;
    }
    case 'complaint':
    case 'reshare-complaint': {
      const complainer = reader.index('complainer');
      message = { type, sessionId, complainer, dealer: reader.index('dealer') };
      break;
    }
  }
  reader.end();
  return message;
}
