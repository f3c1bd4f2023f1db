/**
 * Suite `mfa` (brief §7: end-to-end logins over HTTP ≥ 150/s on 2 cores; server verification
 * ≤ 1.3× the bare mcl-wasm 2-pairing product it contains), issue 8.
 *
 * Over HTTP: the MFA service (login-server.ts, mcl-wasm) runs in its own process, once with its
 * SQLite file on disk (tmpdir: the production durability, every commit fsynced) and once on tmpfs
 * (/dev/shm: the same code without the disk). Users are registered in the server before anything is
 * timed; their client secrets come from a 2-of-3 Shamir-shared master secret through @milagro/mpin's
 * issuance and combination (no D-TA processes). A timed login is POST /v1/login/pass1, the client's
 * pass 2 (one G1 multiplication on mcl-wasm, about 1 ms here), POST /v1/login/pass2 with keep-alive;
 * the client's pass 1 (about 2.5 ms) is precomputed in setup. Logins per second = 1000 / median.
 *
 * In process: @milagro/mpin's verifyLogin and the service's whole pass 2 against the bare 2-pairing
 * product verifyLogin contains, one at a time and 32 at once (the service verifies the pass 2s of one
 * event-loop turn as one batch: docs/adr/0011-batched-login-verification.md).
 *
 * With PostgreSQL's server binaries installed, a third server keeps its state in a throw-away local
 * PostgreSQL cluster (tools/postgres: unix socket, fsync on), the replicas' configuration.
 *
 * Knobs: BENCH_MFA_STORAGE (default `disk,tmpfs,postgres`), BENCH_MFA_POOL (pass-1 messages precomputed per
 * server, default 2000; beyond it pass 1 runs inside the timed login and a warning says so),
 * BENCH_MFA_SERVER_FLAGS (node flags for the server processes, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/mfa-prof`), BENCH_MFA_BATCH (the services' maxVerificationBatch;
 * 1 turns batching off, for a before/after in one sitting).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { base64urlToBytes, bytesToBase64url, createMclBackend, randomScalar, splitSecret } from '@milagro/crypto';
import type { MfaService } from '@milagro/mfa';
import {
  clientPass1,
  clientPass2,
  combineClientSecret,
  combineServerSecret,
  createChallenge,
  createServerKey,
  createSuite,
  extractToken,
  issueClientShare,
  issueServerShare,
  verifyLogin,
  type ClientLoginState,
  type LoginProof,
  type MpinSuite,
} from '@milagro/mpin';
import type { BenchSuite } from '../../../tools/bench/suite.js';
import type * as PostgresClusterModule from '../../../tools/postgres/postgres-cluster.js';
import type * as BenchServiceModule from './bench-service.js';

// Type stripping does not rewrite `.js` specifiers to `.ts`; the type-only import above keeps tsc's view.
const { openBenchService, registerUsers } = (await import(new URL('./bench-service.ts', import.meta.url).href)) as typeof BenchServiceModule;

const CONCURRENT = 32;
/** Users per server: a batch of 32 concurrent logins never uses one identity twice. */
const USERS = 64;
const POOL = Number(process.env['BENCH_MFA_POOL'] ?? 2000);
/** Sessions prepared for the in-process pass-2 row. */
const SESSIONS = 500;
/** Sessions prepared for the in-process 32-at-once rows (right PIN), and with a wrong PIN (one per batch of the second row). */
const CONCURRENT_SESSIONS = 72 * CONCURRENT;
const WRONG_SESSIONS = 40;
const PIN = '4821';
const factors = [{ pin: PIN }];
const TMPFS = existsSync('/dev/shm') ? '/dev/shm' : undefined;
const postgresCluster = (await import(new URL('../../../tools/postgres/postgres-cluster.ts', import.meta.url).href)) as typeof PostgresClusterModule;
const storages = (process.env['BENCH_MFA_STORAGE'] ?? 'disk,tmpfs,postgres')
  .split(',')
  .filter((s) => s === 'disk' || (s === 'tmpfs' && TMPFS !== undefined) || (s === 'postgres' && postgresCluster.findPostgresBinaries() !== undefined));
