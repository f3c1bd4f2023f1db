import * as dagCbor from '@ipld/dag-cbor';
import { sha256 } from '@milagro/crypto';
import { DtaError } from './errors.js';
import type { RealmDefinition } from './realm-directory.js';
import { isIdentityId, isRealmId } from './wire.js';

/**
 * The realm protocol's wire formats: realm definitions, proposals (DKG and resharing), round
 * bundles and confirmations. Pure encoding and validation, no I/O (the realm service drives the protocol).
 *
 * Messages travel over `@milagro/messaging`, which seals each body to its recipient and
 * authenticates its sender; every body is deterministic DAG-CBOR with a version field `v: 1`.
 *
 * | type                          | body |
 * |-------------------------------|------|
 * | `milagro/dta/realm/proposal`  | `{ v, kind: 'dkg', definition, epoch: 0, nonce, session }` |
 * | `milagro/dta/realm/proposal`  | `{ v, kind: 'reshare', definition, epoch, nonce, previous: { members, threshold, commitments, transcript }, session }` |
 * | `milagro/dta/realm/dkg`       | `{ v, session, round: 1..3, messages: [encodeDkgMessage(...) or encodeResharingMessage(...)] }` |
 * | `milagro/dta/realm/confirm`   | `{ v, session, transcript: bytes(32) \| null }` |
 *
 * A round bundle carries all of one sender's DKG messages of a round for one recipient (round 1:
 * its dealing and the recipient's private share; round 2: its complaints, possibly none; round 3:
 * its justifications, possibly none), so its arrival also tells the recipient that the sender
 * ended the round. A confirmation's `transcript` is null when the sender's run failed.
 *
 * A resharing proposal's `definition` is the realm after the run (new members and threshold,
 * everything else unchanged) and `epoch` the current epoch + 1; `previous` is the current sharing
 * (members, threshold, joint commitments in G1, transcript hash) that the run starts from.
 */

/** Every realm message type starts with this (the node dispatches on it). */
export const REALM_MESSAGE_PREFIX = 'milagro/dta/realm/';

/** The realm protocol's message types. */
export const REALM_MESSAGE_TYPES = {
  proposal: 'milagro/dta/realm/proposal',
  dkg: 'milagro/dta/realm/dkg',
  confirm: 'milagro/dta/realm/confirm',
} as const;

/** Most members a realm may have (the DKG's cost grows with n²). */
export const MAX_REALM_MEMBERS = 255;
/** Longest permit horizon accepted, in days. */
export const MAX_PERMIT_HORIZON_DAYS = 366;
/** Longest grant lifetime accepted, in minutes (one week). */
export const MAX_GRANT_LIFETIME_MINUTES = 7 * 24 * 60;
/** Length of a proposal's random nonce. */
export const PROPOSAL_NONCE_LENGTH = 16;
/** Session ids are SHA-256 digests. */
export const SESSION_ID_LENGTH = 32;
/** A round bundle holds at most this many DKG messages (complaints: one per other member). */
const MAX_BUNDLE_MESSAGES = MAX_REALM_MEMBERS;
/** A DKG message is at most a dealing of t compressed G1 points plus its header. */
const MAX_DKG_MESSAGE_BYTES = 64 + 48 * MAX_REALM_MEMBERS;

const VERSION = 1;
const SESSION_DOMAIN = 'milagro/dta/realm/session/v1';

/** The current sharing a resharing starts from. Members that hold the realm check it against their own. */
export interface RealmPrevious {
  readonly members: readonly string[];
  readonly threshold: number;
  /** The current joint commitments in G1 (`encodeCommitments`, `threshold` points): the anchor that keeps s unchanged. */
  readonly commitments: Uint8Array;
  readonly transcriptHash: Uint8Array;
}

/** A proposal to run a realm's DKG (`dkg`, epoch 0) or to reshare it (`reshare`, current epoch + 1). */
export interface RealmProposal {
  readonly kind: 'dkg' | 'reshare';
  /** The realm as the run leaves it (a resharing changes `members` and `threshold` only). */
  readonly definition: RealmDefinition;
  readonly epoch: number;
  readonly nonce: Uint8Array;
  /** Resharing only: the sharing it starts from. */
  readonly previous?: RealmPrevious;
  /** {@link realmSessionId} of the fields above. */
  readonly sessionId: Uint8Array;
}

