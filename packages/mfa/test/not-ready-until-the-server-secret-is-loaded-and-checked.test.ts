/**
 * Proves that the service answers no login before it holds a server secret that passed its
 * self-check: `/readyz` is 503 and both passes answer `NOT_READY` while the source fails or yields a
 * secret that does not match the realm's group public key (e(G1, s·Q) ≠ e(s·G1, Q)); once the source
 * yields the right one, `/readyz` turns 200 and logins work.
 */
import { bytesToBase64url } from '@milagro/crypto';
import { combineServerSecret, issueServerShare } from '@milagro/mpin';
import type { ServerSecretMaterial } from '../src/index.js';
import { createRealm, get, login, post, registerDevice, removeDir, startMfa, testSuite } from './support/mfa-world.js';

test('no login before the server secret is loaded and matches the group public key', async () => {
  const suite = await testSuite();
  const realm = await createRealm();
  const other = await createRealm();
  let answer: () => ServerSecretMaterial = () => {
    throw new Error('D-TAs unreachable');
  };
  let calls = 0;
  const world = await startMfa({ realm, serverSecret: { load: async () => (calls += 1, answer()) } });
  try {
    const notReady = await get(`${world.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(notReady.body.failing).toEqual(['server-secret']);
    const pass1 = await post(`${world.url}/v1/login/pass1`, { identity: 'AA', u: bytesToBase64url(new Uint8Array(48)) });
    expect([pass1.status, pass1.body.code]).toEqual([503, 'NOT_READY']);
    expect(pass1.headers.get('retry-after')).toBe('5');

    // A secret of another realm (or a bad combination) fails the self-check: still not ready.
    answer = () => ({ serverSecret: other.serverSecret, groupPublicKey: realm.groupPublicKey });
    const callsBefore = calls;
    await waitFor(() => calls > callsBefore + 1);
    expect(world.service.isReady()).toBe(false);
    expect((await get(`${world.url}/readyz`)).status).toBe(503);

    // The right combination (any two D-TAs) is accepted.
    const fromOneAndTwo = combineServerSecret(suite, realm.masterShares.slice(0, 2).map((m) => ({ index: m.index, share: issueServerShare(suite, m.share) })));
    answer = () => ({ serverSecret: fromOneAndTwo, groupPublicKey: realm.groupPublicKey });
    await world.service.start();
    expect((await get(`${world.url}/readyz`)).status).toBe(200);
    const device = await registerDevice(world, 'alice@example.org', '2468');
    expect((await login(world, device, '2468')).pass2?.status).toBe(200);
  } finally {
    await world.close();
    removeDir(world.dir);
  }
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
