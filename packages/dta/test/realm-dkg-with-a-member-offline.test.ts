/**
 * One of three D-TAs is offline for the whole DKG (the transport drops everything to and from
 * it). The round deadlines close round 1 without its dealing, so the DKG disqualifies it
 * (`missing-dealing`), and rounds 2 and 3 do not wait for a member that sent nothing in round 1.
 *
 * - t = 2: the two that remain are at least t, so they complete: the realm is active at both with
 *   QUAL = {1, 2}. The offline member's index 3 still exists on the joint polynomial but nobody
 *   holds its share; until a resharing brings it in, issuance needs both of the others.
 * - t = 3: two qualified dealers are fewer than t, so the DKG cannot produce a usable key: both
 *   fail cleanly (PROTOCOL_FAILED, nothing in the key store) and the realm can be proposed again.
 */
import { decodeScalar, interpolateScalar, nobleBackend } from '@milagro/crypto';
import { isDtaError } from '../src/errors.js';
import { masterShareLabel } from '../src/realm-service.js';
import { fakeIdentity, RealmNetwork } from './support/realm-network.js';

jest.setTimeout(120_000);

const g1 = nobleBackend.g1;
let network: RealmNetwork;

beforeAll(async () => {
  // Deadlines long enough for honest members on a loaded 2-core machine, short enough for a test.
  network = await RealmNetwork.create(['alpha', 'beta', 'gamma'], () => ({ roundTimeoutMs: 8_000 }));
  const offline = network.member('gamma').id;
  network.interceptors.push((message) => (message.to === offline || message.from === offline ? undefined : message));
});

afterAll(async () => {
  await network.close();
});

it('t = 2: the two online members complete with the offline one disqualified, and their shares give s', async () => {
  const [alpha, beta, gamma] = [network.member('alpha'), network.member('beta'), network.member('gamma')];
  const started = Date.now();
  await alpha.service.createRealm(network.definition('two-of-three', 2, await fakeIdentity('mfa')));
  const [a, b] = await Promise.all([alpha, beta].map((m) => m.service.waitForRealm('two-of-three', { timeoutMs: 60_000 })));
  // One round deadline (round 1), not three: later rounds do not wait for a member that never dealt.
  expect(Date.now() - started).toBeLessThan(3 * 8_000);
  expect(Buffer.from(a!.groupPublicKey)).toEqual(Buffer.from(b!.groupPublicKey));
  for (const m of [alpha, beta]) expect((await m.service.realm('two-of-three')).result!.qualified).toEqual([1n, 2n]);

  const shares = await Promise.all([alpha, beta].map(async (m) => {
    const share = await m.service.masterShare('two-of-three');
    return { index: share.index, value: decodeScalar(share.share) };
  }));
  const s = interpolateScalar(shares);
  expect(g1.equals(g1.multiply(g1.base, s), g1.decode(a!.groupPublicKey))).toBe(true);

  // The offline member never heard of the realm.
  await expect(gamma.service.realm('two-of-three')).rejects.toMatchObject({ code: 'NOT_FOUND' });
});

it('t = 3: with one member offline the DKG fails cleanly at the others, leaves no share, and can be run again', async () => {
  const [alpha, beta] = [network.member('alpha'), network.member('beta')];
  await alpha.service.createRealm(network.definition('three-of-three', 3, await fakeIdentity('mfa')));
  const errors = await Promise.all([alpha, beta].map((m) => m.service.waitForRealm('three-of-three', { timeoutMs: 60_000 }).catch((e: unknown) => e)));
  for (const [i, m] of [alpha, beta].entries()) {
    const error = errors[i];
    expect(isDtaError(error, 'PROTOCOL_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/only 2 dealers qualified, 3 needed/);
    const status = await m.service.realm('three-of-three');
    expect(status.state).toBe('failed');
    await expect(m.service.activeRealm('three-of-three')).rejects.toMatchObject({ code: 'REALM_NOT_READY' });
    await expect(m.keyStore.describe({ label: masterShareLabel('three-of-three', 0) })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  }

  // gamma comes back: the realm is proposed again with a new session, and completes.
  network.interceptors.length = 0;
  const first = (await alpha.service.realm('three-of-three')).sessionId;
  const again = await alpha.service.createRealm(network.definition('three-of-three', 3, await fakeIdentity('mfa')));
  expect(again.sessionId).not.toBe(first);
  const realms = await Promise.all(network.members.map((m) => m.service.waitForRealm('three-of-three', { timeoutMs: 60_000 })));
  expect(new Set(realms.map((r) => Buffer.from(r.groupPublicKey).toString('hex'))).size).toBe(1);
});
