/**
 * A realm and a running MFA service for the tests: a master secret s Shamir-shared 2-of-3 among three
 * "D-TAs" (here: their master shares, used with @milagro/mpin's issuance functions directly), the
 * server secret combined from two of them, a real HTTP server on port 0 over a real node:sqlite file,
 * and a client that registers, fetches shares from any two D-TAs, sets a PIN and logs in over HTTP.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { base64urlToBytes, bytesToBase64url, createMclBackend, randomBytes, splitSecret, randomScalar } from '@milagro/crypto';
import { createHttpServer, type ListeningHttpServer } from '@milagro/http';
import { MemoryKeyStore } from '@milagro/keystore';
import {
  clientPass1,
  clientPass2,
  combineClientSecret,
  combineServerSecret,
  createSuite,
  extractToken,
  issueClientShare,
  issueServerShare,
  type MpinSuite,
} from '@milagro/mpin';
import type { SqlDatabase } from '@milagro/storage';
import { openTestDatabase } from '../../../../tools/jest/test-database.js';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import {
  DevelopmentOutbox,
  MfaService,
  adminApproval,
  createMfaApi,
  emailActivation,
  keyStoreTokenSigner,
  staticServerSecret,
  type AccessTokenSigner,
  type ActivationVerifier,
  type GrantIssuer,
  type MfaLimits,
  type ServerSecretSource,
} from '../../src/index.js';

let suitePromise: Promise<MpinSuite> | undefined;
/** The modern suite on the mcl-wasm backend (about 8× faster than noble on these machines; same bytes). */
export function testSuite(): Promise<MpinSuite> {
  suitePromise ??= createMclBackend().then((backend) => createSuite({ backend }));
  return suitePromise;
}
export const ADMIN_TOKEN = 'operator-token-0123456789';

/** Three D-TAs' Shamir shares of one master secret (t = 2), and what the MFA service gets from them. */
export interface Realm {
  readonly masterShares: ReadonlyArray<{ index: bigint; share: Uint8Array }>;
  /** s·Q combined from D-TAs 2 and 3. */
  readonly serverSecret: Uint8Array;
  /** s·G1, as the D-TAs' realm status publishes it. */
  readonly groupPublicKey: Uint8Array;
}

export async function createRealm(): Promise<Realm> {
  const suite = await testSuite();
  const { g1 } = suite.backend;
  const s = randomScalar();
  const masterShares = splitSecret(s, { threshold: 2, shares: 3 }).map(({ index, value }) => ({ index, share: suite.encodeScalar(value) }));
  const serverSecret = combineServerSecret(suite, masterShares.slice(1).map((m) => ({ index: m.index, share: issueServerShare(suite, m.share) })));
  return { masterShares, serverSecret, groupPublicKey: g1.encode(g1.multiply(g1.base, s)) };
}

/** Grants as the app's issuer would return them (opaque tokens here: the D-TA side is @milagro/dta's, tested there). */
export const fakeGrants: GrantIssuer = {
  lifetimeSeconds: 300,
  issue: async () => [1, 2, 3].map((i) => ({ dta: `bafy-dta-${i}`, url: `http://dta${i}.invalid`, token: randomBytes(48) })),
};

/** Log lines captured from the HTTP kit and the service. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _encoding, done) => (this.lines.push(String(chunk)), done()) }));
  text(): string {
    return this.lines.join('');
  }
}

export interface WorldOptions {
  readonly realm?: Realm;
  readonly dir?: string;
  readonly limits?: MfaLimits;
  readonly activation?: 'email' | 'admin';
  readonly serverSecret?: ServerSecretSource;
  readonly clock?: () => number;
  readonly tokenSigner?: AccessTokenSigner;
  readonly db?: SqlDatabase;
}

/** One running MFA service (a replica) with its HTTP server. */
export interface MfaWorld {
  readonly suite: MpinSuite;
  readonly realm: Realm;
  readonly dir: string;
  readonly db: SqlDatabase;
  readonly service: MfaService;
  readonly http: ListeningHttpServer;
  readonly url: string;
  readonly outbox: DevelopmentOutbox;
  readonly logs: LogCapture;
  readonly tokenSigner: AccessTokenSigner;
  /** Closes the server and the service; the database too when this world opened it. */
  close(): Promise<void>;
}

