import { bls12_381 } from '@noble/curves/bls12-381.js';
import { nobleBackend, type NobleG1 } from '../src/bls12-381/noble.js';
import { DkgParticipant, type DkgResult } from '../src/sharing/dkg.js';
import {
  decodeDkgMessage,
  encodeDkgMessage,
  type DkgComplaint,
  type DkgDealing,
  type DkgJustification,
  type DkgMessage,
  type DkgPrivateShare,
} from '../src/sharing/dkg-messages.js';
import { publicShare } from '../src/sharing/feldman.js';
import { lagrangeCoefficients } from '../src/sharing/lagrange.js';
import { expectCryptoError } from './expect-crypto-error.js';

/*
 * The DKG runs here over an in-memory "network" that moves every message through the wire
 * encoding. Misbehaving participants are simulated by rewriting or dropping their messages in
 * transit, which is all a malicious participant can do to the others.
 */

const Fr = bls12_381.fields.Fr;
const g1 = nobleBackend.g1;
const sessionId = new TextEncoder().encode('test realm / dkg #1');

/** How the simulated adversary interferes; every hook may rewrite or drop (undefined) a message. */
interface Adversary {
  dealing?: (m: DkgDealing) => DkgDealing | DkgDealing[] | undefined;
  privateShare?: (m: DkgPrivateShare) => DkgPrivateShare | undefined;
  /** Extra complaints broadcast in round 2 (e.g. false ones). */
  extraComplaints?: DkgComplaint[];
  justification?: (m: DkgJustification) => DkgJustification | undefined;
}

interface Run {
  participants: DkgParticipant<NobleG1>[];
  results: DkgResult<NobleG1>[];
  complaints: DkgComplaint[];
  justifications: DkgJustification[];
}

const wire = <M extends DkgMessage>(m: M): M => decodeDkgMessage(encodeDkgMessage(m)) as M;

function runDkg(threshold: number, n: number, adversary: Adversary = {}): Run {
  const run = runRounds(threshold, n, adversary);
  return { ...run, results: run.participants.map((p) => p.finish()) };
}

/** Rounds 1–3, up to but excluding `finish()`. */
function runRounds(threshold: number, n: number, adversary: Adversary = {}): Omit<Run, 'results'> {
  const params = { sessionId, threshold, participants: n };
  const participants = Array.from({ length: n }, (_, i) => new DkgParticipant(g1, params, BigInt(i + 1)));
  const byIndex = (i: bigint): DkgParticipant<NobleG1> => participants[Number(i) - 1]!;
  const broadcast = (from: bigint, m: DkgMessage): void => {
    const onWire = wire(m);
    for (const p of participants) p.receive(from, onWire);
  };

  // Round 1.
  for (const p of participants) {
    const { dealing, privateShares } = p.deal();
    const dealings = adversary.dealing ? adversary.dealing(dealing) : dealing;
    for (const d of [dealings ?? []].flat()) broadcast(p.index, d);
    for (const s of privateShares) {
      const delivered = adversary.privateShare ? adversary.privateShare(s) : s;
      if (delivered) byIndex(s.recipient).receive(p.index, wire(delivered));
    }
  }
  // Round 2.
  const complaints = [...participants.flatMap((p) => p.closeRound1()), ...(adversary.extraComplaints ?? [])];
  for (const c of complaints) broadcast(c.complainer, c);
  // Round 3.
  const justifications: DkgJustification[] = [];
  for (const p of participants) {
    for (const j of p.closeRound2()) {
      const sent = adversary.justification ? adversary.justification(j) : j;
      if (sent) {
        justifications.push(sent);
        broadcast(p.index, sent);
      }
    }
  }
  return { participants, complaints, justifications };
}

/**
 * All results agree on the public outcome. A cheater's own view may differ (it takes its own
 * messages as delivered), so callers pass the honest participants' results only.
 */
