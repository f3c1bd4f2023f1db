/**
 * Deterministic DAG-CBOR encoding of envelopes, strict decoding, and the derived byte strings
 * (what is signed, the body's associated data, the envelope's CID). See docs/specs/envelope-v1.md §3–§5.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { digestBytes } from './body-digest.js';
import { DAG_CBOR_CODEC, ENVELOPE_VERSION, LENGTHS, LIMITS, RAW_CODEC, SHA2_256_CODE } from './constants.js';
import type { BodyCommitment, Envelope, EnvelopeHeader, RecipientEntry, RecipientGroup } from './envelope.js';
import { isDetachedBody } from './envelope.js';
import { EnvelopeError } from './errors.js';
import { isIdentityId } from './identity-id.js';

type CborMap = Record<string, unknown>;

function malformed(message: string): never {
  throw new EnvelopeError('MALFORMED', message);
}

// ---------------------------------------------------------------------------------------------
// Typed value → DAG-CBOR data model (optional fields are omitted, never null)

function entryToCbor(entry: RecipientEntry): CborMap {
  return { id: entry.id, kid: entry.kid, enc: entry.enc, ct: entry.ct };
}

function groupToCbor(group: RecipientGroup): CborMap {
  return { k: group.threshold, key: group.key, members: group.members.map(entryToCbor) };
}

function headerToCbor(header: EnvelopeHeader): CborMap {
  const out: CborMap = {
    type: header.type,
    typeVersion: header.typeVersion,
    from: header.from,
    to: header.to.map(entryToCbor),
    nonce: header.nonce,
  };
  if (header.groups.length > 0) out['groups'] = header.groups.map(groupToCbor);
  if (header.prev !== undefined) out['prev'] = header.prev;
  return out;
}

function bodyToCbor(body: BodyCommitment): CborMap {
  return isDetachedBody(body) ? { size: body.size, blocks: [...body.blocks] } : { size: body.size, sha256: body.sha256 };
}

function encodeCbor(value: unknown): Uint8Array {
  try {
    return dagCbor.encode(value);
  } catch (cause) {
    throw new EnvelopeError('INVALID_ARGUMENT', 'value cannot be encoded as DAG-CBOR', { cause });
  }
}

/** DAG-CBOR of the header alone. Its SHA-256 is the body's associated data. */
export function encodeHeader(header: EnvelopeHeader): Uint8Array {
  return encodeCbor(headerToCbor(header));
}

/** SHA-256 of the header's DAG-CBOR: the STREAM associated data and the share binding. */
export function headerDigest(header: EnvelopeHeader): Uint8Array {
  return digestBytes(encodeHeader(header));
}

/**
 * The exact bytes the sender signs: DAG-CBOR of `{v, header, body}`, i.e. the envelope without
 * `sig` and without the inline `data` (which the body commitment's SHA-256 covers).
 */
export function signedBytes(version: number, header: EnvelopeHeader, body: BodyCommitment): Uint8Array {
  return encodeCbor({ v: version, header: headerToCbor(header), body: bodyToCbor(body) });
}

/**
 * Encodes an envelope as deterministic DAG-CBOR (the bytes that are stored and addressed).
 * @throws EnvelopeError `MALFORMED` when the value is not a valid envelope.
 */
export function encodeEnvelope(envelope: Envelope): Uint8Array {
  const value: CborMap = {
    v: envelope.version,
    header: headerToCbor(envelope.header),
    body: bodyToCbor(envelope.body),
    sig: envelope.signature,
  };
  if (envelope.data !== undefined) value['data'] = envelope.data;
  const bytes = encodeCbor(value);
  // Validating the data model (not just encodability) keeps encode and decode exact inverses.
  toEnvelope(dagCbor.decode(bytes));
  return bytes;
}

