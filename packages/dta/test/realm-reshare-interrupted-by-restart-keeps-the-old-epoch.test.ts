/**
 * A resharing interrupted by restarts loses nothing: every member finished the rounds but no
 * confirmation got through (the latest point before anything is stored), then all restart. The
 * old members are still active on epoch 0 with their old shares and issue the same s·H(ID); no
 * new-epoch share is left in any key store; the joining member's realm is failed. The resharing
 * then runs again and succeeds, with s unchanged.
 */
import { REALM_MESSAGE_TYPES } from '../src/realm-protocol.js';
import { fakeIdentity, RealmNetwork, type Member } from './support/realm-network.js';
import { combinedClientSecret, holdsShare } from './support/realm-reshare.js';

jest.setTimeout(180_000);

const REALM = 'resilient';
let network: RealmNetwork;
let alpha: Member, beta: Member, gamma: Member, delta: Member;

beforeAll(async () => {
  network = await RealmNetwork.create(['alpha', 'beta', 'gamma', 'delta']);
  [alpha, beta, gamma, delta] = ['alpha', 'beta', 'gamma', 'delta'].map((name) => network.member(name)) as [Member, Member, Member, Member];
  await alpha.service.createRealm(network.definitionOf(REALM, ['alpha', 'beta', 'gamma'], 2, await fakeIdentity('mfa')));
  await Promise.all([alpha, beta, gamma].map((m) => m.service.waitForRealm(REALM, { timeoutMs: 60_000 })));
});

afterAll(async () => {
  await network.close();
});

it('keeps the old epoch working after a restart in the middle, and the resharing runs again', async () => {
  const before = await combinedClientSecret(REALM, [alpha, beta]);
  const oldShares = await Promise.all([alpha, beta, gamma].map(async (m) => Buffer.from((await m.service.masterShare(REALM)).share).toString('hex')));

  // Every round gets through, no confirmation does: each member computes its new share and waits.
  network.interceptors.push((message) => (message.type === REALM_MESSAGE_TYPES.confirm ? undefined : message));
  const confirmsBefore = network.sent.filter((m) => m.type === REALM_MESSAGE_TYPES.confirm).length;
  await gamma.service.reshareRealm({ realmId: REALM, members: [alpha.id, beta.id, gamma.id, delta.id], threshold: 3 });
  // 4 members, each confirming to 3 others.
  for (let i = 0; i < 1200 && network.sent.filter((m) => m.type === REALM_MESSAGE_TYPES.confirm).length < confirmsBefore + 12; i++) await new Promise((r) => setTimeout(r, 50));
  expect(network.sent.filter((m) => m.type === REALM_MESSAGE_TYPES.confirm).length).toBe(confirmsBefore + 12);
  // Issuance continues on epoch 0 during the run.
  expect(await combinedClientSecret(REALM, [beta, gamma])).toEqual(before);

  for (const m of network.members) await network.restart(m);
  network.interceptors.length = 0;

  for (const [i, m] of [alpha, beta, gamma].entries()) {
    expect(await m.service.realm(REALM)).toMatchObject({ state: 'active', epoch: 0, resharing: { epoch: 1, state: 'failed', reason: 'interrupted by a restart' } });
    expect(Buffer.from((await m.service.masterShare(REALM)).share).toString('hex')).toBe(oldShares[i]);
    expect(await holdsShare(m, REALM, 1)).toBe(false);
  }
  expect(await delta.service.realm(REALM)).toMatchObject({ state: 'failed', epoch: 1, reason: 'interrupted by a restart' });
  expect(await holdsShare(delta, REALM, 1)).toBe(false);
  expect(await combinedClientSecret(REALM, [alpha, gamma])).toEqual(before);

  // Run again: it completes, and s·H(ID) is still the one issued before.
  await gamma.service.reshareRealm({ realmId: REALM, members: [alpha.id, beta.id, gamma.id, delta.id], threshold: 3 });
  await Promise.all(network.members.map((m) => m.service.waitForRealm(REALM, { epoch: 1, timeoutMs: 60_000 })));
  expect(await combinedClientSecret(REALM, [alpha, beta, delta])).toEqual({ secret: before.secret, epoch: 1 });
  for (const m of [alpha, beta, gamma]) expect(await holdsShare(m, REALM, 0)).toBe(false);
});