function expectAgreement(results: readonly DkgResult<NobleG1>[]): void {
  const [first, ...rest] = results as [DkgResult<NobleG1>, ...DkgResult<NobleG1>[]];
  for (const r of rest) {
    expect(r.qualified).toEqual(first.qualified);
    expect(r.disqualified).toEqual(first.disqualified);
    expect(g1.equals(r.groupPublicKey, first.groupPublicKey)).toBe(true);
    expect(r.transcriptHash).toEqual(first.transcriptHash);
    r.commitments.forEach((c, k) => expect(g1.equals(c, first.commitments[k]!)).toBe(true));
  }
}

/** Σ λ_i·x_i over the given participants' final shares, times G, equals the group public key. */
function subsetOpensGroupKey(results: readonly DkgResult<NobleG1>[], subset: readonly number[]): boolean {
  const shares = subset.map((i) => results[i]!.share);
  const lambdas = lagrangeCoefficients(shares.map((s) => s.index));
  const x = shares.reduce((acc, s, k) => Fr.add(acc, Fr.mul(lambdas[k]!, s.value)), 0n);
  return g1.equals(g1.multiply(g1.base, x), results[0]!.groupPublicKey);
}

/** All k-element subsets of {0..n−1}, or of `pool` when given. */
function subsets(n: number, k: number, pool: readonly number[] = Array.from({ length: n }, (_, i) => i)): number[][] {
  if (k === 0) return [[]];
  if (pool.length < k) return [];
  const [head, ...rest] = pool as [number, ...number[]];
  return [...subsets(n, k - 1, rest).map((s) => [head, ...s]), ...subsets(n, k, rest)];
}

/** The results of everyone but the given (0-based) cheaters. */
const honest = (results: readonly DkgResult<NobleG1>[], ...cheaters: number[]): DkgResult<NobleG1>[] =>
  results.filter((_, i) => !cheaters.includes(i));

describe('joint-Feldman DKG, happy path', () => {
  for (const [t, n, exhaustive] of [
    [2, 3, true],
    [3, 5, true],
    [5, 9, false],
  ] as const) {
    test(`${t}-of-${n}: all agree, any t final shares open the group public key, t−1 do not`, () => {
      const { results, complaints, justifications } = runDkg(t, n);
      expect(complaints).toEqual([]);
      expect(justifications).toEqual([]);
      expectAgreement(results);
      const first = results[0]!;
      expect(first.qualified).toEqual(Array.from({ length: n }, (_, i) => BigInt(i + 1)));
      expect(first.disqualified).toEqual([]);
      expect(first.commitments).toHaveLength(t);
      expect(g1.isZero(first.groupPublicKey)).toBe(false);

      const chosen = exhaustive
        ? subsets(n, t)
        : [[0, 1, 2, 3, 4], [4, 5, 6, 7, 8], [0, 2, 4, 6, 8], [8, 1, 6, 3, 5]];
      for (const subset of chosen) expect(subsetOpensGroupKey(results, subset)).toBe(true);
      expect(subsetOpensGroupKey(results, chosen[0]!.slice(1))).toBe(false);

      // Verification keys are computable by anyone from the joint commitments.
      for (const r of results) {
        expect(g1.equals(publicShare(g1, first.commitments, r.share.index), g1.multiply(g1.base, r.share.value))).toBe(true);
      }
    });
  }

  test('two runs give independent keys', () => {
    const a = runDkg(2, 2).results[0]!;
    const b = runDkg(2, 2).results[0]!;
    expect(g1.equals(a.groupPublicKey, b.groupPublicKey)).toBe(false);
  });
});