/** The throw-away cluster of the `postgres` server, stopped in teardown. */
let cluster: PostgresClusterModule.PostgresCluster | undefined;

type Suite = Awaited<ReturnType<typeof mclSuite>>;
async function mclSuite() {
  return createSuite({ backend: await createMclBackend() });
}

interface Realm {
  readonly masterShares: ReadonlyArray<{ index: bigint; share: Uint8Array }>;
  readonly serverSecret: Uint8Array;
  readonly groupPublicKey: Uint8Array;
}

/** A realm of three D-TAs (t = 2), as @milagro/mfa's tests build one; the server secret from D-TAs 2 and 3. */
function createRealm(suite: Suite): Realm {
  const { g1 } = suite.backend;
  const s = randomScalar();
  const masterShares = splitSecret(s, { threshold: 2, shares: 3 }).map(({ index, value }) => ({ index, share: suite.encodeScalar(value) }));
  const serverSecret = combineServerSecret(suite, masterShares.slice(1).map((m) => ({ index: m.index, share: issueServerShare(suite, m.share) })));
  return { masterShares, serverSecret, groupPublicKey: g1.encode(g1.multiply(g1.base, s)) };
}

/** The token a device keeps for `identity` and PIN: client secret combined from D-TAs 1 and 3. */
function deviceToken(suite: MpinSuite, realm: Realm, identity: Uint8Array): Uint8Array {
  const shares = [realm.masterShares[0]!, realm.masterShares[2]!].map((m) => ({ index: m.index, share: issueClientShare(suite, m.share, identity) }));
  return extractToken(suite, { identity, clientSecret: combineClientSecret(suite, shares), factors });
}

interface Device {
  readonly identity: Uint8Array;
  readonly identityText: string;
  readonly token: Uint8Array;
}

/** A client's pass 1, computed ahead of the timed login. */
interface Pass1 {
  readonly identity: string;
  readonly u: string;
  readonly state: ClientLoginState;
}

interface LoginServer {
  readonly storage: string;
  readonly child: ChildProcess;
  readonly lines: Interface;
  readonly url: string;
  readonly devices: Device[];
  readonly pool: Pass1[];
  /** Next device (round robin). */
  nextDevice: number;
  /** Logins whose pass 1 ran inside the timed call because the pool ran out. */
  inlinePass1: number;
  /** Client-measured latency of each login (pass 1 request to pass 2 answer), per case. */
  readonly sequential: number[];
  readonly concurrent: number[];
  /** Wall time of each 32-login batch. */
  readonly batches: number[];
}

let suite: Suite;
let realm: Realm;
const servers = new Map<string, LoginServer>();

function pass1For(server: LoginServer): Pass1 {
  const device = server.devices[server.nextDevice++ % server.devices.length]!;
  const { message, state } = clientPass1(suite, { identity: device.identity, token: device.token, factors });
  return { identity: device.identityText, u: bytesToBase64url(message.u), state };
}

async function postJson(url: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** One login over HTTP: pass 1, the client's pass 2, pass 2; throws unless an access token comes back. */
async function httpLogin(server: LoginServer, latencies: number[]): Promise<void> {
  const started = performance.now();
  let first = server.pool.pop();
  if (first === undefined) {
    server.inlinePass1 += 1;
    first = pass1For(server);
  }
  const challenge = await postJson(`${server.url}/v1/login/pass1`, { identity: first.identity, u: first.u });
  const { v } = clientPass2(first.state, { y: base64urlToBytes(challenge['y'] as string) });
  const success = await postJson(`${server.url}/v1/login/pass2`, { session: challenge['session'], v: bytesToBase64url(v) });
  if (typeof success['accessToken'] !== 'string') throw new Error('pass 2 returned no access token');
  latencies.push(performance.now() - started);
}

async function concurrentLogins(server: LoginServer): Promise<void> {
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENT }, () => httpLogin(server, server.concurrent)));
  server.batches.push(performance.now() - started);
}

