/**
 * Restarting a D-TA (closing and reopening its SQLite file and encrypted-file key store): an
 * active realm and its master-secret share are back; a DKG that was in progress is marked failed
 * (its redelivered messages are ignored) and the realm can be created again with a new session.
 */
import { REALM_MESSAGE_TYPES } from '../src/realm-protocol.js';
import { fakeIdentity, RealmNetwork } from './support/realm-network.js';

jest.setTimeout(180_000);

let network: RealmNetwork;

beforeAll(async () => {
  network = await RealmNetwork.create(['alpha', 'beta', 'gamma'], () => ({ roundTimeoutMs: 60_000 }));
});

afterAll(async () => {
  await network.close();
});

async function restart(name: string): Promise<void> {
  const member = network.member(name);
  await network.stop(member);
  await network.start(member, { trustedProposers: network.members.map((m) => m.id), roundTimeoutMs: 60_000 });
}

it('an active realm and its share are back after every member restarts', async () => {
  const mfa = await fakeIdentity('mfa');
  await network.member('alpha').service.createRealm(network.definition('persisted', 2, mfa));
  const before = await Promise.all(network.members.map((m) => m.service.waitForRealm('persisted', { timeoutMs: 60_000 })));
  const sharesBefore = await Promise.all(network.members.map((m) => m.service.masterShare('persisted')));

  for (const m of network.members) await restart(m.name);

  const after = await Promise.all(network.members.map((m) => m.service.activeRealm('persisted')));
  const sharesAfter = await Promise.all(network.members.map((m) => m.service.masterShare('persisted')));
  expect(after).toEqual(before);
  expect(sharesAfter.map((s) => [s.epoch, s.index, Buffer.from(s.share).toString('hex')])).toEqual(
    sharesBefore.map((s) => [s.epoch, s.index, Buffer.from(s.share).toString('hex')]),
  );
});

it('a DKG in progress at a restart is marked failed, its redelivered messages are ignored, and the realm can be created again', async () => {
  const [alpha, beta] = [network.member('alpha'), network.member('beta')];
  // The proposal gets through, the DKG rounds do not: every member is stuck in round 1.
  network.interceptors.push((message) => (message.type === REALM_MESSAGE_TYPES.dkg ? undefined : message));
  await alpha.service.createRealm(network.definition('interrupted', 2, await fakeIdentity('mfa')));
  for (const m of network.members) {
    for (let i = 0; i < 200 && (await m.service.realm('interrupted').catch(() => undefined))?.state !== 'pending'; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await m.service.realm('interrupted')).state).toBe('pending');
  }
  const proposal = network.sent.findLast((m) => m.to === beta.id && m.type === REALM_MESSAGE_TYPES.proposal)!;

  await restart('alpha');
  await restart('beta');
  for (const m of [alpha, beta]) {
    const status = await m.service.realm('interrupted');
    expect(status).toMatchObject({ state: 'failed', reason: 'interrupted by a restart' });
    await expect(m.service.masterShare('interrupted')).rejects.toMatchObject({ code: 'REALM_NOT_READY' });
  }

  // The messenger redelivers the proposal after the crash: the failed session does not restart.
  await beta.service.handleMessage(proposal);
  expect((await beta.service.realm('interrupted')).state).toBe('failed');

  // gamma's run is still pending (it did not restart); it fails at its deadline. Restart it too, then run again.
  await restart('gamma');
  network.interceptors.length = 0;
  await alpha.service.createRealm(network.definition('interrupted', 2, await fakeIdentity('mfa')));
  const realms = await Promise.all(network.members.map((m) => m.service.waitForRealm('interrupted', { timeoutMs: 60_000 })));
  expect(new Set(realms.map((r) => Buffer.from(r.groupPublicKey).toString('hex'))).size).toBe(1);
  expect(realms.every((r) => r.epoch === 0)).toBe(true);
});