describe('joint-Feldman DKG, cheating dealers', () => {
  // Dealer 2 sends participant 4 a wrong share.
  const badShareFrom2To4 = (m: DkgPrivateShare): DkgPrivateShare =>
    m.dealer === 2n && m.recipient === 4n ? { ...m, value: Fr.add(m.value, 1n) } : m;

  test('3-of-5: a bad share draws a complaint; unanswered, the dealer is disqualified and named, and the DKG completes', () => {
    const { results, complaints } = runDkg(3, 5, {
      privateShare: badShareFrom2To4,
      justification: (j) => (j.dealer === 2n ? undefined : j),
    });
    expect(complaints.map((c) => [c.complainer, c.dealer])).toEqual([[4n, 2n]]);
    const good = honest(results, 1);
    expectAgreement(good);
    expect(good[0]!.disqualified).toEqual([{ dealer: 2n, reason: 'unanswered-complaint' }]);
    expect(good[0]!.qualified).toEqual([1n, 3n, 4n, 5n]);
    for (const subset of subsets(4, 3)) expect(subsetOpensGroupKey(good, subset)).toBe(true);
  });

  test('3-of-5: a dealer answering with another wrong share is disqualified (invalid-justification)', () => {
    const { results } = runDkg(3, 5, {
      privateShare: badShareFrom2To4,
      justification: (j) => (j.dealer === 2n ? { ...j, value: Fr.add(j.value, 2n) } : j),
    });
    const good = honest(results, 1);
    expectAgreement(good);
    expect(good[0]!.disqualified).toEqual([{ dealer: 2n, reason: 'invalid-justification' }]);
    expect(subsetOpensGroupKey(good, [0, 2, 3])).toBe(true);
  });

  test('3-of-5: a dealer that answers the complaint with the right share stays qualified, and the complainer uses it', () => {
    const { results, justifications } = runDkg(3, 5, { privateShare: badShareFrom2To4 });
    expect(justifications.map((j) => [j.dealer, j.recipient])).toEqual([[2n, 4n]]);
    expectAgreement(results);
    expect(results[0]!.disqualified).toEqual([]);
    for (const subset of [[0, 1, 3], [1, 3, 4], [2, 3, 4]]) expect(subsetOpensGroupKey(results, subset)).toBe(true);
  });

  test('2-of-4: a false complaint answered correctly does not disqualify the dealer', () => {
    const falseComplaint: DkgComplaint = { type: 'complaint', sessionId, complainer: 3n, dealer: 1n };
    const { results, justifications } = runDkg(2, 4, { extraComplaints: [falseComplaint] });
    expect(justifications.map((j) => [j.dealer, j.recipient])).toEqual([[1n, 3n]]);
    expectAgreement(results);
    expect(results[0]!.qualified).toEqual([1n, 2n, 3n, 4n]);
    expect(subsetOpensGroupKey(results, [1, 2])).toBe(true);
  });

  test('2-of-5: missing, undecodable and equivocating dealings disqualify their dealers', () => {
    const { results, complaints } = runDkg(2, 5, {
      dealing: (d) => {
        if (d.dealer === 1n) return undefined; // never sent
        if (d.dealer === 2n) return { ...d, commitments: d.commitments.slice(0, 48) }; // wrong count
        if (d.dealer === 3n) return [d, { ...d, commitments: d.commitments.slice().reverse() }]; // two versions
        return d;
      },
    });
    // No complaints are needed against dealers everyone already saw fail.
    expect(complaints).toEqual([]);
    const good = honest(results, 0, 1, 2);
    expectAgreement(good);
    for (const r of good) {
      expect(r.disqualified).toEqual([
        { dealer: 1n, reason: 'missing-dealing' },
        { dealer: 2n, reason: 'invalid-dealing' },
        { dealer: 3n, reason: 'invalid-dealing' },
      ]);
      expect(r.qualified).toEqual([4n, 5n]);
    }
    expect(subsetOpensGroupKey(good, [0, 1])).toBe(true);
  });

  test('2-of-3: with fewer than t qualified dealers the DKG fails (DKG_FAILED) instead of making a weak key', () => {
    // Dealers 2 and 3 withhold their dealings: honest participant 1 sees one qualified dealer.
    const { participants } = runRounds(2, 3, { dealing: (d) => (d.dealer === 1n ? d : undefined) });
    expectCryptoError(() => participants[0]!.finish(), 'DKG_FAILED');
  });
});

