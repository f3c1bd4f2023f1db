/**
 * Resharing a realm of three D-TAs (t = 2) to two of them: the removed D-TA ends `retired`, its
 * share is deleted and it refuses issuance (its directory answers REALM_RETIRED); the remaining two
 * issue at the new epoch with their new indices (the second member becomes index 1), and their
 * shares combine to the same s·H(ID) as before. No old-epoch share is left in any key store.
 */
import { fakeIdentity, RealmNetwork, type Member } from './support/realm-network.js';
import { combinedClientSecret, holdsShare } from './support/realm-reshare.js';

jest.setTimeout(120_000);

const REALM = 'shrinks';
let network: RealmNetwork;

beforeAll(async () => {
  network = await RealmNetwork.create(['alpha', 'beta', 'gamma']);
  await network.member('alpha').service.createRealm(network.definition(REALM, 2, await fakeIdentity('mfa')));
  await Promise.all(network.members.map((m) => m.service.waitForRealm(REALM, { timeoutMs: 60_000 })));
});

afterAll(async () => {
  await network.close();
});

it('removes alpha: alpha is retired and refuses issuance, beta and gamma issue at epoch 1 with indices 1 and 2, s·H(ID) unchanged', async () => {
  const [alpha, beta, gamma] = ['alpha', 'beta', 'gamma'].map((name) => network.member(name)) as [Member, Member, Member];
  const before = await combinedClientSecret(REALM, [alpha, gamma]);

  // beta proposes; alpha, the member removed, still deals its share and then retires.
  await beta.service.reshareRealm({ realmId: REALM, members: [beta.id, gamma.id], threshold: 2 });
  const [b, g] = await Promise.all([beta, gamma].map((m) => m.service.waitForRealm(REALM, { epoch: 1, timeoutMs: 60_000 })));
  expect([b!.index, g!.index]).toEqual([1n, 2n]);
  expect(b!.members).toEqual([beta.id, gamma.id]);
  await expect(alpha.service.waitForRealm(REALM, { epoch: 1, timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'REALM_RETIRED' });

  const shares = await Promise.all([beta, gamma].map((m) => m.service.masterShare(REALM)));
  expect(shares.map((s) => [s.epoch, s.index])).toEqual([
    [1, 1n],
    [1, 2n],
  ]);
  expect(await combinedClientSecret(REALM, [beta, gamma])).toEqual({ secret: before.secret, epoch: 1 });

  expect(await alpha.service.realm(REALM)).toMatchObject({ state: 'retired', epoch: 1 });
  await expect(alpha.service.activeRealm(REALM)).rejects.toMatchObject({ code: 'REALM_RETIRED' });
  await expect(alpha.service.masterShare(REALM)).rejects.toMatchObject({ code: 'REALM_RETIRED' });
  // A retired D-TA cannot propose a resharing of the realm.
  await expect(alpha.service.reshareRealm({ realmId: REALM, members: [alpha.id, beta.id], threshold: 2 })).rejects.toMatchObject({ code: 'REALM_RETIRED' });

  for (const m of network.members) expect(await holdsShare(m, REALM, 0)).toBe(false);
  expect(await holdsShare(alpha, REALM, 1)).toBe(false);
  for (const m of [beta, gamma]) expect(await holdsShare(m, REALM, 1)).toBe(true);
});

it('the retirement and the new epoch survive a restart of every member', async () => {
  const [alpha, beta, gamma] = ['alpha', 'beta', 'gamma'].map((name) => network.member(name)) as [Member, Member, Member];
  const before = await combinedClientSecret(REALM, [beta, gamma]);
  for (const m of network.members) await network.restart(m);
  expect(await alpha.service.realm(REALM)).toMatchObject({ state: 'retired' });
  await expect(alpha.service.masterShare(REALM)).rejects.toMatchObject({ code: 'REALM_RETIRED' });
  expect(await combinedClientSecret(REALM, [beta, gamma])).toEqual(before);
});
