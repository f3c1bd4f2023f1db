import fc from 'fast-check';
import { DkgParticipant, type DkgResult } from '../src/sharing/dkg.js';
import { publicShare, verifyShare } from '../src/sharing/feldman.js';
import { interpolateScalar } from '../src/sharing/lagrange.js';
import type { NobleG1 } from '../src/bls12-381/noble.js';
import {
  expectAgreement,
  g1,
  newShares,
  oldSharing,
  runResharing,
  secretFromEverySubset,
  subsets,
  type ResharingSetup,
  type Sharing,
} from './resharing-network.js';

/** Everything resharing promises when nobody cheats, checked on one run. */
function expectSameSecretNewHolders(setup: ResharingSetup): void {
  const { participants, results, complaints, justifications } = runResharing(setup);
  const { old, dealers, newThreshold, newHolders } = setup;
  expect(complaints).toEqual([]);
  expect(justifications).toEqual([]);
  // Old-only dealers, newcomers and D-TAs that stay all reach the same public outcome.
  expectAgreement(results);
  const first = results[0]!;
  expect(first.qualified).toEqual([...dealers].sort((a, b) => (a < b ? -1 : 1)));
  expect(first.combined).toEqual(first.qualified.slice(0, old.commitments.length));
  expect(first.disqualified).toEqual([]);
  expect(first.commitments).toHaveLength(newThreshold);

  // The group public key is unchanged, so everything issued under it stays valid.
  expect(g1.equals(first.groupPublicKey, old.commitments[0]!)).toBe(true);
  expect(g1.equals(first.commitments[0]!, g1.multiply(g1.base, old.secret))).toBe(true);

  // Exactly the new holders got a share, one each, and it matches the new commitments.
  const shares = newShares(results);
  expect(shares.map((s) => s.index)).toEqual(Array.from({ length: newHolders }, (_, i) => BigInt(i + 1)));
  results.forEach((r, k) => expect(r.share?.index).toBe(participants[k]!.newIndex));
  expect(participants.some((p) => p.newIndex === undefined)).toBe(setup.dealers.length > (setup.stays?.size ?? 0));
  for (const s of shares) {
    expect(verifyShare(g1, first.commitments, s)).toBe(true);
    expect(g1.equals(publicShare(g1, first.commitments, s.index), g1.multiply(g1.base, s.value))).toBe(true);
  }

  // Any t' new shares give the old secret (as any t old shares do); t'−1 of them do not.
  expect(secretFromEverySubset(old.shares, old.commitments.length)).toBe(old.secret);
  expect(secretFromEverySubset(shares, newThreshold)).toBe(old.secret);
  if (newThreshold > 1) expect(interpolateScalar(shares.slice(0, newThreshold - 1))).not.toBe(old.secret);

  // The new sharing is fresh: no new share equals an old share at the same index.
  for (const s of shares) expect(old.shares.some((o) => o.index === s.index && o.value === s.value)).toBe(false);
}