/** Starts a login server with its database under `parentDir`; resolves once it listens and its users are registered. */
async function startServer(storage: string, parentDir: string, databaseUrl?: string): Promise<LoginServer> {
  const flags = (process.env['BENCH_MFA_SERVER_FLAGS'] ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...flags, '--no-warnings', fileURLToPath(new URL('./login-server.ts', import.meta.url))], {
    env: {
      ...process.env,
      BENCH_MFA_SERVER_CONFIG: JSON.stringify({ serverSecret: bytesToBase64url(realm.serverSecret), groupPublicKey: bytesToBase64url(realm.groupPublicKey), parentDir, databaseUrl, users: USERS }),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ url: string; users: Array<{ identity: string }> }>((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as { url: string; users: Array<{ identity: string }> }));
    child.once('exit', (code) => reject(new Error(`mfa bench server (${storage}) exited (${code})`)));
  });
  const devices = ready.users.map(({ identity }) => {
    const bytes = base64urlToBytes(identity);
    return { identity: bytes, identityText: identity, token: deviceToken(suite, realm, bytes) };
  });
  const server: LoginServer = { storage, child, lines, url: ready.url, devices, pool: [], nextDevice: 0, inlinePass1: 0, sequential: [], concurrent: [], batches: [] };
  for (let i = 0; i < POOL; i++) server.pool.push(pass1For(server));
  return server;
}

/** The server's CPU time and pairing checks since the previous call. */
interface ServerStats {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly verifications: number;
  readonly verificationMs: number;
  /** Verification batches and the proofs in them (absent from a server without batching). */
  readonly batches?: number;
  readonly batched?: number;
  /** Database transactions (fsyncs on disk) and the writes they held (0 before group commit: no metric). */
  readonly commits?: number;
  readonly committed?: number;
}
async function serverStats(server: LoginServer): Promise<ServerStats> {
  const answer = new Promise<string>((resolve) => server.lines.once('line', resolve));
  server.child.stdin!.write('stats\n');
  return JSON.parse(await answer) as ServerStats;
}

// ---- in process ---------------------------------------------------------------------------------

let bare: () => boolean = () => false;
let verifyOne: () => boolean = () => false;
let inProcess: BenchServiceModule.BenchService | undefined;
let inProcessDevice: Device;
const sessions: Array<{ session: string; v: Uint8Array }> = [];
const concurrentSessions: Array<{ session: string; v: Uint8Array }> = [];
const wrongSessions: Array<{ session: string; v: Uint8Array }> = [];
let inlineSessions = 0;

/** Pass 1 against the in-process service and the client's pass 2: a session ready for `loginPass2`. */
async function prepareSession(service: MfaService, pin = PIN): Promise<{ session: string; v: Uint8Array }> {
  const { message, state } = clientPass1(suite, { identity: inProcessDevice.identity, token: inProcessDevice.token, factors: [{ pin }] });
  const challenge = await service.loginPass1({ identity: inProcessDevice.identity, u: message.u, clientAddress: '127.0.0.1' });
  return { session: challenge.session, v: clientPass2(state, { y: challenge.y }).v };
}

async function servicePass2(): Promise<void> {
  const service = inProcess!.service;
  let next = sessions.pop();
  if (next === undefined) {
    inlineSessions += 1;
    next = await prepareSession(service);
  }
  await service.loginPass2({ session: next.session, v: next.v, clientAddress: '127.0.0.1' });
}

/** CONCURRENT pass 2s started together: the service verifies them as one batch. With `oneWrong`, the last has a wrong PIN (the batch is bisected). */
async function servicePass2Concurrent(oneWrong: boolean): Promise<void> {
  const service = inProcess!.service;
  const batch = [];
  for (let i = 0; i < CONCURRENT; i++) {
    const wrong = oneWrong && i === CONCURRENT - 1;
    let next = (wrong ? wrongSessions : concurrentSessions).pop();
    if (next === undefined) {
      inlineSessions += 1;
      next = await prepareSession(service, wrong ? '0000' : PIN);
    }
    batch.push(next);
  }
  const settled = await Promise.allSettled(batch.map((next) => service.loginPass2({ session: next.session, v: next.v, clientAddress: '127.0.0.1' })));
  const failed = settled.filter((s) => s.status === 'rejected').length;
  if (failed !== (oneWrong ? 1 : 0)) throw new Error(`${failed} of ${CONCURRENT} pass 2s failed`);
}

