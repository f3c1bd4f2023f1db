/**
 * Proves the client SDK against a real MFA service over HTTP (real sqlite file, real JWTs) and three
 * D-TAs that issue real client-secret shares over HTTP, sealed to the client's X-Wing key in the D-TA
 * wire format (@milagro/mpin's issuer maths and sealed-share format, which is what @milagro/dta runs;
 * mfa may not import dta, not even in tests). Covers the whole flow, a wrong PIN, a D-TA that is down,
 * tampered and refused shares, resuming with fresh grants, re-registration, and what the store keeps.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64urlToBytes, bytesToBase64url, concatBytes, constantTimeEqual, sha256 } from '@milagro/crypto';
import { createHttpServer, type ListeningHttpServer } from '@milagro/http';
import { MemoryKeyStore } from '@milagro/keystore';
import { combineClientSecret, extractToken, issueClientShare, sealShare, type MpinSuite } from '@milagro/mpin';
import { openSqliteDatabase, type SqlDatabase } from '@milagro/storage';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { MemoryCredentialStore, MfaClient, MfaClientError, type MfaClientErrorCode, type StoredCredential } from '../src/client/index.js';
import { FileCredentialStore } from '../src/client-node/index.js';
import { DevelopmentOutbox, MfaService, createMfaApi, emailActivation, keyStoreTokenSigner, staticServerSecret, type GrantIssuer } from '../src/index.js';
import { createRealm, removeDir, testSuite, type Realm } from './support/mfa-world.js';

type DtaBehaviour = 'issue' | 'refuse' | 'tamper';

/** A D-TA's client-share route: checks the grant, issues s_i·H(ID), seals it to `sealTo`. */
class TestDta {
  behaviour: DtaBehaviour = 'issue';
  requests = 0;
  #server: Server | undefined;
  url = '';

  constructor(
    readonly position: number,
    readonly id: string,
    readonly master: { index: bigint; share: Uint8Array },
    readonly suite: MpinSuite,
  ) {}

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((done) => this.#server!.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Stops listening: requests to its URL are refused, as for a D-TA that is down. */
  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((done) => this.#server?.close(done));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests += 1;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { grant: string; identity: string; sealTo: string };
    const identity = base64urlToBytes(body.identity);
    const identityHash = sha256(identity);
    const grantOk = req.url === '/v1/realms/acme/client-shares' && constantTimeEqual(base64urlToBytes(body.grant), grantToken(identity, this.position));
    if (!grantOk || this.behaviour === 'refuse') {
      res.writeHead(403, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status: 403, code: 'GRANT_INVALID' }));
      return;
    }
    const share = issueClientShare(this.suite, this.master.share, identity);
    const sealed = await sealShare(base64urlToBytes(body.sealTo), share, { realmId: 'acme', dta: this.id, identityHash, epoch: 0, index: this.master.index });
    const ciphertext = sealed.ciphertext.slice();
    if (this.behaviour === 'tamper') ciphertext[5]! ^= 0x40;
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ realmId: 'acme', epoch: 0, index: Number(this.master.index), sealed: { enc: bytesToBase64url(sealed.enc), ciphertext: bytesToBase64url(ciphertext) } }),
    );
  }
}

/** The test grant: SHA-256(identity) ‖ D-TA position (the real one is signed DAG-CBOR; @milagro/dta tests it). */
function grantToken(identity: Uint8Array, position: number): Uint8Array {
  return concatBytes(sha256(identity), Uint8Array.of(position));
}

async function expectClientError(promise: Promise<unknown>, code: MfaClientErrorCode): Promise<MfaClientError> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(MfaClientError);
  expect((error as MfaClientError).code).toBe(code);
  return error as MfaClientError;
}

