/**
 * Proves the whole path over a real HTTP server and a real sqlite file: a device registers, is
 * activated through the e-mail outbox or by an operator, receives grants for the realm's three
 * D-TAs, combines client-secret shares from any two (t = 2 of 3), sets a PIN and logs in; the access
 * token verifies against the JWKS, `/v1/session` accepts it until logout; activation codes are
 * single-use; re-registration cuts off the old device; metrics count outcomes.
 */
import { verifyJwt, type Ed25519Jwk } from '../src/index.js';
import { ADMIN_TOKEN, codeFromOutbox, get, login, post, registerDevice, removeDir, startMfa, type MfaWorld } from './support/mfa-world.js';

describe('registration, activation and login over HTTP', () => {
  let world: MfaWorld;
  beforeAll(async () => {
    world = await startMfa();
  });
  afterAll(async () => {
    await world.close();
    removeDir(world.dir);
  });

  test('e-mail activation, shares from D-TAs 1 and 3, login; the token verifies against the JWKS', async () => {
    const alice = await registerDevice(world, 'alice@example.org', '2468', [1, 3]);
    const { pass2 } = await login(world, alice, '2468');
    expect(pass2?.status).toBe(200);
    expect(pass2?.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 300, userId: 'alice@example.org' });

    const jwks = await get(`${world.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    const keys = jwks.body.keys as Ed25519Jwk[];
    expect(keys).toEqual([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })]);
    const claims = verifyJwt(pass2?.body.accessToken as string, keys, { issuer: 'https://login.acme.example', nowSeconds: Math.floor(Date.now() / 1000) });
    expect(claims).toMatchObject({ sub: 'alice@example.org', amr: ['mfa', 'pin'] });
    expect(verifyJwt(pass2?.body.accessToken as string, keys, { issuer: 'https://evil.example', nowSeconds: Math.floor(Date.now() / 1000) })).toBeUndefined();
  });

  test('the activation answer names the realm and one grant per D-TA', async () => {
    const requested = await post(`${world.url}/v1/registrations`, { userId: 'carol@example.org', deviceName: 'phone' });
    expect(requested.status).toBe(202);
    expect(requested.body).toMatchObject({ activation: 'code' });
    const code = codeFromOutbox(world, 'carol@example.org');
    const activated = await post(`${world.url}/v1/activations`, { registration: requested.body.registration, code });
    expect(activated.status).toBe(200);
    expect(activated.body).toMatchObject({ userId: 'carol@example.org', realm: { id: 'acme', threshold: 2, suite: 'modern', pinDigits: 4 } });
    expect(activated.body.grants).toHaveLength(3);
    // Single-use: the same code and secret do not activate twice.
    const again = await post(`${world.url}/v1/activations`, { registration: requested.body.registration, code });
    expect(again.status).toBe(403);
    expect(again.body.code).toBe('ACTIVATION_FAILED');
    // Fresh grants for the activated device within the window.
    const grants = await post(`${world.url}/v1/grants`, { registration: requested.body.registration });
    expect(grants.status).toBe(200);
    expect(grants.body.identity).toBe(activated.body.identity);
  });

  test('a wrong code fails, is counted, and after five the registration is dead even for the right code', async () => {
    const requested = await post(`${world.url}/v1/registrations`, { userId: 'dave@example.org', deviceName: 'laptop' });
    const code = codeFromOutbox(world, 'dave@example.org');
    for (let i = 0; i < 5; i += 1) {
      const wrong = await post(`${world.url}/v1/activations`, { registration: requested.body.registration, code: `${code.startsWith('A') ? 'B' : 'A'}${code.slice(1)}` });
      expect([wrong.status, wrong.body.code]).toEqual([403, 'ACTIVATION_FAILED']);
    }
    const right = await post(`${world.url}/v1/activations`, { registration: requested.body.registration, code });
    expect(right.status).toBe(403);
    // The code without the device's registration secret activates nothing.
    const stranger = await post(`${world.url}/v1/activations`, { registration: 'A'.repeat(43), code });
    expect(stranger.status).toBe(403);
  });

  test('re-registration replaces a lost device: the old token no longer logs in, the new one does', async () => {
    const first = await registerDevice(world, 'erin@example.org', '1111');
    expect((await login(world, first, '1111')).pass2?.status).toBe(200);
    const second = await registerDevice(world, 'erin@example.org', '2222', [2, 3]);
    expect(second.identity).not.toEqual(first.identity);
    expect((await login(world, first, '1111')).pass2?.status).toBe(401);
    expect((await login(world, second, '2222')).pass2?.status).toBe(200);
  });

  test('/v1/session accepts the token until logout, on this and every replica sharing the database', async () => {
    const frank = await registerDevice(world, 'frank@example.org', '9876');
    const token = (await login(world, frank, '9876')).pass2?.body.accessToken as string;
    const auth = { authorization: `Bearer ${token}` };
    expect((await get(`${world.url}/v1/session`, auth)).body).toMatchObject({ userId: 'frank@example.org' });
    expect((await post(`${world.url}/v1/logout`, {}, auth)).status).toBe(204);
    const after = await get(`${world.url}/v1/session`, auth);
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('NOT_AUTHENTICATED');
    const replica = await startMfa({ realm: world.realm, db: world.db, dir: world.dir, tokenSigner: world.tokenSigner });
    try {
      expect((await get(`${replica.url}/v1/session`, auth)).status).toBe(401);
    } finally {
      await replica.close();
    }
  });

  test('metrics count login outcomes with coarse labels; the document lists the routes', async () => {
    const metrics = await get(`${world.url}/metrics`);
    const text = metrics.body.text as string;
    expect(text).toMatch(/mfa_login_total\{pass="2",outcome="success"\} [1-9]/);
    expect(text).toMatch(/mfa_login_total\{pass="2",outcome="failure"\} [1-9]/);
    expect(text).toMatch(/mfa_login_verification_seconds_count [1-9]/);
    expect(text).toMatch(/mfa_registrations_total\{event="activated"\} [1-9]/);
    expect(text).not.toMatch(/locked|unknown|expired/);
    const openapi = await get(`${world.url}/openapi.json`);
    expect(Object.keys(openapi.body.paths as object)).toEqual(
      expect.arrayContaining(['/v1/registrations', '/v1/activations', '/v1/grants', '/v1/login/pass1', '/v1/login/pass2', '/v1/logout', '/v1/session', '/.well-known/jwks.json']),
    );
  });
});

describe('activation by operator approval', () => {
  test('a device activates without a code only after an operator approves it', async () => {
    const world = await startMfa({ activation: 'admin' });
    try {
      const requested = await post(`${world.url}/v1/registrations`, { userId: 'gina@example.org', deviceName: 'tablet' });
      expect(requested.body.activation).toBe('approval');
      expect((await post(`${world.url}/v1/activations`, { registration: requested.body.registration })).status).toBe(403);
      const listed = await get(`${world.url}/v1/admin/registrations`, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(listed.body.registrations).toEqual([expect.objectContaining({ reference: requested.body.reference, userId: 'gina@example.org', approved: false })]);
      expect((await get(`${world.url}/v1/admin/registrations`, { authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
      expect((await post(`${world.url}/v1/admin/registrations/nope/approval`, {}, { authorization: `Bearer ${ADMIN_TOKEN}` })).status).toBe(404);
      const device = await registerDevice(world, 'hank@example.org', '4321', [2, 1]);
      expect((await login(world, device, '4321')).pass2?.status).toBe(200);
    } finally {
      await world.close();
      removeDir(world.dir);
    }
  });
});