describe('resharing keeps the secret and the group public key', () => {
  test('2-of-3 → 3-of-5, overlapping: old holder 1 leaves, 2 and 3 stay (as new 1 and 2), three join', () => {
    expectSameSecretNewHolders({
      old: oldSharing(2, 3),
      dealers: [1n, 2n, 3n],
      newThreshold: 3,
      newHolders: 5,
      stays: new Map([
        [2n, 1n],
        [3n, 2n],
      ]),
    });
  });

  test('2-of-3 → 3-of-5, disjoint: five new D-TAs, every old one leaves', () => {
    expectSameSecretNewHolders({ old: oldSharing(2, 3), dealers: [1n, 2n, 3n], newThreshold: 3, newHolders: 5 });
  });

  test('3-of-5 → 2-of-3, overlapping: old 4 and 5 stay (as new 1 and 2), one joins, 1–3 leave', () => {
    expectSameSecretNewHolders({
      old: oldSharing(3, 5),
      dealers: [1n, 2n, 3n, 4n, 5n],
      newThreshold: 2,
      newHolders: 3,
      stays: new Map([
        [4n, 1n],
        [5n, 2n],
      ]),
    });
  });

  test('3-of-5 → 2-of-3, disjoint, with only t = 3 of the old holders (1, 3, 5) dealing', () => {
    expectSameSecretNewHolders({ old: oldSharing(3, 5), dealers: [5n, 1n, 3n], newThreshold: 2, newHolders: 3 });
  });

  test('1-of-1 → 2-of-2 and n-of-n (additive-like) committees work too', () => {
    expectSameSecretNewHolders({ old: oldSharing(1, 1), dealers: [1n], newThreshold: 2, newHolders: 2, stays: new Map([[1n, 2n]]) });
    expectSameSecretNewHolders({ old: oldSharing(3, 3), dealers: [1n, 2n, 3n], newThreshold: 3, newHolders: 3 });
  });

  test('a DKG key survives two resharings (2-of-3 DKG → 3-of-4 → 2-of-2) with the same group public key', () => {
    // Epoch 1: a real DKG.
    const dkgParams = { sessionId: new TextEncoder().encode('realm / epoch 1'), threshold: 2, participants: 3 };
    const dkg = [1n, 2n, 3n].map((i) => new DkgParticipant(g1, dkgParams, i));
    for (const p of dkg) {
      const { dealing, privateShares } = p.deal();
      for (const q of dkg) q.receive(p.index, dealing);
      for (const s of privateShares) dkg[Number(s.recipient) - 1]!.receive(p.index, s);
    }
    for (const p of dkg) p.closeRound1();
    for (const p of dkg) p.closeRound2();
    const epoch1: DkgResult<NobleG1>[] = dkg.map((p) => p.finish());
    const secret = interpolateScalar(epoch1.slice(0, 2).map((r) => r.share));
    const start: Sharing = { secret, shares: epoch1.map((r) => r.share), commitments: epoch1[0]!.commitments };

    // Epoch 2: everyone stays, one joins, threshold 3.
    const epoch2 = runResharing({
      old: start,
      dealers: [1n, 2n, 3n],
      newThreshold: 3,
      newHolders: 4,
      stays: new Map([
        [1n, 1n],
        [2n, 2n],
        [3n, 3n],
      ]),
    }).results;
    expectAgreement(epoch2);
    const second: Sharing = { secret, shares: newShares(epoch2), commitments: epoch2[0]!.commitments };

    // Epoch 3: only holders 2 and 4 remain, 2-of-2; holder 1 is offline and does not deal.
    const epoch3 = runResharing({
      old: second,
      dealers: [2n, 3n, 4n],
      newThreshold: 2,
      newHolders: 2,
      stays: new Map([
        [2n, 1n],
        [4n, 2n],
      ]),
    }).results;
    expectAgreement(epoch3);
    expect(g1.equals(epoch3[0]!.groupPublicKey, epoch1[0]!.groupPublicKey)).toBe(true);
    expect(interpolateScalar(newShares(epoch3))).toBe(secret);
  });

  test('transcript hashes differ between runs and bind the outcome', () => {
    const old = oldSharing(2, 3);
    const setup = { old, dealers: [1n, 2n, 3n], newThreshold: 2, newHolders: 2 };
    const a = runResharing(setup).results[0]!;
    const b = runResharing(setup).results[0]!;
    // Same old key and parameters, fresh polynomials: different new commitments, different hash.
    expect(g1.equals(a.groupPublicKey, b.groupPublicKey)).toBe(true);
    expect(a.transcriptHash).not.toEqual(b.transcriptHash);
  });

  test('fast-check: random (t, n) → (t′, n′), dealer sets and stayers keep the secret', () => {
    const arbSetup = fc
      .record({
        t: fc.integer({ min: 1, max: 3 }),
        extraOld: fc.integer({ min: 0, max: 2 }),
        t2: fc.integer({ min: 1, max: 3 }),
        extraNew: fc.integer({ min: 0, max: 2 }),
      })
      .chain(({ t, extraOld, t2, extraNew }) => {
        const n = t + extraOld;
        const n2 = t2 + extraNew;
        const oldIndices = Array.from({ length: n }, (_, i) => BigInt(i + 1));
        const newIndices = Array.from({ length: n2 }, (_, i) => BigInt(i + 1));
        return fc.record({
          t: fc.constant(t),
          n: fc.constant(n),
          t2: fc.constant(t2),
          n2: fc.constant(n2),
          dealers: fc.subarray(oldIndices, { minLength: t }),
          // Pairs (old, new) of stayers: a shuffled prefix of the dealers matched to new indices.
          stayers: fc.shuffledSubarray(newIndices),
        });
      });
    fc.assert(
      fc.property(arbSetup, ({ t, n, t2, n2, dealers, stayers }) => {
        const stays = new Map(dealers.slice(0, stayers.length).map((d, k) => [d, stayers[k]!] as const));
        const old = oldSharing(t, n);
        const { results } = runResharing({ old, dealers, newThreshold: t2, newHolders: n2, stays });
        expectAgreement(results);
        expect(g1.equals(results[0]!.groupPublicKey, old.commitments[0]!)).toBe(true);
        const shares = newShares(results);
        expect(shares).toHaveLength(n2);
        for (const s of shares) expect(verifyShare(g1, results[0]!.commitments, s)).toBe(true);
        for (const subset of subsets(shares, t2)) expect(interpolateScalar(subset)).toBe(old.secret);
      }),
      { numRuns: 8 },
    );
    // Each run is a full resharing in pure-JS G1 (about 1–2 s alone, far more on a loaded CI machine).
  }, 240_000);
});
