/**
 * Proves the rate limits on both login passes: past the per-address limit a client gets 429
 * `RATE_LIMITED` with `Retry-After` (it describes the caller, not an identity); past the
 * per-identity limit pass 1 still answers a challenge and pass 2 fails with the one generic
 * problem, even with the right PIN.
 */
import { login, registerDevice, removeDir, startMfa } from './support/mfa-world.js';

test('per-address limit answers 429; per-identity limit fails logins generically', async () => {
  const now = Date.now(); // frozen: a 60 s window must not roll over while a loaded machine runs the test
  const world = await startMfa({ clock: () => now, limits: { perIp: { limit: 6, windowSeconds: 60 }, perIdentity: { limit: 2, windowSeconds: 60 } } });
  try {
    const alice = await registerDevice(world, 'alice@example.org', '2468');
    expect((await login(world, alice, '2468')).pass2?.status).toBe(200); // identity: 1 of 2 on each pass
    expect((await login(world, alice, '2468')).pass2?.status).toBe(200); // 2 of 2
    const third = await login(world, alice, '2468'); // over the identity limit: challenge, then the generic failure
    expect(third.pass1.status).toBe(200);
    expect([third.pass2?.status, third.pass2?.body.code]).toEqual([401, 'AUTHENTICATION_FAILED']);
    // 3 of 6 pass-1 requests from this address so far; three more use up the window.
    for (let i = 0; i < 3; i += 1) expect((await login(world, alice, '2468')).pass1.status).toBe(200);
    const fourth = await login(world, alice, '2468'); // the 7th pass 1 from this address: refused
    expect([fourth.pass1.status, fourth.pass1.body.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(fourth.pass1.headers.get('retry-after'))).toBeGreaterThan(0);
  } finally {
    await world.close();
    removeDir(world.dir);
  }
});