/** Compressed G1 point length: each commitment. */
const G1_COMPRESSED_LENGTH = 48;

/** One sender's DKG messages of one round, for one recipient. */
export interface RealmRoundBundle {
  readonly sessionId: Uint8Array;
  readonly round: 1 | 2 | 3;
  /** Each one `encodeDkgMessage` output. */
  readonly messages: readonly Uint8Array[];
}

/** A member's result of a session: its transcript hash, or null when its DKG failed. */
export interface RealmConfirmation {
  readonly sessionId: Uint8Array;
  readonly transcriptHash: Uint8Array | null;
}

const invalid = (message: string): DtaError => new DtaError('INVALID_REQUEST', message);

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/**
 * Checks a realm definition and returns a frozen copy holding exactly its fields.
 * @throws DtaError `INVALID_REQUEST` naming the first bad field.
 */
export function validateRealmDefinition(value: unknown): RealmDefinition {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('a realm definition must be an object');
  const v = value as Record<string, unknown>;
  if (!isRealmId(v['realmId'])) throw invalid('realmId must be 1-63 characters of [a-z0-9-], starting with a letter or digit');
  const members = v['members'];
  if (!Array.isArray(members) || members.length < 1 || members.length > MAX_REALM_MEMBERS) throw invalid(`members must list 1..${MAX_REALM_MEMBERS} identities`);
  if (!members.every(isIdentityId)) throw invalid('every member must be an identity CID string');
  if (new Set(members).size !== members.length) throw invalid('members must be distinct');
  if (!isInteger(v['threshold'], 1, members.length)) throw invalid('threshold must be an integer in [1, members]');
  if (!isIdentityId(v['mfaService'])) throw invalid('mfaService must be an identity CID string');
  if (!isInteger(v['permitHorizonDays'], 0, MAX_PERMIT_HORIZON_DAYS)) throw invalid(`permitHorizonDays must be an integer in [0, ${MAX_PERMIT_HORIZON_DAYS}]`);
  if (!isInteger(v['grantMaxLifetimeMinutes'], 1, MAX_GRANT_LIFETIME_MINUTES)) throw invalid(`grantMaxLifetimeMinutes must be an integer in [1, ${MAX_GRANT_LIFETIME_MINUTES}]`);
  return Object.freeze({
    realmId: v['realmId'],
    members: Object.freeze([...(members as string[])]),
    threshold: v['threshold'],
    mfaService: v['mfaService'],
    permitHorizonDays: v['permitHorizonDays'],
    grantMaxLifetimeMinutes: v['grantMaxLifetimeMinutes'],
  });
}

/** The definition as a plain DAG-CBOR-ready record (fixed field set). */
function definitionRecord(definition: RealmDefinition): Record<string, unknown> {
  return {
    realmId: definition.realmId,
    members: [...definition.members],
    threshold: definition.threshold,
    mfaService: definition.mfaService,
    permitHorizonDays: definition.permitHorizonDays,
    grantMaxLifetimeMinutes: definition.grantMaxLifetimeMinutes,
  };
}

/** Deterministic DAG-CBOR of a (valid) definition: the form stored and hashed. */
export function encodeRealmDefinition(definition: RealmDefinition): Uint8Array {
  return dagCbor.encode(definitionRecord(validateRealmDefinition(definition)));
}

/** @throws DtaError `INVALID_REQUEST` unless `bytes` is a valid definition's canonical encoding. */
export function decodeRealmDefinition(bytes: Uint8Array): RealmDefinition {
  return validateRealmDefinition(decodeCbor(bytes));
}

/**
 * The session id of a run: SHA-256 over the DAG-CBOR of a domain tag, the kind, the definition,
 * the epoch, the proposer's random nonce and, for a resharing, the previous sharing. Binds every
 * protocol message (via the DKG's or resharing's session id) to this realm, both member lists and
 * thresholds, the old commitments and the epoch, and makes each run's id fresh.
 */
export function realmSessionId(kind: RealmProposal['kind'], definition: RealmDefinition, epoch: number, nonce: Uint8Array, previous?: RealmPrevious): Uint8Array {
  const record: Record<string, unknown> = { domain: SESSION_DOMAIN, kind, definition: definitionRecord(definition), epoch, nonce };
  if (previous) record['previous'] = previousRecord(previous);
  return sha256(dagCbor.encode(record));
}