/**
 * Decodes and validates an envelope: strict, canonical DAG-CBOR with exactly the fields of
 * format version 1. It does not check the signature; use `verifyEnvelope` or `openEnvelope`.
 * @throws EnvelopeError `MALFORMED` for anything else, `UNSUPPORTED_VERSION` for another version.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (!(bytes instanceof Uint8Array)) throw new EnvelopeError('INVALID_ARGUMENT', 'envelope bytes must be a Uint8Array');
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch (cause) {
    throw new EnvelopeError('MALFORMED', 'not valid DAG-CBOR', { cause });
  }
  const envelope = toEnvelope(value);
  // DAG-CBOR decoding is strict, but a byte-exact re-encoding is the definitive canonicality test.
  let again: Uint8Array;
  try {
    again = dagCbor.encode(value);
  } catch (cause) {
    throw new EnvelopeError('MALFORMED', 'not canonical DAG-CBOR', { cause });
  }
  if (!equalBytes(again, bytes)) malformed('not canonical DAG-CBOR');
  return envelope;
}

/** CIDv1 (dag-cbor, sha2-256) of an envelope's encoding: its address. */
export function envelopeCid(envelope: Envelope | Uint8Array): CID {
  const bytes = envelope instanceof Uint8Array ? envelope : encodeEnvelope(envelope);
  return CID.createV1(DAG_CBOR_CODEC, Digest.create(SHA2_256_CODE, digestBytes(bytes)));
}

/** CIDv1 (raw, sha2-256) of a detached body block. */
export function blockCid(block: Uint8Array): CID {
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256_CODE, digestBytes(block)));
}

// ---------------------------------------------------------------------------------------------
// DAG-CBOR data model → typed value, validating every field

function isMap(value: unknown): value is CborMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && CID.asCID(value) === null;
}

function expectKeys(map: CborMap, required: readonly string[], optional: readonly string[], what: string): void {
  for (const key of required) if (!(key in map)) malformed(`${what} lacks "${key}"`);
  for (const key of Object.keys(map)) {
    if (!required.includes(key) && !optional.includes(key)) malformed(`${what} has unknown field "${key}"`);
  }
}

function expectBytes(value: unknown, length: number | undefined, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) malformed(`${what} must be bytes`);
  if (length !== undefined && value.length !== length) malformed(`${what} must be ${length} bytes`);
  return value;
}

function expectUint(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    malformed(`${what} must be an integer in 0..${max}`);
  }
  return value;
}

function expectArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) malformed(`${what} must be an array`);
  return value;
}

const encoder = new TextEncoder();

function expectContentType(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) malformed('type must be a non-empty string');
  const bytes = encoder.encode(value);
  if (bytes.length > LIMITS.maxTextBytes || bytes.some((b) => b < 0x21 || b > 0x7e)) {
    malformed(`type must be 1..${LIMITS.maxTextBytes} printable ASCII characters`);
  }
  return value;
}

function expectId(value: unknown, what: string): string {
  if (!isIdentityId(value)) malformed(`${what} must be a canonical CIDv1 string`);
  return value;
}

function toEntry(value: unknown, what: string): RecipientEntry {
  if (!isMap(value)) malformed(`${what} must be a map`);
  expectKeys(value, ['id', 'kid', 'enc', 'ct'], [], what);
  return {
    id: expectId(value['id'], `${what}.id`),
    kid: expectBytes(value['kid'], LENGTHS.kid, `${what}.kid`),
    enc: expectBytes(value['enc'], LENGTHS.enc, `${what}.enc`),
    ct: expectBytes(value['ct'], LENGTHS.wrapped, `${what}.ct`),
  };
}

function toEntries(value: unknown, what: string): RecipientEntry[] {
  const entries = expectArray(value, what).map((item, i) => toEntry(item, `${what}[${i}]`));
  const ids = new Set(entries.map((e) => e.id));
  if (ids.size !== entries.length) malformed(`${what} lists an identity twice`);
  return entries;
}

function toGroup(value: unknown, what: string): RecipientGroup {
  if (!isMap(value)) malformed(`${what} must be a map`);
  expectKeys(value, ['k', 'key', 'members'], [], what);
  const members = toEntries(value['members'], `${what}.members`);
  if (members.length === 0) malformed(`${what} has no members`);
  const threshold = expectUint(value['k'], members.length, `${what}.k`);
  if (threshold < 1) malformed(`${what}.k must be at least 1`);
  return { threshold, key: expectBytes(value['key'], LENGTHS.groupWrapped, `${what}.key`), members };
}

