/**
 * Three D-TAs, t = 2, in one process over an in-memory transport (real SQLite files and real
 * encrypted-file key stores): the proposer creates a realm, every member ends up active with the
 * same group public key, and (in this test only) the shares interpolate to one secret s with
 * s·G1 = the group public key. Redelivering every message afterwards changes nothing.
 */
import { decodeCommitments, decodeScalar, interpolateScalar, nobleBackend, publicShare, type ScalarShare } from '@milagro/crypto';
import type { ActiveRealm } from '../src/realm-directory.js';
import { isDtaError } from '../src/errors.js';
import { masterShareLabel } from '../src/realm-service.js';
import { fakeIdentity, RealmNetwork } from './support/realm-network.js';

jest.setTimeout(60_000);

const g1 = nobleBackend.g1;
let network: RealmNetwork;

beforeAll(async () => {
  network = await RealmNetwork.create(['alpha', 'beta', 'gamma']);
});

afterAll(async () => {
  await network.close();
});

it('creates a realm: all three active with one group public key, and any two shares give the same s with s·G1 = that key', async () => {
  const [alpha, beta, gamma] = network.members as [(typeof network.members)[0], (typeof network.members)[0], (typeof network.members)[0]];
  const announced: ActiveRealm[] = [];
  for (const m of network.members) m.service.onRealmActive((realm) => announced.push(realm));

  const definition = network.definition('realm-one', 2, await fakeIdentity('mfa'));
  const started = await alpha.service.createRealm(definition);
  expect(started.state).toBe('pending');
  expect(started.proposer).toBe(alpha.id);

  const realms = await Promise.all(network.members.map((m) => m.service.waitForRealm('realm-one', { timeoutMs: 30_000 })));
  const keys = realms.map((r) => Buffer.from(r.groupPublicKey).toString('hex'));
  expect(new Set(keys).size).toBe(1);
  expect(realms.map((r) => r.index)).toEqual([1n, 2n, 3n]);
  expect(realms.every((r) => r.epoch === 0 && r.threshold === 2 && r.members.length === 3)).toBe(true);
  expect(announced.map((r) => r.realmId)).toEqual(['realm-one', 'realm-one', 'realm-one']);

  const shares: ScalarShare[] = [];
  for (const m of network.members) {
    const share = await m.service.masterShare('realm-one');
    expect(share.share).toHaveLength(32);
    shares.push({ index: share.index, value: decodeScalar(share.share) });
    expect((await m.keyStore.describe({ label: masterShareLabel('realm-one', 0) })).type).toBe('secret');
  }
  const s = interpolateScalar([shares[0]!, shares[1]!]);
  expect(interpolateScalar([shares[1]!, shares[2]!])).toBe(s);
  expect(interpolateScalar([shares[0]!, shares[2]!])).toBe(s);
  expect(g1.equals(g1.multiply(g1.base, s), g1.decode(realms[0]!.groupPublicKey))).toBe(true);

  // The stored public results agree, are all in G1, and each share matches the joint commitments.
  const statuses = await Promise.all(network.members.map((m) => m.service.realm('realm-one')));
  for (const [i, status] of statuses.entries()) {
    expect(status.state).toBe('active');
    expect(status.result!.qualified).toEqual([1n, 2n, 3n]);
    expect(status.result!.commitments).toHaveLength(2 * 48);
    expect(Buffer.from(status.result!.transcriptHash)).toEqual(Buffer.from(statuses[0]!.result!.transcriptHash));
    const commitments = decodeCommitments(g1, status.result!.commitments);
    expect(g1.equals(publicShare(g1, commitments, shares[i]!.index), g1.multiply(g1.base, shares[i]!.value))).toBe(true);
  }
  expect((await beta.service.listRealms()).map((r) => r.definition.realmId)).toEqual(['realm-one']);
  expect(gamma.notices.filter((n) => n.kind !== 'message-ignored')).toEqual([]);
});

it('ignores every message delivered again after the realm is active (the messenger may redeliver after a crash)', async () => {
  const before = await Promise.all(network.members.map((m) => m.service.masterShare('realm-one')));
  const byId = new Map(network.members.map((m) => [m.id, m]));
  for (const message of [...network.sent]) await byId.get(message.to)!.service.handleMessage(message);
  const after = await Promise.all(network.members.map((m) => m.service.masterShare('realm-one')));
  expect(after.map((s) => Buffer.from(s.share).toString('hex'))).toEqual(before.map((s) => Buffer.from(s.share).toString('hex')));
  for (const m of network.members) expect((await m.service.realm('realm-one')).state).toBe('active');
});

it('refuses to create a realm that is already active, and reports unknown realms as NOT_FOUND', async () => {
  const alpha = network.member('alpha');
  await expect(alpha.service.createRealm(network.definition('realm-one', 2, await fakeIdentity('mfa')))).rejects.toMatchObject({ code: 'CONFLICT' });
  const unknown = await alpha.service.activeRealm('no-such-realm').catch((error: unknown) => error);
  expect(isDtaError(unknown, 'NOT_FOUND')).toBe(true);
  await expect(alpha.service.masterShare('no-such-realm')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  await expect(alpha.service.realm('no-such-realm')).rejects.toMatchObject({ code: 'NOT_FOUND' });
});
