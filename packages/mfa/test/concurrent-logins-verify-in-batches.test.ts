/**
 * Proves batched pass-2 verification (docs/adr/0011, threat model T10): pass 2s that reach
 * verification in one turn of the event loop are checked as one batch; a wrong PIN in a batch
 * fails only its own login; a login refused whatever its proof (locked) is checked against a
 * challenge it cannot answer, so with the right PIN its batch fails like a wrong PIN's; concurrent
 * wrong guesses in one batch still stop at the wrong-PIN limit; concurrent logins over HTTP all
 * succeed and every proof is counted once.
 */
import { base64urlToBytes } from '@milagro/crypto';
import { clientPass2 } from '@milagro/mpin';
import { MfaError, MfaService } from '../src/index.js';
import { get, login, pass1, registerDevice, removeDir, startMfa, type Device, type MfaWorld } from './support/mfa-world.js';

/** Count and sum of `mfa_login_verification_batch_size` per outcome, from /metrics. */
async function batches(world: MfaWorld): Promise<Record<'held' | 'failed', { count: number; proofs: number }>> {
  const text = (await get(`${world.url}/metrics`)).body.text as string;
  const pick = (suffix: string, outcome: string) => Number(new RegExp(`^mfa_login_verification_batch_size_${suffix}\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    held: { count: pick('count', 'held'), proofs: pick('sum', 'held') },
    failed: { count: pick('count', 'failed'), proofs: pick('sum', 'failed') },
  };
}

/** Pass 1 over HTTP and the client's pass 2: a pass 2 ready to hand to the service. */
async function preparedPass2(world: MfaWorld, device: Device, pin: string): Promise<{ session: string; v: Uint8Array; clientAddress: string }> {
  const first = await pass1(world, device, pin);
  if (first.response.status !== 200) throw new Error(`pass 1: ${first.response.status}`);
  const { v } = clientPass2(first.state, { y: base64urlToBytes(first.response.body.y as string) });
  return { session: first.response.body.session as string, v, clientAddress: '127.0.0.1' };
}

/** All pass 2s started in the same tick (so they reach verification in one turn); outcome per login. */
async function passTwoTogether(world: MfaWorld, inputs: ReadonlyArray<{ session: string; v: Uint8Array; clientAddress: string }>): Promise<Array<'ok' | string>> {
  const settled = await Promise.allSettled(inputs.map((input) => world.service.loginPass2(input)));
  return settled.map((s) => (s.status === 'fulfilled' ? 'ok' : s.reason instanceof MfaError ? s.reason.code : String(s.reason)));
}

describe('concurrent logins verify in batches', () => {
  let world: MfaWorld;
  afterEach(async () => {
    await world.close();
    removeDir(world.dir);
  });

  test('one batch for the pass 2s of one turn; a wrong PIN fails only its own login and counts only for its identity', async () => {
    world = await startMfa({ limits: { maxFailures: 3 } });
    const devices = await Promise.all(['ann', 'ben', 'cat', 'dan', 'eve', 'fay'].map((name) => registerDevice(world, `${name}@example.org`, '2468')));
    const before = await batches(world);
    const inputs = await Promise.all(devices.map((device, i) => preparedPass2(world, device, i === 2 ? '1357' : '2468')));

    const outcomes = await passTwoTogether(world, inputs);
    expect(outcomes).toEqual(['ok', 'ok', 'AUTHENTICATION_FAILED', 'ok', 'ok', 'ok']);
    const after = await batches(world);
    expect(after.failed.count - before.failed.count).toBe(1);
    expect(after.failed.proofs - before.failed.proofs).toBe(6);
    expect(after.held.count - before.held.count).toBe(0);
    expect(await Promise.all(devices.map((d) => world.service.failures(d.identity)))).toEqual([0, 0, 1, 0, 0, 0]);

    // All right: the batch holds.
    const again = await Promise.all(devices.map((device) => preparedPass2(world, device, '2468')));
    expect(await passTwoTogether(world, again)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    const held = await batches(world);
    expect(held.held.count - after.held.count).toBe(1);
    expect(held.held.proofs - after.held.proofs).toBe(6);
  });

  test('the right PIN of a locked identity fails its batch like a wrong PIN (timing cannot confirm a guess)', async () => {
    world = await startMfa({ limits: { maxFailures: 3 } });
    const alice = await registerDevice(world, 'alice@example.org', '2468');
    const bob = await registerDevice(world, 'bob@example.org', '1111');
    for (let i = 0; i < 3; i += 1) expect((await login(world, alice, '0000')).pass2?.status).toBe(401);
    expect(await world.service.failures(alice.identity)).toBe(3);

    const before = await batches(world);
    const outcomes = await passTwoTogether(world, [await preparedPass2(world, alice, '2468'), await preparedPass2(world, bob, '1111')]);
    expect(outcomes).toEqual(['AUTHENTICATION_FAILED', 'ok']);
    const after = await batches(world);
    // Alice's proof is right, but her session is refused: checked against a fresh challenge, it fails the batch.
    expect(after.failed.count - before.failed.count).toBe(1);
    expect(after.held.count - before.held.count).toBe(0);
    expect(await world.service.failures(alice.identity)).toBe(3);
  });

  test('concurrent wrong guesses verified in one batch never exceed the limit', async () => {
    world = await startMfa({ limits: { maxFailures: 3 } });
    const carol = await registerDevice(world, 'carol@example.org', '1111');
    const guesses = await Promise.all(['0001', '0002', '0003', '0004', '0005', '0006', '0007', '0008'].map((pin) => preparedPass2(world, carol, pin)));
    const before = await batches(world);
    expect(await passTwoTogether(world, guesses)).toEqual(new Array(8).fill('AUTHENTICATION_FAILED'));
    const after = await batches(world);
    expect(after.failed.proofs - before.failed.proofs).toBe(8);
    expect(await world.service.failures(carol.identity)).toBe(3);
    expect((await login(world, carol, '1111')).pass2?.status).toBe(401);
  });

  test('concurrent logins over HTTP all succeed, each proof verified once', async () => {
    world = await startMfa();
    const devices = await Promise.all(Array.from({ length: 12 }, (_, i) => registerDevice(world, `user${i}@example.org`, '2468')));
    const before = await batches(world);
    const results = await Promise.all(devices.map((device) => login(world, device, '2468')));
    expect(results.map((r) => r.pass2?.status)).toEqual(new Array(12).fill(200));
    const after = await batches(world);
    expect(after.held.proofs - before.held.proofs).toBe(12);
    expect(after.failed.count - before.failed.count).toBe(0);
    expect(after.held.count - before.held.count).toBeLessThanOrEqual(12);
  });

  test('maxVerificationBatch must be a positive integer', async () => {
    world = await startMfa();
    const options = { db: world.db, realm: { id: 'acme', threshold: 2 }, serverSecret: { load: async () => ({ serverSecret: new Uint8Array() }) } };
    for (const maxVerificationBatch of [0, 1.5, -1]) {
      await expect(MfaService.open({ ...options, maxVerificationBatch } as unknown as Parameters<typeof MfaService.open>[0])).rejects.toThrow(RangeError);
    }
  });
});