function previousRecord(previous: RealmPrevious): Record<string, unknown> {
  return { members: [...previous.members], threshold: previous.threshold, commitments: previous.commitments, transcript: previous.transcriptHash };
}

/**
 * Checks a previous sharing (as decoded: `transcript` for the hash) and returns a frozen copy.
 * @throws DtaError `INVALID_REQUEST`.
 */
function validatePrevious(value: unknown, definition: RealmDefinition): RealmPrevious {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) throw invalid('previous must be a map');
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v);
  if (keys.length !== 4 || !['members', 'threshold', 'commitments', 'transcript'].every((k) => Object.hasOwn(v, k))) {
    throw invalid('previous has exactly the fields members, threshold, commitments, transcript');
  }
  // The old member list and threshold obey the same rules as a definition's.
  const old = validateRealmDefinition({ ...definition, members: v['members'], threshold: v['threshold'] });
  const commitments = v['commitments'];
  if (!(commitments instanceof Uint8Array) || commitments.length !== G1_COMPRESSED_LENGTH * old.threshold) {
    throw invalid('previous.commitments must be threshold compressed G1 points');
  }
  const transcript = v['transcript'];
  if (!(transcript instanceof Uint8Array) || transcript.length !== 32) throw invalid('previous.transcript must be 32 bytes');
  return Object.freeze({ members: old.members, threshold: old.threshold, commitments: commitments.slice(), transcriptHash: transcript.slice() });
}

/** True when two previous sharings are the same (members in order, threshold, commitments, transcript). */
export function samePrevious(a: RealmPrevious, b: RealmPrevious): boolean {
  return (
    a.threshold === b.threshold &&
    a.members.length === b.members.length &&
    a.members.every((m, i) => m === b.members[i]) &&
    bytesEqual(a.commitments, b.commitments) &&
    bytesEqual(a.transcriptHash, b.transcriptHash)
  );
}

/** Builds a fresh proposal (the caller supplies the random nonce). */
export function createRealmProposal(definition: RealmDefinition, epoch: number, nonce: Uint8Array): RealmProposal {
  const valid = validateRealmDefinition(definition);
  if (!isInteger(epoch, 0, 0xffffffff)) throw invalid('epoch must be a non-negative integer');
  if (!(nonce instanceof Uint8Array) || nonce.length !== PROPOSAL_NONCE_LENGTH) throw invalid(`nonce must be ${PROPOSAL_NONCE_LENGTH} bytes`);
  return { kind: 'dkg', definition: valid, epoch, nonce: nonce.slice(), sessionId: realmSessionId('dkg', valid, epoch, nonce) };
}

/** Builds a fresh resharing proposal from `previous` to `definition` at `epoch` (≥ 1; the caller supplies the random nonce). */
export function createReshareProposal(definition: RealmDefinition, previous: RealmPrevious, epoch: number, nonce: Uint8Array): RealmProposal {
  const valid = validateRealmDefinition(definition);
  const prev = validatePrevious(previousRecord(previous), valid);
  if (!isInteger(epoch, 1, 0xffffffff)) throw invalid('a resharing epoch must be a positive integer');
  if (!(nonce instanceof Uint8Array) || nonce.length !== PROPOSAL_NONCE_LENGTH) throw invalid(`nonce must be ${PROPOSAL_NONCE_LENGTH} bytes`);
  return { kind: 'reshare', definition: valid, epoch, nonce: nonce.slice(), previous: prev, sessionId: realmSessionId('reshare', valid, epoch, nonce, prev) };
}

export function encodeRealmProposal(proposal: RealmProposal): Uint8Array {
  const record: Record<string, unknown> = {
    v: VERSION,
    kind: proposal.kind,
    definition: definitionRecord(proposal.definition),
    epoch: proposal.epoch,
    nonce: proposal.nonce,
    session: proposal.sessionId,
  };
  if (proposal.kind === 'reshare') record['previous'] = previousRecord(proposal.previous as RealmPrevious);
  return dagCbor.encode(record);
}

/**
 * Decodes a proposal and checks that its session id is the one its fields give.
 * @throws DtaError `INVALID_REQUEST`.
 */
