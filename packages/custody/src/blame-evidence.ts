/**
 * Evidence for a DKG blame that every operator checks on its own (ADR 0022, spec §3). DKG messages
 * travel in envelopes signed by their sender and sealed to one recipient. An operator that receives
 * a share failing `vss_verify` reveals two envelopes it got from the accused — its round-1 package
 * and that share — each with its content key (`revealContentKey` of `@milagro/envelope`): one
 * envelope's key, nothing else of the accuser's; for a round-1 package whose proof of knowledge fails,
 * that package's envelope alone. Any operator then opens them, checks they are signed by the accused
 * (its key from the PKI), sealed to the accuser alone, of the right type and this run's session, and
 * runs the check itself. It fails: the accused is named, with verified evidence. The evidence does not
 * check out: the accuser is named.
 * @internal
 */
import { decodeEnvelope, openEnvelope, revealContentKey, type EnvelopeRecipientKey } from '@milagro/envelope';
import * as dagCbor from '@ipld/dag-cbor';
import { CUSTODY_MESSAGE_TYPES } from './custody-protocol.js';
import { commitmentVerifies, shareMatchesCommitment } from './frost-dkg.js';
import { bytesEqual, checkMap, invalid, isBytes } from './wire.js';

/** One received envelope, revealed: its bytes and its content key. */
export interface RevealedEnvelope {
  readonly envelope: Uint8Array;
  readonly contentKey: Uint8Array;
}

/** What an accuser publishes: the accused's round-1 envelope and (for a bad share) its share envelope, both to the accuser. */
export interface BlameEvidence {
  readonly commit: RevealedEnvelope;
  readonly share?: RevealedEnvelope;
}

/** Reveals an envelope this operator received (by CID) from `sender`. */
export type EnvelopeRevealer = (cid: string, sender: string) => Promise<RevealedEnvelope>;

/** The verdict on evidence: who is named, and why (no secrets: the share is the accused's to a now-failed run). */
export type EvidenceVerdict = { readonly verified: true; readonly reason: string } | { readonly verified: false; readonly reason: string };

const MAX_EVIDENCE_ENVELOPE_BYTES = 64 * 1024;

/**
 * A revealer over a content store (the envelope, pinned by messaging when it arrived), this
 * operator's recipient key and the PKI (the sender's composite key).
 */
export function envelopeRevealer(options: {
  readonly get: (cid: string) => Promise<Uint8Array>;
  readonly recipientKey: () => Promise<EnvelopeRecipientKey>;
  readonly signingKey: (identity: string) => Promise<Uint8Array>;
}): EnvelopeRevealer {
  return async (cid, sender) => {
    const envelope = await options.get(cid);
    const contentKey = await revealContentKey(envelope, { sender: { id: sender, publicKey: await options.signingKey(sender) }, recipient: await options.recipientKey() });
    return { envelope, contentKey };
  };
}

export function encodeEvidence(evidence: BlameEvidence): Record<string, unknown> {
  return {
    commit: { envelope: evidence.commit.envelope, contentKey: evidence.commit.contentKey },
    ...(evidence.share === undefined ? {} : { share: { envelope: evidence.share.envelope, contentKey: evidence.share.contentKey } }),
  };
}

export function decodeEvidence(value: unknown): BlameEvidence {
  const withShare = typeof value === 'object' && value !== null && Object.hasOwn(value, 'share');
  const m = checkMap(value, withShare ? ['commit', 'share'] : ['commit'], 'evidence');
  const revealed = (v: unknown): RevealedEnvelope => {
    const r = checkMap(v, ['envelope', 'contentKey'], 'evidence');
    if (!isBytes(r['envelope']) || r['envelope'].length > MAX_EVIDENCE_ENVELOPE_BYTES || !isBytes(r['contentKey'], 32)) throw invalid('evidence: an envelope and its 32-byte content key');
    return { envelope: r['envelope'], contentKey: r['contentKey'] };
  };
  return { commit: revealed(m['commit']), ...(withShare ? { share: revealed(m['share']) } : {}) };
}

/** How one kind of key run's round-1 and share messages are checked (a DKG, a refresh). */
export interface EvidenceRules {
  readonly commitType: string;
  readonly shareType: string;
  /** Commitments in each round-1 message. */
  readonly commitments: number;
  /** The rest of a round-1 package checks out (DKG: its proof of knowledge); `body` is the whole message. */
  commitValid(sender: number, commitment: readonly Uint8Array[], body: Record<string, unknown>): boolean;
  /** The share is the evaluation at `recipient` of the polynomial `commitment` commits to. */
  shareMatches(recipient: number, commitment: readonly Uint8Array[], share: Uint8Array): boolean;
  /** What a cheater did, for the reason: `badCommit` when `commitValid` fails, `badShare` when `shareMatches` does. */
  readonly badCommit: string;
  readonly badShare: string;
}

