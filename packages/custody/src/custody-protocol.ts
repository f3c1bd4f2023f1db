/**
 * The custody protocol's messages between operators. They travel over `@milagro/messaging`, which
 * seals each body to its recipient and authenticates its sender; every body is deterministic
 * DAG-CBOR with `v: 1` and a 32-byte session id.
 *
 * | type | body | |
 * |---|---|---|
 * | `milagro/custody/vault/proposal` | `{ v, session, definition, signature, nonce }` | the coordinator forwards the principal's signed definition |
 * | `milagro/custody/vault/commit`   | `{ v, session, commitment: [bytes], proof }` | DKG round 1, to every operator |
 * | `milagro/custody/vault/share`    | `{ v, session, share }` | DKG round 2, one per recipient |
 * | `milagro/custody/vault/confirm`  | `{ v, session, transcript \| null, accused \| null, reason \| null [, evidence] }` | result, or blame; `evidence` (a bad private share): the accused's envelopes revealed, blame-evidence.ts |
 * | `milagro/custody/sign/request`   | `{ v, session, request, signature, approvals }` | the coordinator forwards the signed spend request |
 * | `milagro/custody/sign/nonces`    | `{ v, session, commitments: [{hiding, binding}] \| null, refusal \| null }` | an operator's nonce commitments (one per message), or its refusal |
 * | `milagro/custody/sign/package`   | `{ v, session, attempt, signers: [{index, commitments}] }` | the chosen signers and their commitments |
 * | `milagro/custody/sign/shares`    | `{ v, session, attempt, shares: [bytes] }` | signature shares |
 * | `milagro/custody/sign/escrow`    | `{ v, session, envelope }` | escrow vaults: an operator's share sealed to the principal |
 * | `milagro/custody/sign/result`    | `{ v, session, requestId, signatures \| null, txid, reason \| null, signers, spend \| null }` | outcome, to every operator; `spend`: the principal-signed request, so each checks it itself |
 * | `milagro/custody/refresh/proposal` | `{ v, session, vaultId, epoch, signature, nonce }` | a principal-signed refresh |
 * | `milagro/custody/refresh/commit`   | `{ v, session, commitment: [bytes] }` | commitments to a zero-secret polynomial |
 * | `milagro/custody/refresh/share`    | `{ v, session, share }` | |
 * | `milagro/custody/refresh/confirm`  | `{ v, session, transcript \| null, accused \| null, reason \| null }` | |
 * | `milagro/custody/reshare/proposal` | `{ v, session, definition, signature, epoch, nonce, previous }` | a principal-signed new operator set |
 * | `milagro/custody/reshare/commit`   | `{ v, session, commitment: [bytes] }` | an old operator's commitments (constant term λ_i·s_i) |
 * | `milagro/custody/reshare/share`    | `{ v, session, share }` | to each new operator |
 * | `milagro/custody/reshare/confirm`  | `{ v, session, transcript \| null, accused \| null, reason \| null }` | |
 */
import * as dagCbor from '@ipld/dag-cbor';
import { concatBytes, sha256, utf8ToBytes } from '@milagro/crypto';
import { MAX_APPROVERS, type Approval } from './vault.js';
import { checkMap, decodeMap, invalid, isBytes, isIdentityId, isInteger } from './wire.js';

export const CUSTODY_MESSAGE_PREFIX = 'milagro/custody/';

