import type { DkgMessage, ResharingMessage } from '../src/sharing/dkg-messages.js';
import { ResharingParticipant, type ResharingParameters } from '../src/sharing/resharing.js';
import type { NobleG1 } from '../src/bls12-381/noble.js';
import { expectCryptoError } from './expect-crypto-error.js';
import { Fr, g1, oldSharing, sessionId } from './resharing-network.js';

const old = oldSharing(2, 3);
const params: ResharingParameters<NobleG1> = {
  sessionId,
  oldCommitments: old.commitments,
  dealers: [1n, 2n, 3n],
  newThreshold: 2,
  newHolders: 3,
};
const share = (i: number) => old.shares[i - 1]!;

describe('ResharingParticipant refuses what does not fit', () => {
  test('bad parameters and roles (INVALID_ARGUMENT), an old share that does not match the old commitments (SHARE_INVALID)', () => {
    const bad = (p: Partial<ResharingParameters<NobleG1>>, role: object = { newIndex: 1n }): void =>
      expectCryptoError(() => new ResharingParticipant(g1, { ...params, ...p }, role), 'INVALID_ARGUMENT');
    bad({ sessionId: new Uint8Array(0) });
    bad({ oldCommitments: [] });
    bad({ oldCommitments: [g1.zero, old.commitments[1]!] });
    bad({ dealers: [1n] }); // fewer than t = 2
    bad({ dealers: [1n, 1n, 2n] });
    bad({ dealers: [0n, 1n] });
    bad({ dealers: [1n, 0x10000n] });
    bad({ dealers: [1, 2] as unknown as bigint[] });
    bad({ newThreshold: 0 });
    bad({ newThreshold: 4 });
    bad({ newThreshold: 2, newHolders: 70_000 });
    bad({ newThreshold: 1.5 });
    bad({}, {}); // neither deals nor receives
    bad({}, { newIndex: 0n });
    bad({}, { newIndex: 4n });
    bad({}, { newIndex: 1 });
    bad({ dealers: [2n, 3n] }, { oldShare: share(1) }); // holder 1 is not among the dealers
    expectCryptoError(
      () => new ResharingParticipant(g1, params, { oldShare: { index: 1n, value: Fr.add(share(1).value, 1n) } }),
      'SHARE_INVALID',
    );
    expectCryptoError(() => new ResharingParticipant(g1, params, { oldShare: { index: 1n, value: -1n } }), 'INVALID_SCALAR');
  });

  test('only dealers deal, once, in round 1; rounds go in order (DKG_FAILED)', () => {
    const receiver = new ResharingParticipant(g1, params, { newIndex: 1n });
    expectCryptoError(() => receiver.deal(), 'DKG_FAILED');
    expectCryptoError(() => receiver.closeRound2(), 'DKG_FAILED');
    expectCryptoError(() => receiver.finish(), 'DKG_FAILED');
    expect(receiver.closeRound1()).toEqual([]); // a receiver needs no deal(); nobody dealt, so no complaints
    expect(receiver.phase).toBe('round2');

    const dealer = new ResharingParticipant(g1, params, { oldShare: share(1) });
    expectCryptoError(() => dealer.closeRound1(), 'DKG_FAILED'); // before deal()
    const { privateShares } = dealer.deal();
    expect(privateShares.map((s) => s.recipient)).toEqual([1n, 2n, 3n]); // a pure dealer sends to every new holder
    expectCryptoError(() => dealer.deal(), 'DKG_FAILED');
    expect(dealer.closeRound1()).toEqual([]);
    expectCryptoError(() => dealer.closeRound1(), 'DKG_FAILED');
    expect(dealer.closeRound2()).toEqual([]);
    expectCryptoError(() => dealer.finish(), 'DKG_FAILED'); // only its own dealing: 1 < t qualified
  });

  test('a dealer that stays keeps its own new share and sends it to nobody', () => {
    const both = new ResharingParticipant(g1, params, { oldShare: share(2), newIndex: 3n });
    expect([both.dealerIndex, both.newIndex]).toEqual([2n, 3n]);
    const { dealing, privateShares } = both.deal();
    expect(dealing.dealer).toBe(2n);
    expect(privateShares.map((s) => s.recipient)).toEqual([1n, 2n]);
    const toSelf = { type: 'reshare-private-share', sessionId, dealer: 2n, recipient: 3n, value: 1n } as const;
    expectCryptoError(() => both.receive(2n, toSelf), 'DKG_MESSAGE_REJECTED');
  });

  test('messages from another session or protocol, a forged sender, for someone else, malformed, or of a closed round (DKG_MESSAGE_REJECTED)', () => {
    const receiver = new ResharingParticipant(g1, params, { newIndex: 1n });
    const dealer2 = new ResharingParticipant(g1, params, { oldShare: share(2) });
    const { dealing, privateShares } = dealer2.deal();
    const toNew1 = privateShares.find((s) => s.recipient === 1n)!;
    const toNew3 = privateShares.find((s) => s.recipient === 3n)!;
    const rejected = (from: bigint, m: ResharingMessage): void =>
      expectCryptoError(() => receiver.receive(from, m), 'DKG_MESSAGE_REJECTED');

    rejected(2n, { ...dealing, sessionId: new TextEncoder().encode('another run') });
    rejected(3n, dealing); // claims dealer 2, sent by 3
    rejected(4n, dealing); // not a dealer
    rejected(2n, toNew3); // addressed to new holder 3
    rejected(3n, toNew1);
    rejected(2n, { ...toNew1, value: Fr.ORDER });
    rejected(4n, { type: 'reshare-complaint', sessionId, complainer: 4n, dealer: 2n }); // not a new holder
    rejected(2n, { type: 'reshare-complaint', sessionId, complainer: 3n, dealer: 2n }); // forged complainer
    rejected(3n, { type: 'reshare-complaint', sessionId, complainer: 3n, dealer: 7n }); // not a dealer
    rejected(2n, { type: 'reshare-justification', sessionId, dealer: 2n, recipient: 4n, value: 1n });
    rejected(2n, { type: 'reshare-justification', sessionId, dealer: 2n, recipient: 1n, value: -1n });
    // A DKG message of the same session is not a resharing message.
    const dkgDealing: DkgMessage = { type: 'dealing', sessionId, dealer: 2n, commitments: dealing.commitments };
    rejected(2n, dkgDealing as unknown as ResharingMessage);
    rejected(2n, { type: 'toString', sessionId } as unknown as ResharingMessage);
    rejected(2n, null as unknown as ResharingMessage);

    // A pure dealer receives no private shares.
    const dealer1 = new ResharingParticipant(g1, params, { oldShare: share(1) });
    expectCryptoError(() => dealer1.receive(2n, toNew1), 'DKG_MESSAGE_REJECTED');

    receiver.receive(2n, dealing);
    receiver.receive(2n, dealing); // repeated: harmless
    receiver.receive(2n, toNew1);
    // Later rounds' messages may arrive early.
    receiver.receive(2n, { type: 'reshare-complaint', sessionId, complainer: 2n, dealer: 2n });
    // Dealer 2's share verifies; dealers 1 and 3 never dealt, which everyone sees: no complaint needed.
    expect(receiver.closeRound1()).toEqual([]);
    rejected(2n, dealing); // round 1 is closed
    rejected(2n, toNew1);
  });

  test('two different private shares from one dealer count as a bad share and draw a complaint', () => {
    const receiver = new ResharingParticipant(g1, params, { newIndex: 1n });
    const dealer2 = new ResharingParticipant(g1, params, { oldShare: share(2) });
    const { dealing, privateShares } = dealer2.deal();
    const toNew1 = privateShares.find((s) => s.recipient === 1n)!;
    receiver.receive(2n, dealing);
    receiver.receive(2n, toNew1);
    receiver.receive(2n, { ...toNew1, value: Fr.add(toNew1.value, 1n) });
    expect(receiver.closeRound1()).toEqual([{ type: 'reshare-complaint', sessionId, complainer: 1n, dealer: 2n }]);
  });
});
