import { randomScalar } from '../src/bls12-381/scalar.js';
import { dealShares, encodeCommitments, verifyShare } from '../src/sharing/feldman.js';
import { interpolateScalar } from '../src/sharing/lagrange.js';
import type { ResharingComplaint, ResharingDealing, ResharingPrivateShare } from '../src/sharing/dkg-messages.js';
import type { ResharingResult } from '../src/sharing/resharing.js';
import type { NobleG1 } from '../src/bls12-381/noble.js';
import { expectCryptoError } from './expect-crypto-error.js';
import {
  expectAgreement,
  Fr,
  g1,
  newShares,
  oldSharing,
  runResharing,
  runRounds,
  secretFromEverySubset,
  sessionId,
  type Adversary,
} from './resharing-network.js';

/*
 * 3-of-5 → 2-of-3 with every old holder dealing and the three new holders all newcomers, so the
 * results of the dealers (old indices 1..5) come first and then new holders 1..3.
 */
const setupWith = (adversary: Adversary, old = oldSharing(3, 5)) => ({
  old,
  dealers: [1n, 2n, 3n, 4n, 5n],
  newThreshold: 2,
  newHolders: 3,
  adversary,
});

/** The results of everyone but the given old dealers (a cheater's own view may differ). */
const honest = (results: readonly ResharingResult<NobleG1>[], ...cheaters: bigint[]): ResharingResult<NobleG1>[] =>
  results.filter((_, k) => !cheaters.includes(BigInt(k + 1)));

/**
 * Adversary: `dealer` deals a valid-looking sharing of some other value — consistent commitments
 * and private shares, so no new holder has anything to complain about.
 */
function reshareWrongValue(dealer: bigint): Adversary {
  const fake = dealShares(randomScalar(), { threshold: 2, shares: 3 }, g1);
  return {
    dealing: (m: ResharingDealing) => (m.dealer === dealer ? { ...m, commitments: encodeCommitments(g1, fake.commitments) } : m),
    privateShare: (m: ResharingPrivateShare) =>
      m.dealer === dealer ? { ...m, value: fake.shares[Number(m.recipient) - 1]!.value } : m,
  };
}

// Dealer 2 sends new holder 3 a wrong share.
const badShareFrom2To3 = (m: ResharingPrivateShare): ResharingPrivateShare =>
  m.dealer === 2n && m.recipient === 3n ? { ...m, value: Fr.add(m.value, 1n) } : m;