const pct = (values: readonly number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
};
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const STORAGE_LABEL: Record<string, string> = { disk: 'SQLite on disk', tmpfs: 'SQLite on tmpfs', postgres: 'PostgreSQL (local, unix socket)' };

const BARE = 'bare mcl-wasm 2-pairing product (in process)';

export default {
  suite: 'mfa',
  async setup() {
    const started = performance.now();
    console.log(`mfa: load average ${load()} at setup`);
    suite = await mclSuite();
    realm = createRealm(suite);
    for (const storage of storages) {
      if (storage === 'postgres') {
        cluster = await postgresCluster.startPostgres();
        servers.set(storage, await startServer(storage, tmpdir(), await cluster.createDatabase('mfa_bench')));
      } else {
        servers.set(storage, await startServer(storage, storage === 'disk' ? tmpdir() : (TMPFS as string)));
      }
    }
    // In process: one registered user, SESSIONS sessions through pass 1, and one proof for verifyLogin.
    inProcess = await openBenchService({ suite, serverSecret: realm.serverSecret, groupPublicKey: realm.groupPublicKey, parentDir: TMPFS ?? tmpdir() });
    const [user] = await registerUsers(inProcess.service, 1);
    inProcessDevice = { identity: user!.identity, identityText: bytesToBase64url(user!.identity), token: deviceToken(suite, realm, user!.identity) };
    for (let i = 0; i < SESSIONS; i++) sessions.push(await prepareSession(inProcess.service));
    for (let i = 0; i < CONCURRENT_SESSIONS; i++) concurrentSessions.push(await prepareSession(inProcess.service));
    for (let i = 0; i < WRONG_SESSIONS; i++) wrongSessions.push(await prepareSession(inProcess.service, '0000'));
    const key = createServerKey(suite, realm.serverSecret);
    const { message, state } = clientPass1(suite, { identity: inProcessDevice.identity, token: inProcessDevice.token, factors });
    const { keep } = createChallenge(suite);
    const proof: LoginProof = { identity: inProcessDevice.identity, u: message.u, v: clientPass2(state, keep).v, y: keep.y };
    if (!verifyLogin(key, proof).ok) throw new Error('the bench proof does not verify');
    verifyOne = () => verifyLogin(key, proof).ok;
    // The bare product: the same two pairs verifyLogin checks, decoded and prepared beforehand.
    const { g1 } = suite.backend;
    const v = suite.decodeG1(proof.v);
    const r = g1.add(g1.multiply(suite.hashIdentity(proof.identity), suite.decodeScalar(proof.y)), suite.decodeG1(proof.u));
    bare = () => suite.backend.pairingProductIsOne([[v, key.preparedBase], [r, key.preparedSecret]]);
    if (!bare()) throw new Error('the bare product does not hold');
    for (const server of servers.values()) await serverStats(server); // count from here
    console.log(
      `mfa: setup ${((performance.now() - started) / 1000).toFixed(1)} s (${servers.size} server(s) × ${USERS} users, ${POOL} pass-1 messages each, ${SESSIONS} in-process sessions); load ${load()}\n` +
        '  "HTTP login" rows: one login = POST /v1/login/pass1 + client pass 2 (mcl-wasm, in the timed call) + POST /v1/login/pass2,\n' +
        '    keep-alive fetch from this process to the server in its own process; client pass 1 precomputed; ms per login\n' +
        '    (32 concurrent: batch time / 32). The server does per login: zod validation, U decode, session insert (pass 1);\n' +
        '    session consume + attempt reservation (one atomic unit; the writes of one event-loop turn share one commit), verification (the pass 2s of one event-loop turn as one batch,\n' +
        '    verifyLoginBatch; BENCH_MFA_BATCH=1: verifyLogin each), counter reset, EdDSA access token (pass 2).\n' +
        '  in-process rows: the bare product is the 2-pairing product verifyLogin computes, inputs decoded and prepared beforehand;\n' +
        '    verifyLogin adds decoding/subgroup checks of U and V, hashing the identity to G1 and y·P + U;\n' +
        '    MfaService.loginPass2 is the service\'s whole pass 2 (SQLite on tmpfs, no HTTP), session prepared in setup.',
    );
  },
  async teardown() {
    const rows = [];
    for (const server of servers.values()) {
      const stats = await serverStats(server);
      const logins = server.sequential.length + server.concurrent.length;
      rows.push({
        server: STORAGE_LABEL[server.storage],
        'logins (incl. warm-up)': logins,
        '1 at a time p50 / p99 ms': `${pct(server.sequential, 0.5).toFixed(2)} / ${pct(server.sequential, 0.99).toFixed(1)}`,
        '1 at a time logins/s (1000/p50)': (1000 / pct(server.sequential, 0.5)).toFixed(0),
        [`${CONCURRENT} concurrent, request p50 / p99 ms`]: `${pct(server.concurrent, 0.5).toFixed(1)} / ${pct(server.concurrent, 0.99).toFixed(1)}`,
        [`${CONCURRENT} concurrent logins/s (${CONCURRENT}000/median batch)`]: ((CONCURRENT * 1000) / pct(server.batches, 0.5)).toFixed(0),
        'server CPU ms per login': (stats.cpuMs / Math.max(1, logins)).toFixed(2),
        'server pairing check mean ms': (stats.verificationMs / Math.max(1, stats.verifications)).toFixed(2),
        'proofs per verification batch': stats.batches === undefined || stats.batches === 0 ? '-' : ((stats.batched ?? 0) / stats.batches).toFixed(1),
        'db commits per login': stats.commits === undefined || stats.commits === 0 ? '-' : (stats.commits / Math.max(1, logins)).toFixed(2),
        'writes per db commit': stats.commits === undefined || stats.commits === 0 ? '-' : ((stats.committed ?? 0) / stats.commits).toFixed(1),
        'pass 1 inline (pool ran out)': server.inlinePass1,
      });
      server.child.stdin!.end();
      await new Promise((resolve) => (server.child.exitCode === null ? server.child.once('exit', resolve) : resolve(undefined)));
    }
    await inProcess?.close();
    await cluster?.stop();
    console.log(`mfa: client-side latency per login over HTTP, and the server's own view (CPU over both HTTP cases); load ${load()}`);
    console.table(rows);
    if (inlineSessions > 0) console.warn(`mfa: ${inlineSessions} in-process pass-2 calls prepared their session inside the timed call (raise SESSIONS)`);
    for (const server of servers.values()) {
      if (server.inlinePass1 > 0) console.warn(`mfa: ${server.inlinePass1} HTTP logins (${server.storage}) computed pass 1 inside the timed call (raise BENCH_MFA_POOL)`);
    }
  },
  cases: [
    ...storages.flatMap((storage) => [
      {
        name: `HTTP login, 1 at a time, ${STORAGE_LABEL[storage]}`,
        fn: () => httpLogin(servers.get(storage)!, servers.get(storage)!.sequential),
        iterations: 100,
        time: 2000,
      },
      {
        name: `HTTP login, ${CONCURRENT} concurrent (per login), ${STORAGE_LABEL[storage]}`,
        perItem: CONCURRENT,
        fn: () => concurrentLogins(servers.get(storage)!),
        iterations: 25,
        time: 2000,
      },
    ]),
    { name: BARE, fn: () => bare() },
    { name: 'verifyLogin, mcl-wasm (in process)', fn: () => verifyOne(), baseline: BARE },
    { name: 'MfaService.loginPass2, mcl-wasm, SQLite on tmpfs (in process)', fn: servicePass2, iterations: 50, baseline: BARE },
    {
      name: `MfaService.loginPass2, ${CONCURRENT} at once (per login), mcl-wasm, SQLite on tmpfs (in process)`,
      perItem: CONCURRENT,
      fn: () => servicePass2Concurrent(false),
      iterations: 25,
      baseline: BARE,
    },
    {
      name: `MfaService.loginPass2, ${CONCURRENT} at once, one wrong PIN (per login), mcl-wasm, SQLite on tmpfs (in process)`,
      perItem: CONCURRENT,
      fn: () => servicePass2Concurrent(true),
      iterations: 25,
      baseline: BARE,
    },
  ],
} satisfies BenchSuite;
