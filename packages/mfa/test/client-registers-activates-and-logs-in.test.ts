/**
 * Proves the client SDK against a real MFA service over HTTP and three D-TAs issuing real sealed
 * client-secret shares over HTTP (support/client-world.ts). Covers the whole flow, a wrong PIN, a
 * D-TA that is down, tampered and refused shares, resuming with fresh grants, re-registration, and
 * what the store keeps.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64urlToBytes, bytesToBase64url } from '@milagro/crypto';
import { combineClientSecret, extractToken, issueClientShare } from '@milagro/mpin';
import { MemoryCredentialStore, MfaClient, type CredentialStore, MfaClientError, type MfaClientErrorCode, type StoredCredential } from '../src/client/index.js';
import { FileCredentialStore } from '../src/client-node/index.js';
import { startClientWorld, type ClientWorld } from './support/client-world.js';
import { removeDir } from './support/mfa-world.js';

async function expectClientError(promise: Promise<unknown>, code: MfaClientErrorCode): Promise<MfaClientError> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(MfaClientError);
  expect((error as MfaClientError).code).toBe(code);
  return error as MfaClientError;
}

describe('the MFA client registers, activates and logs in', () => {
  let world: ClientWorld;
  beforeAll(async () => {
    world = await startClientWorld();
  });
  afterAll(async () => {
    await world?.close();
  });
  beforeEach(() => {
    for (const dta of world.dtas) {
      dta.behaviour = 'issue';
      dta.requests = 0;
    }
  });

  const clientFor = (store: CredentialStore = new MemoryCredentialStore()) => new MfaClient({ baseUrl: world.url, store, backend: world.suite.backend });

  const codeFor = (userId: string): string => world.codeFor(userId);

  async function enrol(client: MfaClient, userId: string, pin: string): Promise<void> {
    await client.register({ userId, deviceName: 'test device' });
    await client.activate({ code: codeFor(userId) });
    await client.setPin(pin);
  }

  test('register, activate with the e-mailed code, set a PIN, log in, check the session and log out', async () => {
    const client = clientFor();
    expect(await client.status()).toEqual({ state: 'unregistered' });
    const started = await client.register({ userId: 'alice@example.org', deviceName: "Alice's laptop" });
    expect(started).toMatchObject({ activation: 'code', reference: expect.any(String) });
    expect(await client.status()).toMatchObject({ state: 'pending', userId: 'alice@example.org' });

    const activated = await client.activate({ code: codeFor('alice@example.org') });
    expect(activated).toEqual({ userId: 'alice@example.org', realm: { id: 'acme', threshold: 2, suite: 'modern', pinDigits: 4 }, shares: 2 });
    // Exactly `threshold` D-TAs were asked: healthy D-TAs issue no more shares than needed.
    expect(world.dtas.reduce((sum, dta) => sum + dta.requests, 0)).toBe(2);
    expect(await client.status()).toMatchObject({ state: 'awaiting-pin', pinDigits: 4 });

    await client.setPin('2468');
    expect(await client.status()).toEqual({ state: 'active', userId: 'alice@example.org', deviceName: "Alice's laptop", pinDigits: 4 });

    const login = await client.login('2468');
    expect(login).toMatchObject({ userId: 'alice@example.org', expiresIn: 300, accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) });
    expect(await client.session(login.accessToken)).toMatchObject({ userId: 'alice@example.org' });
    await client.logout(login.accessToken);
    await expectClientError(client.session(login.accessToken), 'NOT_AUTHENTICATED');
    await expectClientError(client.logout(login.accessToken), 'NOT_AUTHENTICATED');
  });

  test('a wrong PIN is refused with AUTHENTICATION_FAILED; a malformed PIN never leaves the device', async () => {
    const client = clientFor();
    await enrol(client, 'bob@example.org', '1357');
    const error = await expectClientError(client.login('1358'), 'AUTHENTICATION_FAILED');
    expect(error.status).toBe(401);
    expect(error.message).not.toMatch(/1358|1357/);
    await expectClientError(client.login('12'), 'INVALID_PIN');
    await expectClientError(client.login('12a4'), 'INVALID_PIN');
    expect((await client.login('1357')).userId).toBe('bob@example.org');
    // Before registration there is nothing to log in with.
    await expectClientError(clientFor().login('1357'), 'NOT_REGISTERED');
    await expectClientError(clientFor().activate({ code: 'x' }), 'NOT_REGISTERED');
  });

  test('a wrong activation code is ACTIVATION_FAILED, and the right one still works afterwards', async () => {
    const client = clientFor();
    await client.register({ userId: 'carol@example.org', deviceName: 'phone' });
    const code = codeFor('carol@example.org');
    await expectClientError(client.activate({ code: `${code.startsWith('A') ? 'B' : 'A'}${code.slice(1)}` }), 'ACTIVATION_FAILED');
    await client.activate({ code });
    await client.setPin('0042');
    expect((await client.login('0042')).userId).toBe('carol@example.org');
  });

  test('with one of three D-TAs down, the client activates from the other two (t = 2)', async () => {
    const down = world.dtas[0]!;
    await down.stop();
    try {
      const client = clientFor();
      await enrol(client, 'dave@example.org', '9999');
      expect(world.dtas[1]!.requests + world.dtas[2]!.requests).toBe(2);
      expect((await client.login('9999')).userId).toBe('dave@example.org');
    } finally {
      await down.start(); // on a new port: the grant issuer reads the URL on every issue
    }
  });

  test('a tampered sealed share is refused: the client takes another D-TA, and with too few left it fails and can resume', async () => {
    world.dtas[0]!.behaviour = 'tamper';
    const client = clientFor();
    await enrol(client, 'erin@example.org', '5555');
    expect(world.dtas[2]!.requests).toBe(1); // D-TA 3 replaced the tampered share
    expect((await client.login('5555')).userId).toBe('erin@example.org');

    // One tampers, one refuses: one good share, fresh grants do not help → NOT_ENOUGH_SHARES naming the D-TAs.
    world.dtas[2]!.behaviour = 'refuse';
    const other = clientFor();
    await other.register({ userId: 'frank@example.org', deviceName: 'laptop' });
    const error = await expectClientError(other.activate({ code: codeFor('frank@example.org') }), 'NOT_ENOUGH_SHARES');
    expect(error.message).toMatch(/bafy-test-dta-1: the sealed share does not open/);
    expect(error.message).toMatch(/bafy-test-dta-3: HTTP 403 GRANT_INVALID/);
    // The D-TAs recover; activate() again resumes with fresh grants (the code was single-use).
    world.dtas[0]!.behaviour = 'issue';
    world.dtas[2]!.behaviour = 'issue';
    await other.activate();
    await other.setPin('4444');
    expect((await other.login('4444')).userId).toBe('frank@example.org');
  });

  test('re-registration replaces a lost device: the old credential no longer logs in, the new one does', async () => {
    const lost = clientFor();
    await enrol(lost, 'gina@example.org', '1111');
    const replacement = clientFor();
    await enrol(replacement, 'gina@example.org', '2222');
    await expectClientError(lost.login('1111'), 'AUTHENTICATION_FAILED');
    expect((await replacement.login('2222')).userId).toBe('gina@example.org');
  });

  test('the stored credential (a 0600 file, written atomically) holds the token, never the PIN, the client secret or the registration secret', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'mfa-client-store-'));
    try {
      const path = join(storeDir, 'credential.json');
      const client = clientFor(new FileCredentialStore(path));
      await client.register({ userId: 'hank@example.org', deviceName: 'server' });
      const pending = JSON.parse(readFileSync(path, 'utf8')) as StoredCredential;
      const registrationSecret = pending.registration!.secret;
      await client.activate({ code: codeFor('hank@example.org') });
      await client.setPin('8642');

      const text = readFileSync(path, 'utf8');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readdirSync(storeDir)).toEqual(['credential.json']); // no temporary file left behind
      const stored = JSON.parse(text) as StoredCredential;
      expect(Object.keys(stored).sort()).toEqual(['device', 'v']);
      expect(Object.keys(stored.device!).sort()).toEqual(['activatedAt', 'deviceName', 'identity', 'realm', 'token', 'userId']);

      // The client secret, recomputed here from two D-TAs' master shares, appears nowhere; the token is CS − PIN·H(ID).
      const identity = base64urlToBytes(stored.device!.identity);
      const clientSecret = combineClientSecret(world.suite, world.realm.masterShares.slice(0, 2).map((m) => ({ index: m.index, share: issueClientShare(world.suite, m.share, identity) })));
      expect(stored.device!.token).toBe(bytesToBase64url(extractToken(world.suite, { identity, clientSecret, factors: [{ pin: '8642' }] })));
      expect(text).not.toContain(bytesToBase64url(clientSecret));
      expect(text).not.toContain('8642');
      expect(text).not.toContain(registrationSecret);

      // A new client on the same file logs in.
      expect((await clientFor(new FileCredentialStore(path)).login('8642')).userId).toBe('hank@example.org');
      await new FileCredentialStore(path).clear();
      expect(readdirSync(storeDir)).toEqual([]);
    } finally {
      removeDir(storeDir);
    }
  });
});