describe('the MFA client registers, activates and logs in', () => {
  let suite: MpinSuite;
  let realm: Realm;
  let dtas: TestDta[];
  let dir: string;
  let db: SqlDatabase;
  let service: MfaService;
  let http: ListeningHttpServer;
  const outbox = new DevelopmentOutbox();

  beforeAll(async () => {
    suite = await testSuite();
    realm = await createRealm();
    dtas = realm.masterShares.map((master, i) => new TestDta(i + 1, `bafy-test-dta-${i + 1}`, master, suite));
    for (const dta of dtas) await dta.start();
    const grants: GrantIssuer = {
      lifetimeSeconds: 300,
      issue: async (identity) => dtas.map((dta) => ({ dta: dta.id, url: dta.url, token: grantToken(identity, dta.position) })),
    };
    dir = mkdtempSync(join(tmpdir(), 'mfa-client-test-'));
    db = await openSqliteDatabase({ path: join(dir, 'mfa.db') });
    const logger = pino({ level: 'silent' });
    const registry = new Registry();
    service = await MfaService.open({
      db,
      realm: { id: 'acme', threshold: 2 },
      suite,
      serverSecret: staticServerSecret({ serverSecret: realm.serverSecret, groupPublicKey: realm.groupPublicKey }),
      grants,
      activation: emailActivation({ transport: outbox, from: 'login@acme.example', link: (code) => `http://demo.invalid/activate#code=${code}` }),
      tokenSigner: await keyStoreTokenSigner(new MemoryKeyStore()),
      issuer: 'https://login.acme.example',
      limits: { sessionTtlSeconds: 600 },
      registry,
      logger,
    });
    await service.start();
    http = await createHttpServer({ apis: [createMfaApi(service)], ready: { 'server-secret': () => service.isReady() }, logger, metrics: { registry } }).listen({ port: 0 });
    http.server.keepAliveTimeout = 30_000;
  });

  afterAll(async () => {
    await http?.close();
    await service?.close();
    await db?.close();
    for (const dta of dtas ?? []) await dta.stop();
    if (dir) removeDir(dir);
  });

  beforeEach(() => {
    for (const dta of dtas) {
      dta.behaviour = 'issue';
      dta.requests = 0;
    }
  });

  const clientFor = (store = new MemoryCredentialStore()) => new MfaClient({ baseUrl: http.url, store, backend: suite.backend });

  function codeFor(userId: string): string {
    const text = outbox.messages(userId).at(-1)?.text ?? '';
    return /#code=([A-Za-z0-9_-]+)/.exec(text)![1]!;
  }

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
    expect(dtas.reduce((sum, dta) => sum + dta.requests, 0)).toBe(2);
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
    const down = dtas[0]!;
    await down.stop();
    try {
      const client = clientFor();
      await enrol(client, 'dave@example.org', '9999');
      expect(dtas[1]!.requests + dtas[2]!.requests).toBe(2);
      expect((await client.login('9999')).userId).toBe('dave@example.org');
    } finally {
      await down.start(); // on a new port: the grant issuer reads the URL on every issue
    }
  });

  test('a tampered sealed share is refused: the client takes another D-TA, and with too few left it fails and can resume', async () => {
    dtas[0]!.behaviour = 'tamper';
    const client = clientFor();
    await enrol(client, 'erin@example.org', '5555');
    expect(dtas[2]!.requests).toBe(1); // D-TA 3 replaced the tampered share
    expect((await client.login('5555')).userId).toBe('erin@example.org');

    // One tampers, one refuses: one good share, fresh grants do not help → NOT_ENOUGH_SHARES naming the D-TAs.
    dtas[2]!.behaviour = 'refuse';
    const other = clientFor();
    await other.register({ userId: 'frank@example.org', deviceName: 'laptop' });
    const error = await expectClientError(other.activate({ code: codeFor('frank@example.org') }), 'NOT_ENOUGH_SHARES');
    expect(error.message).toMatch(/bafy-test-dta-1: the sealed share does not open/);
    expect(error.message).toMatch(/bafy-test-dta-3: HTTP 403 GRANT_INVALID/);
    // The D-TAs recover; activate() again resumes with fresh grants (the code was single-use).
    dtas[0]!.behaviour = 'issue';
    dtas[2]!.behaviour = 'issue';
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
      const clientSecret = combineClientSecret(suite, realm.masterShares.slice(0, 2).map((m) => ({ index: m.index, share: issueClientShare(suite, m.share, identity) })));
      expect(stored.device!.token).toBe(bytesToBase64url(extractToken(suite, { identity, clientSecret, factors: [{ pin: '8642' }] })));
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