/** The DKG's checks (n operators, threshold t): Feldman commitments with a proof of knowledge, `vss_verify`. */
export function dkgEvidenceRules(n: number, t: number): EvidenceRules {
  return {
    commitType: CUSTODY_MESSAGE_TYPES.vaultCommit,
    shareType: CUSTODY_MESSAGE_TYPES.vaultShare,
    commitments: t,
    commitValid: (sender, commitment, body) => {
      const proof = body['proof'];
      return (isBytes(proof, 64) || isBytes(proof, 65)) && commitmentVerifies(sender, n, t, { commitment, proof });
    },
    shareMatches: (recipient, commitment, share) => shareMatchesCommitment(recipient, n, t, commitment, share),
    badCommit: 'a round-1 proof of knowledge that does not verify',
    badShare: 'a private share that does not match its commitments',
  };
}

/** Opens a revealed envelope that must be from `sender`, sealed to `recipient` alone, of `type`. */
async function openRevealed(revealed: RevealedEnvelope, sender: { id: string; publicKey: Uint8Array }, recipient: string, type: string): Promise<Uint8Array> {
  const envelope = decodeEnvelope(revealed.envelope);
  if (envelope.header.type !== type) throw new Error(`it is a ${envelope.header.type}, not a ${type}`);
  if (envelope.header.groups.length > 0 || envelope.header.to.length !== 1 || envelope.header.to[0]?.id !== recipient) throw new Error('it is not sealed to the accuser alone');
  return (await openEnvelope(envelope, { sender, contentKey: revealed.contentKey })).body;
}

/** The body's fields, or why it is not a message of session `session`. */
function bodyOf(body: Uint8Array, session: Uint8Array): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = dagCbor.decode(body);
  } catch {
    return 'its body is not DAG-CBOR';
  }
  const map = value as Record<string, unknown> | null;
  if (typeof map !== 'object' || map === null || !isBytes(map['session'], 32) || !bytesEqual(map['session'], session)) return 'it belongs to another run';
  return map;
}

/**
 * Checks evidence from operator `accuser` against operator `accused` in DKG `session` (n operators,
 * threshold t). `ownCommitment`: the accused's round-1 commitments as this operator received them, if
 * it did. Verified: the accused signed, to the accuser, commitments and a share that fail `vss_verify`
 * (or, without a share, a round-1 package whose proof of knowledge fails), malformed ones, or
 * commitments other than it sent here.
 */
export async function checkBlameEvidence(input: {
  readonly evidence: BlameEvidence;
  readonly session: Uint8Array;
  readonly accuser: { readonly id: string; readonly index: number };
  readonly accused: { readonly id: string; readonly index: number; readonly signingKey: Uint8Array };
  /** The run's checks: {@link dkgEvidenceRules}, or a refresh's. */
  readonly rules: EvidenceRules;
  readonly ownCommitment?: readonly Uint8Array[];
}): Promise<EvidenceVerdict> {
  const { rules } = input;
  const { evidence, session, accuser, accused } = input;
  const sender = { id: accused.id, publicKey: accused.signingKey };
  let commitBody: Uint8Array;
  let shareBody: Uint8Array | undefined;
  try {
    commitBody = await openRevealed(evidence.commit, sender, accuser.id, rules.commitType);
  } catch (error) {
    return { verified: false, reason: `its round-1 envelope does not verify: ${(error as Error).message}` };
  }
  if (evidence.share !== undefined) {
    try {
      shareBody = await openRevealed(evidence.share, sender, accuser.id, rules.shareType);
    } catch (error) {
      return { verified: false, reason: `its share envelope does not verify: ${(error as Error).message}` };
    }
  }
  const commit = bodyOf(commitBody, session);
  if (typeof commit === 'string') return { verified: false, reason: `the round-1 envelope it revealed: ${commit}` };
  const share = shareBody === undefined ? undefined : bodyOf(shareBody, session);
  if (typeof share === 'string') return { verified: false, reason: `the share envelope it revealed: ${share}` };
  // From here on everything is signed by the accused, to the accuser, in this run.
  const commitment = commit['commitment'];
  if (!Array.isArray(commitment) || commitment.length !== rules.commitments || !commitment.every((c) => isBytes(c, 33))) {
    return { verified: true, reason: `sent operator ${accuser.index} malformed round-1 commitments (verified evidence)` };
  }
  if (input.ownCommitment !== undefined && !bytesEqual(dagCbor.encode([...input.ownCommitment]), dagCbor.encode(commitment))) {
    return { verified: true, reason: `showed operator ${accuser.index} other round-1 commitments than it sent here (verified evidence)` };
  }
  if (share === undefined) {
    if (!rules.commitValid(accused.index, commitment as Uint8Array[], commit)) return { verified: true, reason: `sent operator ${accuser.index} ${rules.badCommit} (verified evidence)` };
    return { verified: false, reason: `the round-1 package it revealed verifies` };
  }
  const value = share['share'];
  if (!isBytes(value, 32) || !rules.shareMatches(accuser.index, commitment as Uint8Array[], value)) {
    return { verified: true, reason: `sent operator ${accuser.index} ${rules.badShare} (verified evidence)` };
  }
  return { verified: false, reason: `the share it revealed matches operator ${accused.index}'s commitments` };
}
