/**
 * Proves the wrong-PIN limit: N wrong PINs lock the identity (then even the right PIN fails, with
 * the same generic problem), the lock is in the database (it survives closing and reopening the
 * database and the service, and a second replica on the same file sees it), concurrent guesses
 * cannot exceed N (each is counted before its pairing check), a success resets the counter, and
 * re-registering the device is the way back in.
 */
import { removeDir, login, registerDevice, startMfa, withoutRequestId, type MfaWorld } from './support/mfa-world.js';

const limits = { maxFailures: 3 };

describe('wrong PINs lock the identity, persistently', () => {
  let world: MfaWorld;
  afterEach(async () => {
    await world.close();
    removeDir(world.dir);
  });

  test('three wrong PINs lock; the right PIN then fails alike; the lock survives a restart and is seen by a replica', async () => {
    world = await startMfa({ limits });
    const alice = await registerDevice(world, 'alice@example.org', '2468');
    const first = await login(world, alice, '1357');
    expect(first.pass2?.status).toBe(401);
    for (let i = 0; i < 2; i += 1) expect((await login(world, alice, '1357')).pass2?.status).toBe(401);
    expect(await world.service.failures(alice.identity)).toBe(3);

    const locked = await login(world, alice, '2468');
    expect(locked.pass2?.status).toBe(401);
    expect(withoutRequestId(locked.pass2?.body ?? {})).toEqual(withoutRequestId(first.pass2?.body ?? {}));

    // Close everything (server, service, database) and start again on the same file.
    const { dir, realm } = world;
    await world.close();
    world = await startMfa({ dir, realm, limits });
    expect(await world.service.failures(alice.identity)).toBe(3);
    expect((await login(world, alice, '2468')).pass2?.status).toBe(401);

    const replica = await startMfa({ dir, realm, limits, db: world.db });
    try {
      expect((await login(replica, alice, '2468')).pass2?.status).toBe(401);
    } finally {
      await replica.close();
    }

    // Re-registration (a new identity, activated by the verifier) is the way back in.
    const again = await registerDevice(world, 'alice@example.org', '2468');
    expect((await login(world, again, '2468')).pass2?.status).toBe(200);
  });

  test('a success resets the counter, and concurrent wrong guesses never exceed the limit', async () => {
    world = await startMfa({ limits });
    const bob = await registerDevice(world, 'bob@example.org', '1111');
    for (let i = 0; i < 2; i += 1) expect((await login(world, bob, '0000')).pass2?.status).toBe(401);
    expect((await login(world, bob, '1111')).pass2?.status).toBe(200);
    expect(await world.service.failures(bob.identity)).toBe(0);

    const guesses = await Promise.all(['0001', '0002', '0003', '0004', '0005', '0006', '0007', '0008'].map((pin) => login(world, bob, pin)));
    expect(guesses.every((guess) => guess.pass2?.status === 401)).toBe(true);
    expect(await world.service.failures(bob.identity)).toBe(3);
    expect((await login(world, bob, '1111')).pass2?.status).toBe(401);
  });
});