export async function startMfa(options: WorldOptions = {}): Promise<MfaWorld> {
  const suite = await testSuite();
  const realm = options.realm ?? (await createRealm());
  // tmpfs where there is one: a real sqlite file whose fsyncs cost nothing (the disk is shared with every other suite).
  const dir = options.dir ?? mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'mfa-test-'));
  const ownsDb = options.db === undefined;
  const db = options.db ?? (await openTestDatabase({ path: join(dir, 'mfa.db') }));
  const outbox = new DevelopmentOutbox();
  const logs = new LogCapture();
  const registry = new Registry();
  const tokenSigner = options.tokenSigner ?? (await keyStoreTokenSigner(new MemoryKeyStore()));
  const activation: ActivationVerifier =
    options.activation === 'admin' ? adminApproval() : emailActivation({ transport: outbox, from: 'login@acme.example', link: (code) => `http://demo.invalid/activate#code=${code}` });
  const service = await MfaService.open({
    db,
    realm: { id: 'acme', threshold: 2 },
    suite,
    serverSecret: options.serverSecret ?? staticServerSecret({ serverSecret: realm.serverSecret, groupPublicKey: realm.groupPublicKey }),
    grants: fakeGrants,
    activation,
    tokenSigner,
    issuer: 'https://login.acme.example',
    // Sessions live 30 s by default; on a machine at load 25+ one login can take longer. Expiry is tested with a clock.
    limits: { sessionTtlSeconds: 600, ...options.limits },
    registry,
    logger: logs.logger,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  if (options.serverSecret === undefined) await service.start();
  else void service.start().catch(() => undefined);
  const server = createHttpServer({
    apis: [createMfaApi(service, { adminToken: ADMIN_TOKEN, developmentOutbox: outbox })],
    ready: { 'server-secret': () => service.isReady() },
    logger: logs.logger,
    metrics: { registry },
  });
  const http = await server.listen({ port: 0 });
  return {
    suite,
    realm,
    dir,
    db,
    service,
    http,
    url: http.url,
    outbox,
    logs,
    tokenSigner,
    async close() {
      await http.close();
      await service.close();
      if (ownsDb) await db.close();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: response.headers };
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  const json = response.headers.get('content-type')?.includes('json') === true ? (JSON.parse(text) as Record<string, unknown>) : { text };
  return { status: response.status, body: json, headers: response.headers };
}

/** What a registered device keeps: its identity and token (never the PIN or the client secret). */
export interface Device {
  readonly userId: string;
  readonly identity: Uint8Array;
  readonly token: Uint8Array;
  /** Kept only so the log test can search for it. */
  readonly clientSecret: Uint8Array;
  readonly registration: string;
  readonly code: string | undefined;
}

/** The activation code from the newest e-mail to `userId` in the outbox. */
export function codeFromOutbox(world: MfaWorld, userId: string): string {
  const message = world.outbox.messages(userId).at(-1);
  const match = /#code=([A-Za-z0-9_-]+)/.exec(message?.text ?? '');
  if (match === null) throw new Error(`no activation link for ${userId} in the outbox`);
  return match[1] as string;
}

/**
 * Registers a device over HTTP: request, activation (code from the outbox, or operator approval),
 * shares from D-TAs `dtas` (1-based, any two of three), combination, PIN.
 */
export async function registerDevice(world: MfaWorld, userId: string, pin: string, dtas: readonly [number, number] = [1, 3]): Promise<Device> {
  const requested = await post(`${world.url}/v1/registrations`, { userId, deviceName: 'test device' });
  if (requested.status !== 202) throw new Error(`registration request: ${requested.status} ${JSON.stringify(requested.body)}`);
  const registration = requested.body.registration as string;
  let code: string | undefined;
  if (requested.body.activation === 'approval') {
    const approved = await post(`${world.url}/v1/admin/registrations/${requested.body.reference as string}/approval`, {}, { authorization: `Bearer ${ADMIN_TOKEN}` });
    if (approved.status !== 204) throw new Error(`approval: ${approved.status}`);
  } else {
    code = codeFromOutbox(world, userId);
  }
  const activated = await post(`${world.url}/v1/activations`, code === undefined ? { registration } : { registration, code });
  if (activated.status !== 200) throw new Error(`activation: ${activated.status} ${JSON.stringify(activated.body)}`);
  const identity = base64urlToBytes(activated.body.identity as string);
  // The client presents each grant to its D-TA; here the D-TAs' issuance is @milagro/mpin's, from their master shares.
  const shares = dtas.map((i) => {
    const master = world.realm.masterShares[i - 1]!;
    return { index: master.index, share: issueClientShare(world.suite, master.share, identity) };
  });
  const clientSecret = combineClientSecret(world.suite, shares);
  const token = extractToken(world.suite, { identity, clientSecret, factors: [{ pin }] });
  return { userId, identity, token, clientSecret, registration, code };
}

/** Pass 1 over HTTP; returns the session, y, and the state for pass 2. */
export async function pass1(world: MfaWorld, device: Pick<Device, 'identity' | 'token'>, pin: string) {
  const { message, state } = clientPass1(world.suite, { identity: device.identity, token: device.token, factors: [{ pin }] });
  const response = await post(`${world.url}/v1/login/pass1`, { identity: bytesToBase64url(device.identity), u: bytesToBase64url(message.u) });
  return { response, state, u: message.u };
}

/** A full login over HTTP; returns the pass-2 response and what was sent. */
export async function login(world: MfaWorld, device: Pick<Device, 'identity' | 'token'>, pin: string) {
  const first = await pass1(world, device, pin);
  if (first.response.status !== 200) return { pass1: first.response, pass2: undefined, session: undefined, v: undefined };
  const session = first.response.body.session as string;
  const { v } = clientPass2(first.state, { y: base64urlToBytes(first.response.body.y as string) });
  const pass2 = await post(`${world.url}/v1/login/pass2`, { session, v: bytesToBase64url(v) });
  return { pass1: first.response, pass2, session, v, u: first.u, y: first.response.body.y as string };
}

/** A problem document without its per-request id: the part that must not differ between failures. */
export function withoutRequestId(body: Record<string, unknown>): Record<string, unknown> {
  const { requestId: _requestId, ...rest } = body;
  return rest;
}