export const CUSTODY_MESSAGE_TYPES = {
  vaultProposal: 'milagro/custody/vault/proposal',
  vaultCommit: 'milagro/custody/vault/commit',
  vaultShare: 'milagro/custody/vault/share',
  vaultConfirm: 'milagro/custody/vault/confirm',
  signRequest: 'milagro/custody/sign/request',
  signNonces: 'milagro/custody/sign/nonces',
  signPackage: 'milagro/custody/sign/package',
  signShares: 'milagro/custody/sign/shares',
  signResult: 'milagro/custody/sign/result',
  escrowShare: 'milagro/custody/sign/escrow',
  refreshProposal: 'milagro/custody/refresh/proposal',
  refreshCommit: 'milagro/custody/refresh/commit',
  refreshShare: 'milagro/custody/refresh/share',
  refreshConfirm: 'milagro/custody/refresh/confirm',
  reshareProposal: 'milagro/custody/reshare/proposal',
  reshareCommit: 'milagro/custody/reshare/commit',
  reshareShare: 'milagro/custody/reshare/share',
  reshareConfirm: 'milagro/custody/reshare/confirm',
} as const;

export type CustodyMessageType = (typeof CUSTODY_MESSAGE_TYPES)[keyof typeof CUSTODY_MESSAGE_TYPES];

const MAX_MESSAGE_BYTES = 512 * 1024;
const MAX_INPUTS = 256;

/** A session id: SHA-256 over a domain, the vault and what the session runs. */
export function sessionId(kind: 'dkg' | 'sign' | 'refresh' | 'reshare', vaultId: string, nonce: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8ToBytes(`milagro/custody/session/${kind}/v1\0${vaultId}\0`), nonce));
}

export function encodeMessage(fields: Record<string, unknown>): Uint8Array {
  return dagCbor.encode({ v: 1, ...fields });
}

/** Decodes a message body with exactly `fields` (besides `v` and `session`). */
export function decodeMessage(bytes: Uint8Array, fields: readonly string[], what: string): Record<string, unknown> {
  const map = decodeMap(bytes, ['v', 'session', ...fields], MAX_MESSAGE_BYTES, what);
  if (!isBytes(map['session'], 32)) throw invalid(`${what}: session must be 32 bytes`);
  return map;
}

/** The session id of any custody message, or undefined. */
export function sessionOf(body: Uint8Array): Uint8Array | undefined {
  try {
    const value = dagCbor.decode(body) as Record<string, unknown>;
    return isBytes(value['session'], 32) ? value['session'] : undefined;
  } catch {
    return undefined;
  }
}

export function pointList(value: unknown, count: number, what: string): Uint8Array[] {
  if (!Array.isArray(value) || value.length !== count || !value.every((p) => isBytes(p, 33))) throw invalid(`${what}: expected ${count} compressed points`);
  return value as Uint8Array[];
}

export function nonceCommitments(value: unknown, what: string): Array<{ hiding: Uint8Array; binding: Uint8Array }> {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_INPUTS) throw invalid(`${what}: expected 1..${MAX_INPUTS} commitments`);
  return value.map((c) => {
    const m = checkMap(c, ['hiding', 'binding'], what);
    if (!isBytes(m['hiding'], 33) || !isBytes(m['binding'], 33)) throw invalid(`${what}: commitments are compressed points`);
    return { hiding: m['hiding'], binding: m['binding'] };
  });
}

export function scalarList(value: unknown, what: string): Uint8Array[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_INPUTS || !value.every((s) => isBytes(s, 32) || isBytes(s, 64))) throw invalid(`${what}: expected 32- or 64-byte values`);
  return value as Uint8Array[];
}

export function approvalList(value: unknown): Approval[] {
  if (!Array.isArray(value) || value.length > MAX_APPROVERS) throw invalid(`at most ${MAX_APPROVERS} approvals`);
  return value.map((a) => {
    const m = checkMap(a, ['approver', 'signature'], 'approval');
    if (!isIdentityId(m['approver']) || !isBytes(m['signature'])) throw invalid('an approval is an identity and a signature');
    return { approver: m['approver'], signature: m['signature'] };
  });
}

export function optionalText(value: unknown, what: string): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length > 500) throw invalid(`${what}: must be a short text or null`);
  return value;
}

export function optionalIndex(value: unknown, what: string): number | null {
  if (value === null) return null;
  if (!isInteger(value, 1, 1000)) throw invalid(`${what}: must be an operator index or null`);
  return value;
}