export function decodeRealmProposal(bytes: Uint8Array): RealmProposal {
  const value = decodeCbor(bytes);
  const kind = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)['kind'] : undefined;
  if (kind !== 'dkg' && kind !== 'reshare') throw invalid('unknown proposal kind');
  const fields = ['v', 'kind', 'definition', 'epoch', 'nonce', 'session'];
  const record = checkRecord(value, kind === 'reshare' ? [...fields, 'previous'] : fields);
  let proposal: RealmProposal;
  if (kind === 'dkg') {
    proposal = createRealmProposal(record['definition'] as RealmDefinition, record['epoch'] as number, record['nonce'] as Uint8Array);
  } else {
    const definition = validateRealmDefinition(record['definition']);
    proposal = createReshareProposal(definition, validatePrevious(record['previous'], definition), record['epoch'] as number, record['nonce'] as Uint8Array);
  }
  const session = record['session'];
  if (!(session instanceof Uint8Array) || !bytesEqual(session, proposal.sessionId)) throw invalid('the session id does not match the proposal');
  return proposal;
}

export function encodeRealmRoundBundle(bundle: RealmRoundBundle): Uint8Array {
  return dagCbor.encode({ v: VERSION, session: bundle.sessionId, round: bundle.round, messages: [...bundle.messages] });
}

/**
 * Decodes a round bundle (the DKG messages inside are decoded, strictly, by the receiver).
 * @throws DtaError `INVALID_REQUEST`.
 */
export function decodeRealmRoundBundle(bytes: Uint8Array): RealmRoundBundle {
  const record = decodeRecord(bytes, ['v', 'session', 'round', 'messages']);
  const sessionId = sessionField(record['session']);
  const round = record['round'];
  if (round !== 1 && round !== 2 && round !== 3) throw invalid('round must be 1, 2 or 3');
  const messages = record['messages'];
  if (!Array.isArray(messages) || messages.length > MAX_BUNDLE_MESSAGES) throw invalid(`messages must be a list of at most ${MAX_BUNDLE_MESSAGES}`);
  if (!messages.every((m) => m instanceof Uint8Array && m.length > 0 && m.length <= MAX_DKG_MESSAGE_BYTES)) throw invalid('every message must be a non-empty byte string');
  return { sessionId, round, messages: messages as Uint8Array[] };
}

export function encodeRealmConfirmation(confirmation: RealmConfirmation): Uint8Array {
  return dagCbor.encode({ v: VERSION, session: confirmation.sessionId, transcript: confirmation.transcriptHash });
}

/** @throws DtaError `INVALID_REQUEST`. */
export function decodeRealmConfirmation(bytes: Uint8Array): RealmConfirmation {
  const record = decodeRecord(bytes, ['v', 'session', 'transcript']);
  const sessionId = sessionField(record['session']);
  const transcript = record['transcript'];
  if (transcript !== null && !(transcript instanceof Uint8Array && transcript.length === 32)) throw invalid('transcript must be 32 bytes or null');
  return { sessionId, transcriptHash: transcript };
}

/** The session id of any realm message body, or undefined when the body does not carry one. */
export function sessionIdOf(type: string, body: Uint8Array): Uint8Array | undefined {
  try {
    if (type === REALM_MESSAGE_TYPES.dkg) return decodeRealmRoundBundle(body).sessionId;
    if (type === REALM_MESSAGE_TYPES.confirm) return decodeRealmConfirmation(body).sessionId;
    if (type === REALM_MESSAGE_TYPES.proposal) return decodeRealmProposal(body).sessionId;
  } catch {
    return undefined;
  }
  return undefined;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function sessionField(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== SESSION_ID_LENGTH) throw invalid(`session must be ${SESSION_ID_LENGTH} bytes`);
  return value;
}

function decodeCbor(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw invalid('a realm message must be bytes');
  try {
    return dagCbor.decode(bytes);
  } catch (cause) {
    throw new DtaError('INVALID_REQUEST', 'not DAG-CBOR', { cause });
  }
}

/** Decodes a map with exactly `fields` and version 1. */
function decodeRecord(bytes: Uint8Array, fields: readonly string[]): Record<string, unknown> {
  return checkRecord(decodeCbor(bytes), fields);
}

function checkRecord(value: unknown, fields: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) throw invalid('a realm message must be a map');
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length !== fields.length || !fields.every((f) => Object.hasOwn(record, f))) throw invalid(`a realm message has exactly the fields ${fields.join(', ')}`);
  if (record['v'] !== VERSION) throw invalid('unknown realm message version');
  return record;
}