describe('resharing with cheating dealers', () => {
  test('a dealer resharing a value other than its share is disqualified publicly (wrong-secret), with no complaint, and the rest reshare the same secret', () => {
    const old = oldSharing(3, 5);
    const { results, complaints } = runResharing(setupWith(reshareWrongValue(2n), old));
    expect(complaints).toEqual([]);
    const good = honest(results, 2n);
    expectAgreement(good);
    expect(good[0]!.disqualified).toEqual([{ dealer: 2n, reason: 'wrong-secret' }]);
    expect(good[0]!.qualified).toEqual([1n, 3n, 4n, 5n]);
    expect(good[0]!.combined).toEqual([1n, 3n, 4n]);
    expect(g1.equals(good[0]!.groupPublicKey, old.commitments[0]!)).toBe(true);
    expect(secretFromEverySubset(newShares(good), 2)).toBe(old.secret);
  });

  test('with fewer than t qualified dealers every participant fails with DKG_FAILED instead of making a new sharing', () => {
    // 2-of-3: dealers 2 and 3 reshare wrong values, one qualified dealer is left.
    const old = oldSharing(2, 3);
    const both = [reshareWrongValue(2n), reshareWrongValue(3n)];
    const { participants } = runRounds({
      old,
      dealers: [1n, 2n, 3n],
      newThreshold: 2,
      newHolders: 3,
      adversary: {
        dealing: (m) => both.reduce<ResharingDealing>((acc, a) => a.dealing!(acc) as ResharingDealing, m),
        privateShare: (m) => both.reduce<ResharingPrivateShare>((acc, a) => a.privateShare!(acc)!, m),
      },
    });
    // Old holder 1 and the three new holders see only one qualified dealer.
    for (const p of [participants[0]!, ...participants.slice(3)]) expectCryptoError(() => p.finish(), 'DKG_FAILED');
  });

  test('a bad private share draws a complaint; the dealer justifies it and stays qualified, and the complainer uses the revealed share', () => {
    const old = oldSharing(3, 5);
    const { results, complaints, justifications } = runResharing(setupWith({ privateShare: badShareFrom2To3 }, old));
    expect(complaints.map((c) => [c.complainer, c.dealer])).toEqual([[3n, 2n]]);
    expect(justifications.map((j) => [j.dealer, j.recipient])).toEqual([[2n, 3n]]);
    expectAgreement(results);
    expect(results[0]!.disqualified).toEqual([]);
    expect(results[0]!.combined).toEqual([1n, 2n, 3n]);
    const shares = newShares(results);
    for (const s of shares) expect(verifyShare(g1, results[0]!.commitments, s)).toBe(true);
    expect(secretFromEverySubset(shares, 2)).toBe(old.secret);
  });

  test('a complaint left unanswered disqualifies the dealer (unanswered-complaint) and the rest still succeed', () => {
    const old = oldSharing(3, 5);
    const { results } = runResharing(
      setupWith({ privateShare: badShareFrom2To3, justification: (j) => (j.dealer === 2n ? undefined : j) }, old),
    );
    const good = honest(results, 2n);
    expectAgreement(good);
    expect(good[0]!.disqualified).toEqual([{ dealer: 2n, reason: 'unanswered-complaint' }]);
    expect(good[0]!.combined).toEqual([1n, 3n, 4n]);
    expect(secretFromEverySubset(newShares(good), 2)).toBe(old.secret);
  });

  test('a justification with another wrong share disqualifies the dealer (invalid-justification)', () => {
    const old = oldSharing(3, 5);
    const { results } = runResharing(
      setupWith(
        { privateShare: badShareFrom2To3, justification: (j) => (j.dealer === 2n ? { ...j, value: Fr.add(j.value, 2n) } : j) },
        old,
      ),
    );
    const good = honest(results, 2n);
    expectAgreement(good);
    expect(good[0]!.disqualified).toEqual([{ dealer: 2n, reason: 'invalid-justification' }]);
    expect(interpolateScalar(newShares(good).slice(0, 2))).toBe(old.secret);
  });

  test('a false complaint answered correctly does not disqualify the dealer', () => {
    const old = oldSharing(3, 5);
    const falseComplaint: ResharingComplaint = { type: 'reshare-complaint', sessionId, complainer: 1n, dealer: 4n };
    const { results, justifications } = runResharing(setupWith({ extraComplaints: [falseComplaint] }, old));
    expect(justifications.map((j) => [j.dealer, j.recipient])).toEqual([[4n, 1n]]);
    expectAgreement(results);
    expect(results[0]!.qualified).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(secretFromEverySubset(newShares(results), 2)).toBe(old.secret);
  });

  test('missing, wrong-degree and equivocating dealings disqualify their dealers', () => {
    const old = oldSharing(2, 5);
    const { results, complaints } = runResharing({
      old,
      dealers: [1n, 2n, 3n, 4n, 5n],
      newThreshold: 2,
      newHolders: 3,
      adversary: {
        dealing: (d) => {
          if (d.dealer === 1n) return undefined; // never sent
          if (d.dealer === 2n) return { ...d, commitments: d.commitments.slice(0, 48) }; // degree t'−2
          if (d.dealer === 3n) return [d, { ...d, commitments: d.commitments.slice().reverse() }]; // two versions
          return d;
        },
      },
    });
    expect(complaints).toEqual([]);
    const good = honest(results, 1n, 2n, 3n);
    expectAgreement(good);
    expect(good[0]!.disqualified).toEqual([
      { dealer: 1n, reason: 'missing-dealing' },
      { dealer: 2n, reason: 'invalid-dealing' },
      { dealer: 3n, reason: 'invalid-dealing' },
    ]);
    expect(good[0]!.combined).toEqual([4n, 5n]);
    expect(secretFromEverySubset(newShares(good), 2)).toBe(old.secret);
  });
});
