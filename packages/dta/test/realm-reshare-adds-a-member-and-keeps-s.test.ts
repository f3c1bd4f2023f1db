/**
 * Resharing a realm of three D-TAs (t = 2) to four (t = 3) over the realm protocol: the group
 * public key and the combined client secret s·H(ID) are the same before and after, so client
 * secrets issued before stay valid; the new epoch's shares sit at the new indices, any three of
 * them combine, two no longer do, and the old epoch's shares are gone from every key store.
 */
import { fakeIdentity, RealmNetwork } from './support/realm-network.js';
import { combinedClientSecret, holdsShare } from './support/realm-reshare.js';

jest.setTimeout(120_000);

const REALM = 'grows';
let network: RealmNetwork;

beforeAll(async () => {
  network = await RealmNetwork.create(['alpha', 'beta', 'gamma', 'delta']);
  const definition = network.definitionOf(REALM, ['alpha', 'beta', 'gamma'], 2, await fakeIdentity('mfa'));
  await network.member('alpha').service.createRealm(definition);
  await Promise.all(['alpha', 'beta', 'gamma'].map((name) => network.member(name).service.waitForRealm(REALM, { timeoutMs: 60_000 })));
});

afterAll(async () => {
  await network.close();
});

it('adds a fourth D-TA with t = 3: s·H(ID) and s·G1 unchanged, new indices in use, old shares deleted', async () => {
  const [alpha, beta, gamma, delta] = ['alpha', 'beta', 'gamma', 'delta'].map((name) => network.member(name)) as [
    ReturnType<RealmNetwork['member']>,
    ReturnType<RealmNetwork['member']>,
    ReturnType<RealmNetwork['member']>,
    ReturnType<RealmNetwork['member']>,
  ];
  const before = await combinedClientSecret(REALM, [alpha, gamma]);
  expect(before.epoch).toBe(0);
  const groupKey = Buffer.from((await alpha.service.activeRealm(REALM)).groupPublicKey).toString('hex');

  const started = await beta.service.reshareRealm({ realmId: REALM, members: [alpha.id, beta.id, gamma.id, delta.id], threshold: 3 });
  // The realm stays active on epoch 0 at the proposer while the run goes on.
  expect(started).toMatchObject({ state: 'active', epoch: 0, resharing: { epoch: 1 } });

  const realms = await Promise.all(network.members.map((m) => m.service.waitForRealm(REALM, { epoch: 1, timeoutMs: 60_000 })));
  expect(realms.map((r) => [r.epoch, r.index, r.threshold, r.members.length])).toEqual([
    [1, 1n, 3, 4],
    [1, 2n, 3, 4],
    [1, 3n, 3, 4],
    [1, 4n, 3, 4],
  ]);
  expect(new Set(realms.map((r) => Buffer.from(r.groupPublicKey).toString('hex')))).toEqual(new Set([groupKey]));

  // Any three of the new shares give the same s·H(ID) as two of the old ones did; two do not any more.
  for (const trio of [[beta, gamma, delta], [alpha, gamma, delta], [alpha, beta, delta]]) {
    expect(await combinedClientSecret(REALM, trio)).toEqual({ secret: before.secret, epoch: 1 });
  }
  expect((await combinedClientSecret(REALM, [alpha, delta])).secret).not.toBe(before.secret);

  for (const m of network.members) {
    expect(await holdsShare(m, REALM, 1)).toBe(true);
    expect(await holdsShare(m, REALM, 0)).toBe(false);
    const status = await m.service.realm(REALM);
    expect(status).toMatchObject({ state: 'active', epoch: 1 });
    expect(status.resharing).toBeUndefined();
  }
  // Every member confirmed one transcript; nothing was refused or failed.
  const transcripts = await Promise.all(network.members.map(async (m) => Buffer.from((await m.service.realm(REALM)).result!.transcriptHash).toString('hex')));
  expect(new Set(transcripts).size).toBe(1);
  for (const m of network.members) expect(m.notices.filter((n) => n.kind === 'proposal-refused' || n.kind === 'session-failed')).toEqual([]);
});

it('ignores the whole resharing delivered again (the messenger may redeliver after a crash)', async () => {
  const before = await Promise.all(network.members.map((m) => m.service.masterShare(REALM)));
  const byId = new Map(network.members.map((m) => [m.id, m]));
  for (const message of [...network.sent]) await byId.get(message.to)!.service.handleMessage(message);
  const after = await Promise.all(network.members.map((m) => m.service.masterShare(REALM)));
  expect(after.map((s) => [s.epoch, s.index, Buffer.from(s.share).toString('hex')])).toEqual(before.map((s) => [s.epoch, s.index, Buffer.from(s.share).toString('hex')]));
});
