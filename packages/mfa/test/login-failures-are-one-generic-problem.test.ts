/**
 * Proves that a login fails with one and the same problem (`AUTHENTICATION_FAILED`, 401, same
 * title and detail) whatever went wrong, so a client learns nothing about why: a replayed pass 2
 * (same replica, another replica, concurrently), an expired session, another identity's V on this
 * session, malformed points (wrong length, not on the curve, outside the subgroup, infinity) in U
 * or V, an unknown session, an unknown identity, a replaced identity.
 */
import { clientPass2 } from '@milagro/mpin';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { base64urlToBytes, bytesToBase64url, nobleBackend } from '@milagro/crypto';
import { login, pass1, post, registerDevice, removeDir, startMfa, withoutRequestId, type Device, type MfaWorld } from './support/mfa-world.js';

const GENERIC = { type: 'https://milagro.apache.org/problems/authentication-failed', title: 'Unauthorized', status: 401, code: 'AUTHENTICATION_FAILED', detail: 'Authentication failed' };

/** A G1 point of the curve outside the prime-order subgroup, compressed by hand (noble refuses to encode it). */
function pointOutsideSubgroup(): Uint8Array {
  const { Fp } = bls12_381.fields;
  for (let x = 1n; ; x += 1n) {
    let y: bigint;
    try {
      y = Fp.sqrt(Fp.add(Fp.pow(x, 3n), 4n));
    } catch {
      continue;
    }
    if (bls12_381.G1.Point.fromAffine({ x, y }).isTorsionFree()) continue;
    const bytes = numberToBytesBE(x, 48);
    bytes[0] = (bytes[0] as number) | 0x80 | (y > (Fp.ORDER - 1n) / 2n ? 0x20 : 0);
    return bytes;
  }
}

function notOnCurve(): Uint8Array {
  const bytes = nobleBackend.g1.encode(nobleBackend.g1.base);
  bytes[47] = (bytes[47] as number) ^ 1;
  return bytes;
}

const INFINITY = Uint8Array.from([0xc0, ...new Array<number>(47).fill(0)]);