function toHeader(value: unknown): EnvelopeHeader {
  if (!isMap(value)) malformed('header must be a map');
  expectKeys(value, ['type', 'typeVersion', 'from', 'to', 'nonce'], ['groups', 'prev'], 'header');
  const to = toEntries(value['to'], 'header.to');
  let groups: RecipientGroup[] = [];
  if ('groups' in value) {
    const raw = expectArray(value['groups'], 'header.groups');
    if (raw.length === 0) malformed('header.groups must be omitted rather than empty');
    if (raw.length > LIMITS.maxGroups) malformed(`at most ${LIMITS.maxGroups} groups`);
    groups = raw.map((g, i) => toGroup(g, `header.groups[${i}]`));
  }
  const total = groups.reduce((n, g) => n + g.members.length, to.length);
  if (total === 0) malformed('an envelope needs at least one recipient');
  if (total > LIMITS.maxRecipients) malformed(`at most ${LIMITS.maxRecipients} recipients`);
  const header: { -readonly [K in keyof EnvelopeHeader]: EnvelopeHeader[K] } = {
    type: expectContentType(value['type']),
    typeVersion: expectUint(value['typeVersion'], 0xffff_ffff, 'header.typeVersion'),
    from: expectId(value['from'], 'header.from'),
    to,
    groups,
    nonce: expectBytes(value['nonce'], LENGTHS.nonce, 'header.nonce'),
  };
  if ('prev' in value) header.prev = expectEnvelopeLink(value['prev'], 'header.prev');
  return header;
}

function expectCid(value: unknown, codec: number, what: string): CID {
  const cid = CID.asCID(value);
  if (cid === null || cid.version !== 1 || cid.code !== codec || cid.multihash.code !== SHA2_256_CODE || cid.multihash.size !== 32) {
    malformed(`${what} must be a CIDv1 (codec 0x${codec.toString(16)}, sha2-256)`);
  }
  return cid as CID;
}

function expectEnvelopeLink(value: unknown, what: string): CID {
  return expectCid(value, DAG_CBOR_CODEC, what);
}

function toBody(value: unknown): BodyCommitment {
  if (!isMap(value)) malformed('body must be a map');
  const size = expectUint(value['size'], Number.MAX_SAFE_INTEGER, 'body.size');
  if ('blocks' in value) {
    expectKeys(value, ['size', 'blocks'], [], 'body');
    const raw = expectArray(value['blocks'], 'body.blocks');
    if (raw.length === 0 || raw.length > LIMITS.maxBlocks) malformed(`body.blocks must list 1..${LIMITS.maxBlocks} blocks`);
    if (raw.length > size) malformed('body.blocks lists more blocks than body bytes');
    return { size, blocks: raw.map((b, i) => expectCid(b, RAW_CODEC, `body.blocks[${i}]`)) };
  }
  expectKeys(value, ['size', 'sha256'], [], 'body');
  return { size, sha256: expectBytes(value['sha256'], LENGTHS.digest, 'body.sha256') };
}

/** Validates a decoded DAG-CBOR value as a version 1 envelope. */
function toEnvelope(value: unknown): Envelope {
  if (!isMap(value)) malformed('an envelope is a map');
  if (!('v' in value)) malformed('envelope lacks "v"');
  const version = value['v'];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) malformed('v must be an unsigned integer');
  if (version !== ENVELOPE_VERSION) throw new EnvelopeError('UNSUPPORTED_VERSION', `envelope version ${version} is not supported`);
  expectKeys(value, ['v', 'header', 'body', 'sig'], ['data'], 'envelope');
  const header = toHeader(value['header']);
  const body = toBody(value['body']);
  const signature = expectBytes(value['sig'], LENGTHS.signature, 'sig');
  if (!('data' in value)) return { version: ENVELOPE_VERSION, header, body, signature };
  if (isDetachedBody(body)) malformed('a detached body cannot also be inline');
  const data = expectBytes(value['data'], body.size, 'data');
  return { version: ENVELOPE_VERSION, header, body, data, signature };
}

/** Constant-time-irrelevant byte equality (public data only). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