describe('DkgParticipant refuses what does not fit', () => {
  const params = { sessionId, threshold: 2, participants: 3 };

  test('bad parameters', () => {
    expectCryptoError(() => new DkgParticipant(g1, { ...params, threshold: 0 }, 1n), 'INVALID_ARGUMENT');
    expectCryptoError(() => new DkgParticipant(g1, { ...params, threshold: 4 }, 1n), 'INVALID_ARGUMENT');
    expectCryptoError(() => new DkgParticipant(g1, { ...params, participants: 70_000, threshold: 2 }, 1n), 'INVALID_ARGUMENT');
    expectCryptoError(() => new DkgParticipant(g1, { ...params, sessionId: new Uint8Array(0) }, 1n), 'INVALID_ARGUMENT');
    expectCryptoError(() => new DkgParticipant(g1, params, 0n), 'INVALID_ARGUMENT');
    expectCryptoError(() => new DkgParticipant(g1, params, 4n), 'INVALID_ARGUMENT');
  });

  test('messages from another session, a forged sender, for someone else, or of a closed round', () => {
    const p1 = new DkgParticipant(g1, params, 1n);
    const p2 = new DkgParticipant(g1, params, 2n);
    const { dealing, privateShares } = p2.deal();
    const toP1 = privateShares.find((s) => s.recipient === 1n)!;
    const toP3 = privateShares.find((s) => s.recipient === 3n)!;
    const otherSession = new TextEncoder().encode('another run');
    const rejected = (from: bigint, m: DkgMessage): void => expectCryptoError(() => p1.receive(from, m), 'DKG_MESSAGE_REJECTED');

    rejected(2n, { ...dealing, sessionId: otherSession });
    rejected(3n, dealing); // claims dealer 2, sent by 3
    rejected(4n, dealing); // not a participant
    rejected(2n, toP3); // addressed to participant 3
    rejected(3n, toP1);
    rejected(2n, { ...toP1, value: -1n });
    rejected(1n, { type: 'complaint', sessionId, complainer: 1n, dealer: 1n }); // against oneself
    rejected(1n, { type: 'complaint', sessionId, complainer: 1n, dealer: 9n });
    rejected(2n, { type: 'justification', sessionId, dealer: 2n, recipient: 2n, value: 1n });
    rejected(2n, { type: 'something', sessionId } as unknown as DkgMessage);
    rejected(2n, { type: 'toString', sessionId } as unknown as DkgMessage);
    rejected(2n, null as unknown as DkgMessage);

    p1.receive(2n, dealing);
    p1.receive(2n, dealing); // repeated: harmless
    p1.receive(2n, toP1);
    // Later rounds' messages may arrive early.
    p1.receive(3n, { type: 'complaint', sessionId, complainer: 3n, dealer: 2n });
    p1.deal();
    // Dealer 2's share verifies; dealer 3 never dealt, which everyone sees, so no complaint is needed.
    expect(p1.closeRound1()).toEqual([]);
    rejected(2n, dealing); // round 1 is closed
    rejected(2n, toP1);
  });

  test('rounds must be taken in order (DKG_FAILED)', () => {
    const p = new DkgParticipant(g1, params, 1n);
    expectCryptoError(() => p.closeRound1(), 'DKG_FAILED'); // before deal()
    expectCryptoError(() => p.closeRound2(), 'DKG_FAILED');
    expectCryptoError(() => p.finish(), 'DKG_FAILED');
    p.deal();
    expectCryptoError(() => p.deal(), 'DKG_FAILED');
    p.closeRound1();
    expectCryptoError(() => p.closeRound1(), 'DKG_FAILED');
    expectCryptoError(() => p.finish(), 'DKG_FAILED');
    p.closeRound2();
    expect(p.phase).toBe('round3');
  });

  test('two different private shares from one dealer count as a bad share and draw a complaint', () => {
    const p1 = new DkgParticipant(g1, params, 1n);
    const p2 = new DkgParticipant(g1, params, 2n);
    const { dealing, privateShares } = p2.deal();
    const toP1 = privateShares.find((s) => s.recipient === 1n)!;
    p1.receive(2n, dealing);
    p1.receive(2n, toP1);
    p1.receive(2n, { ...toP1, value: Fr.add(toP1.value, 1n) });
    p1.deal();
    const complaints = p1.closeRound1();
    expect(complaints.some((c) => c.dealer === 2n)).toBe(true);
  });
});