describe('every login failure is the same problem', () => {
  let world: MfaWorld;
  let now = Date.now(); // set again once the realm is up: registration under load can take longer than a session lives
  let alice: Device;
  let bob: Device;
  beforeAll(async () => {
    world = await startMfa({ clock: () => now, limits: { maxFailures: 10 } });
    alice = await registerDevice(world, 'alice@example.org', '2468');
    bob = await registerDevice(world, 'bob@example.org', '1357');
  });
  beforeEach(() => {
    now = Math.max(now, Date.now());
  });
  afterAll(async () => {
    await world.close();
    removeDir(world.dir);
  });

  const expectGeneric = (response: { status: number; body: Record<string, unknown> } | undefined) => {
    expect(response?.status).toBe(401);
    expect(withoutRequestId(response?.body ?? {})).toEqual(GENERIC);
  };

  test('a replayed pass 2 fails, on this replica and on another one sharing the database', async () => {
    const ok = await login(world, alice, '2468');
    expect(ok.pass2?.status).toBe(200);
    const replay = { session: ok.session, v: bytesToBase64url(ok.v as Uint8Array) };
    expectGeneric(await post(`${world.url}/v1/login/pass2`, replay));
    const replica = await startMfa({ realm: world.realm, db: world.db, dir: world.dir, tokenSigner: world.tokenSigner, clock: () => now });
    try {
      expectGeneric(await post(`${replica.url}/v1/login/pass2`, replay));
      // And a session from one replica is answered by another.
      const first = await pass1(world, alice, '2468');
      const { v } = clientPass2(first.state, { y: base64urlToBytes(first.response.body.y as string) });
      expect((await post(`${replica.url}/v1/login/pass2`, { session: first.response.body.session, v: bytesToBase64url(v) })).status).toBe(200);
    } finally {
      await replica.close();
    }
  });

  test('two concurrent pass 2 with one session: exactly one succeeds', async () => {
    const first = await pass1(world, alice, '2468');
    const { v } = clientPass2(first.state, { y: base64urlToBytes(first.response.body.y as string) });
    const body = { session: first.response.body.session, v: bytesToBase64url(v) };
    const answers = await Promise.all([1, 2, 3].map(() => post(`${world.url}/v1/login/pass2`, body)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401]);
  });

  test('an expired session fails', async () => {
    const first = await pass1(world, alice, '2468');
    const { v } = clientPass2(first.state, { y: base64urlToBytes(first.response.body.y as string) });
    now += 601_000; // past the session TTL of the test world (600 s)
    expectGeneric(await post(`${world.url}/v1/login/pass2`, { session: first.response.body.session, v: bytesToBase64url(v) }));
  });

  test("another identity's V on this session fails, and counts as a wrong attempt", async () => {
    const before = await world.service.failures(alice.identity);
    const aliceFirst = await pass1(world, alice, '2468');
    const bobFirst = await pass1(world, bob, '1357');
    // Bob answers Alice's challenge with his own secret (and his own x): a valid-looking V for the wrong identity.
    const { v } = clientPass2(bobFirst.state, { y: base64urlToBytes(aliceFirst.response.body.y as string) });
    expectGeneric(await post(`${world.url}/v1/login/pass2`, { session: aliceFirst.response.body.session, v: bytesToBase64url(v) }));
    expect(await world.service.failures(alice.identity)).toBe((before ?? 0) + 1);
    expect((await login(world, alice, '2468')).pass2?.status).toBe(200);
  });

  test.each([
    ['wrong length', () => new Uint8Array(47)],
    ['not on the curve', notOnCurve],
    ['outside the subgroup', pointOutsideSubgroup],
    ['infinity', () => INFINITY],
  ])('a malformed V (%s) fails alike', async (_name, point) => {
    const first = await pass1(world, alice, '2468');
    expectGeneric(await post(`${world.url}/v1/login/pass2`, { session: first.response.body.session, v: bytesToBase64url(point()) }));
  });

  test.each([
    ['wrong length', () => new Uint8Array(49)],
    ['not on the curve', notOnCurve],
    ['outside the subgroup', pointOutsideSubgroup],
    ['infinity', () => INFINITY],
  ])('a malformed U (%s) fails alike at pass 1', async (_name, point) => {
    expectGeneric(await post(`${world.url}/v1/login/pass1`, { identity: bytesToBase64url(alice.identity), u: bytesToBase64url(point()) }));
  });

  test('an unknown session, an unknown identity and a replaced identity fail alike', async () => {
    expectGeneric(await post(`${world.url}/v1/login/pass2`, { session: 'A'.repeat(43), v: bytesToBase64url(nobleBackend.g1.encode(nobleBackend.g1.base)) }));
    expectGeneric(await post(`${world.url}/v1/login/pass2`, { session: 'short', v: bytesToBase64url(nobleBackend.g1.encode(nobleBackend.g1.base)) }));
    // An identity nobody registered: pass 1 answers a challenge as for anyone, pass 2 fails.
    const stranger = { identity: new TextEncoder().encode('{"realm":"acme","registration":"x","user":"mallory"}'), token: alice.token };
    const unknown = await login(world, stranger, '2468');
    expect(unknown.pass1.status).toBe(200);
    expectGeneric(unknown.pass2);
    const carol = await registerDevice(world, 'carol@example.org', '1111');
    await registerDevice(world, 'carol@example.org', '2222');
    expectGeneric((await login(world, carol, '1111')).pass2);
  });

  test('shape errors are request problems, never an identity statement', async () => {
    const response = await post(`${world.url}/v1/login/pass1`, { identity: 'not base64url!', u: 'AA' });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('INVALID_REQUEST');
    expect(JSON.stringify(response.body)).not.toContain('not base64url!');
  });
});
