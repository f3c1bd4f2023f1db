/**
 * A resharing proposal is refused (nothing sent, the refusal recorded, the realm untouched) when
 * its proposer is not trusted by a joining member, when its previous sharing (commitments,
 * transcript, epoch) does not match what a current member holds, or when its proposer is not a
 * current member. A run a joining member refused fails at the others, who keep issuing on the
 * current epoch.
 */
import { encodeCommitments, nobleBackend, randomBytes } from '@milagro/crypto';
import { createReshareProposal, encodeRealmProposal, REALM_MESSAGE_TYPES, type RealmPrevious } from '../src/realm-protocol.js';
import type { RealmDefinition } from '../src/realm-directory.js';
import { fakeIdentity, RealmNetwork, type Member } from './support/realm-network.js';
import { combinedClientSecret, holdsShare } from './support/realm-reshare.js';

jest.setTimeout(120_000);

const REALM = 'guarded';
const g1 = nobleBackend.g1;
let network: RealmNetwork;
let alpha: Member, beta: Member, gamma: Member, delta: Member;

beforeAll(async () => {
  // delta, the D-TA to be added, trusts only gamma to propose.
  network = await RealmNetwork.create(['alpha', 'beta', 'gamma', 'delta'], (name, ids) => (name === 'delta' ? { trustedProposers: [ids['gamma']!] } : {}));
  [alpha, beta, gamma, delta] = ['alpha', 'beta', 'gamma', 'delta'].map((name) => network.member(name)) as [Member, Member, Member, Member];
  await alpha.service.createRealm(network.definitionOf(REALM, ['alpha', 'beta', 'gamma'], 2, await fakeIdentity('mfa')));
  await Promise.all([alpha, beta, gamma].map((m) => m.service.waitForRealm(REALM, { timeoutMs: 60_000 })));
  // Short round deadlines from now on: the refused run below ends at them.
  for (const m of [alpha, beta, gamma]) await network.restart(m, { roundTimeoutMs: 4_000 });
});

afterAll(async () => {
  await network.close();
});

it('a joining D-TA refuses an untrusted proposer; the run fails and the realm stays on epoch 0', async () => {
  const before = await combinedClientSecret(REALM, [alpha, beta]);
  await alpha.service.reshareRealm({ realmId: REALM, members: [alpha.id, beta.id, gamma.id, delta.id], threshold: 2 });
  await expect(alpha.service.waitForRealm(REALM, { epoch: 1, timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'PROTOCOL_FAILED' });

  expect(delta.notices.filter((n) => n.kind === 'proposal-refused')).toEqual([
    expect.objectContaining({ reason: 'the proposer is not trusted to propose realms', realmId: REALM, peer: alpha.id }),
  ]);
  expect(network.sent.filter((m) => m.from === delta.id)).toEqual([]);
  await expect(delta.service.realm(REALM)).rejects.toMatchObject({ code: 'NOT_FOUND' });

  for (const m of [alpha, beta, gamma]) {
    // The run fails everywhere at its deadline (waitForRealm would wait on past a failure that happened before the call).
    for (let i = 0; i < 1200 && (await m.service.realm(REALM)).resharing?.state !== 'failed'; i++) await new Promise((r) => setTimeout(r, 50));
    const status = await m.service.realm(REALM);
    expect(status).toMatchObject({ state: 'active', epoch: 0, resharing: { epoch: 1, state: 'failed' } });
    expect(await holdsShare(m, REALM, 0)).toBe(true);
    expect(await holdsShare(m, REALM, 1)).toBe(false);
  }
  expect(await combinedClientSecret(REALM, [beta, gamma])).toEqual(before);
});

it('a current member refuses a proposal whose previous commitments, transcript or epoch differ from its own, or whose proposer is not a current member', async () => {
  const status = await beta.service.realm(REALM);
  const definition: RealmDefinition = { ...status.definition, members: [alpha.id, beta.id, gamma.id, delta.id] };
  const previous: RealmPrevious = {
    members: status.definition.members,
    threshold: 2,
    commitments: status.result!.commitments,
    transcriptHash: status.result!.transcriptHash,
  };
  const forged = encodeCommitments(g1, [g1.multiply(g1.base, 5n), g1.multiply(g1.base, 7n)]);
  const cases: Array<[string, string, Uint8Array]> = [
    ['the previous sharing does not match this D-TA\'s realm', alpha.id, encodeRealmProposal(createReshareProposal(definition, { ...previous, commitments: forged }, 1, randomBytes(16)))],
    ['the previous sharing does not match this D-TA\'s realm', alpha.id, encodeRealmProposal(createReshareProposal(definition, { ...previous, transcriptHash: new Uint8Array(32) }, 1, randomBytes(16)))],
    ['a resharing must be for epoch 1', alpha.id, encodeRealmProposal(createReshareProposal(definition, previous, 2, randomBytes(16)))],
    ['the proposer is not a current member of the realm', delta.id, encodeRealmProposal(createReshareProposal(definition, previous, 1, randomBytes(16)))],
  ];
  const sentBefore = network.sent.filter((m) => m.from === beta.id).length;
  for (const [reason, from, body] of cases) {
    const count = beta.notices.length;
    await beta.service.handleMessage({ from, type: REALM_MESSAGE_TYPES.proposal, body });
    expect(beta.notices.slice(count)).toEqual([expect.objectContaining({ kind: 'proposal-refused', reason, realmId: REALM })]);
  }
  // Refused runs send nothing and leave the realm as it was.
  expect(network.sent.filter((m) => m.from === beta.id)).toHaveLength(sentBefore);
  expect(await beta.service.realm(REALM)).toMatchObject({ state: 'active', epoch: 0 });
  expect((await beta.service.masterShare(REALM)).epoch).toBe(0);
});
