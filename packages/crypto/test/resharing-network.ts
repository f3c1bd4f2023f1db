import { bls12_381 } from '@noble/curves/bls12-381.js';
import { nobleBackend, type NobleG1 } from '../src/bls12-381/noble.js';
import { randomScalar } from '../src/bls12-381/scalar.js';
import { dealShares } from '../src/sharing/feldman.js';
import { interpolateScalar, type ScalarShare } from '../src/sharing/lagrange.js';
import {
  decodeResharingMessage,
  encodeResharingMessage,
  type ResharingComplaint,
  type ResharingDealing,
  type ResharingJustification,
  type ResharingMessage,
  type ResharingPrivateShare,
} from '../src/sharing/dkg-messages.js';
import { ResharingParticipant, type ResharingResult } from '../src/sharing/resharing.js';

/*
 * Resharing over an in-memory "network" that moves every message through the wire encoding.
 * Misbehaving dealers are simulated by rewriting or dropping their messages in transit, which is
 * all a malicious participant can do to the others.
 */

export const Fr = bls12_381.fields.Fr;
export const g1 = nobleBackend.g1;
export const sessionId = new TextEncoder().encode('test realm / epoch 1 -> 2');

/** A current t-of-n sharing: every holder's share and the joint commitments (as a DKG would leave them). */
export interface Sharing {
  readonly secret: bigint;
  readonly shares: ScalarShare[];
  readonly commitments: NobleG1[];
}

/** A fresh t-of-n Feldman sharing of a random secret, standing in for a finished DKG. */
export function oldSharing(threshold: number, n: number): Sharing {
  const secret = randomScalar();
  const { shares, commitments } = dealShares(secret, { threshold, shares: n }, g1);
  return { secret, shares, commitments };
}

/** How the simulated adversary interferes; every hook may rewrite or drop (undefined) a message. */
export interface Adversary {
  dealing?: (m: ResharingDealing) => ResharingDealing | ResharingDealing[] | undefined;
  privateShare?: (m: ResharingPrivateShare) => ResharingPrivateShare | undefined;
  /** Extra complaints broadcast in round 2 (e.g. false ones). */
  extraComplaints?: ResharingComplaint[];
  justification?: (m: ResharingJustification) => ResharingJustification | undefined;
}

export interface ResharingSetup {
  readonly old: Sharing;
  /** Old holders that deal. */
  readonly dealers: readonly bigint[];
  readonly newThreshold: number;
  readonly newHolders: number;
  /** Old holders that stay: old index → new index. Every other new index is a newcomer. */
  readonly stays?: ReadonlyMap<bigint, bigint>;
  readonly adversary?: Adversary;
}

export interface Run {
  readonly participants: ResharingParticipant<NobleG1>[];
  readonly complaints: ResharingComplaint[];
  readonly justifications: ResharingJustification[];
}

const wire = <M extends ResharingMessage>(m: M): M => decodeResharingMessage(encodeResharingMessage(m)) as M;

/** The sender index a message is authenticated as: the complainer's new index, else the dealer's old index. */
const senderOf = (m: ResharingMessage): bigint => (m.type === 'reshare-complaint' ? m.complainer : m.dealer);

/** Build the participants: one per dealer (receiving too if it stays), one per newcomer. */
export function participantsFor(setup: ResharingSetup): ResharingParticipant<NobleG1>[] {
  const { old, dealers, newThreshold, newHolders, stays = new Map() } = setup;
  const params = { sessionId, oldCommitments: old.commitments, dealers, newThreshold, newHolders };
  const participants = dealers.map(
    (d) => new ResharingParticipant(g1, params, { oldShare: old.shares[Number(d) - 1]!, newIndex: stays.get(d) }),
  );
  const staying = new Set(stays.values());
  for (let j = 1n; j <= BigInt(newHolders); j++) {
    if (!staying.has(j)) participants.push(new ResharingParticipant(g1, params, { newIndex: j }));
  }
  return participants;
}

/** Rounds 1–3, up to but excluding `finish()`. */
export function runRounds(setup: ResharingSetup): Run {
  const adversary = setup.adversary ?? {};
  const participants = participantsFor(setup);
  const byNewIndex = (j: bigint): ResharingParticipant<NobleG1> => participants.find((p) => p.newIndex === j)!;
  const broadcast = (m: ResharingMessage): void => {
    const onWire = wire(m);
    for (const p of participants) p.receive(senderOf(m), onWire);
  };

  // Round 1: dealers only.
  for (const p of participants.filter((q) => q.dealerIndex !== undefined)) {
    const { dealing, privateShares } = p.deal();
    const dealings = adversary.dealing ? adversary.dealing(dealing) : dealing;
    for (const d of [dealings ?? []].flat()) broadcast(d);
    for (const s of privateShares) {
      const delivered = adversary.privateShare ? adversary.privateShare(s) : s;
      if (delivered) byNewIndex(s.recipient).receive(s.dealer, wire(delivered));
    }
  }
  // Round 2.
  const complaints = [...participants.flatMap((p) => p.closeRound1()), ...(adversary.extraComplaints ?? [])];
  for (const c of complaints) broadcast(c);
  // Round 3.
  const justifications: ResharingJustification[] = [];
  for (const p of participants) {
    for (const j of p.closeRound2()) {
      const sent = adversary.justification ? adversary.justification(j) : j;
      if (sent) {
        justifications.push(sent);
        broadcast(sent);
      }
    }
  }
  return { participants, complaints, justifications };
}

export function runResharing(setup: ResharingSetup): Run & { results: ResharingResult<NobleG1>[] } {
  const run = runRounds(setup);
  return { ...run, results: run.participants.map((p) => p.finish()) };
}

/** The new shares, ascending by new index. */
export const newShares = (results: readonly ResharingResult<NobleG1>[]): ScalarShare[] =>
  results.flatMap((r) => (r.share ? [r.share] : [])).sort((a, b) => (a.index < b.index ? -1 : 1));

/**
 * All results agree on the public outcome. A cheater's own view may differ (it takes its own
 * messages as delivered), so callers pass the honest participants' results only.
 */
export function expectAgreement(results: readonly ResharingResult<NobleG1>[]): void {
  const [first, ...rest] = results as [ResharingResult<NobleG1>, ...ResharingResult<NobleG1>[]];
  for (const r of rest) {
    expect(r.qualified).toEqual(first.qualified);
    expect(r.combined).toEqual(first.combined);
    expect(r.disqualified).toEqual(first.disqualified);
    expect(g1.equals(r.groupPublicKey, first.groupPublicKey)).toBe(true);
    expect(r.transcriptHash).toEqual(first.transcriptHash);
    expect(r.commitments).toHaveLength(first.commitments.length);
    r.commitments.forEach((c, k) => expect(g1.equals(c, first.commitments[k]!)).toBe(true));
  }
}

/** All k-element subsets of `pool`. */
export function subsets<T>(pool: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (pool.length < k) return [];
  const [head, ...rest] = pool as [T, ...T[]];
  return [...subsets(rest, k - 1).map((s) => [head, ...s]), ...subsets(rest, k)];
}

/** The secret every t-subset of `shares` interpolates to; fails the test if two subsets disagree. */
export function secretFromEverySubset(shares: readonly ScalarShare[], threshold: number): bigint {
  const secrets = new Set(subsets(shares, threshold).map((s) => interpolateScalar(s)));
  expect(secrets.size).toBe(1);
  return [...secrets][0]!;
}
