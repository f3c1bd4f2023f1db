/**
 * Load test of M-Pin logins over HTTP with autocannon: many keep-alive connections, each looping
 * POST /v1/login/pass1 → the client's pass 2 (mcl-wasm) → POST /v1/login/pass2, against the MFA
 * service of the `mfa` bench suite (packages/mfa/bench/login-server.ts) in its own process, on
 * SQLite (disk or tmpfs) or on a throw-away PostgreSQL cluster (tools/postgres).
 *
 * Unlike the bench suite, which times logins one at a time and in batches of 32, this holds the
 * server at a fixed concurrency for a duration and reports what it sustains: logins/s, request
 * latency, errors. Results go to bench-results/load.json (rows in the bench schema), so
 * `npm run bench` puts them in docs/benchmarks.md's generated table.
 *
 * Packages are imported from their built dist/ (run `npm run build` first):
 *   node tools/load/login-load.ts [--storage disk|tmpfs|postgres] [--connections 32] [--duration 20]
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { base64urlToBytes, bytesToBase64url, createMclBackend, randomScalar, splitSecret } from '@milagro/crypto';
import { clientPass1, clientPass2, combineClientSecret, combineServerSecret, createSuite, extractToken, issueClientShare, issueServerShare, type ClientLoginState } from '@milagro/mpin';
import type * as PostgresClusterModule from '../postgres/postgres-cluster.js';
import type * as LoadResultsModule from './load-results.js';

// Type stripping does not rewrite `.js` specifiers to `.ts`; the type-only import above keeps tsc's view.
const { findPostgresBinaries, startPostgres } = (await import(new URL('../postgres/postgres-cluster.ts', import.meta.url).href)) as typeof PostgresClusterModule;
const { REPO_ROOT, loadAverage, writeLoadFigures } = (await import(new URL('./load-results.ts', import.meta.url).href)) as typeof LoadResultsModule;

const SERVER = join(REPO_ROOT, 'packages/mfa/bench/login-server.ts');
const PIN = '4821';
const USERS = 256;

const { values: args } = parseArgs({
  options: {
    storage: { type: 'string', default: 'disk' },
    connections: { type: 'string', default: '32' },
    duration: { type: 'string', default: '20' },
    pool: { type: 'string', default: '3000' },
  },
});
const storage = String(args.storage);
const connections = Number(args.connections);
const duration = Number(args.duration);
if (!['disk', 'tmpfs', 'postgres'].includes(storage)) throw new Error('--storage is disk, tmpfs or postgres');
if (storage === 'postgres' && findPostgresBinaries() === undefined) throw new Error('--storage postgres needs the PostgreSQL server binaries (apt-get install postgresql)');

const suite = createSuite({ backend: await createMclBackend() });
const { g1 } = suite.backend;
// A 2-of-3 realm as the bench builds it: server secret from shares 2 and 3, client secrets from 1 and 3.
const s = randomScalar();
const masterShares = splitSecret(s, { threshold: 2, shares: 3 }).map(({ index, value }) => ({ index, share: suite.encodeScalar(value) }));
const serverSecret = combineServerSecret(suite, masterShares.slice(1).map((m) => ({ index: m.index, share: issueServerShare(suite, m.share) })));
const groupPublicKey = g1.encode(g1.multiply(g1.base, s));

let cluster: PostgresClusterModule.PostgresCluster | undefined;
let databaseUrl: string | undefined;
if (storage === 'postgres') {
  cluster = await startPostgres();
  databaseUrl = await cluster.createDatabase('mfa_load');
}
const parentDir = storage === 'tmpfs' && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const server = spawn(process.execPath, ['--no-warnings', SERVER], {
  env: {
    ...process.env,
    BENCH_MFA_SERVER_CONFIG: JSON.stringify({ serverSecret: bytesToBase64url(serverSecret), groupPublicKey: bytesToBase64url(groupPublicKey), parentDir, databaseUrl, users: USERS }),
  },
  stdio: ['pipe', 'pipe', 'inherit'],
});
const lines = createInterface({ input: server.stdout! });
const ready = await new Promise<{ url: string; users: Array<{ identity: string }> }>((resolveReady, reject) => {
  lines.once('line', (line) => resolveReady(JSON.parse(line) as { url: string; users: Array<{ identity: string }> }));
  server.once('exit', (code) => reject(new Error(`login server exited (${code})`)));
});

const devices = ready.users.map(({ identity }) => {
  const bytes = base64urlToBytes(identity);
  const shares = [masterShares[0]!, masterShares[2]!].map((m) => ({ index: m.index, share: issueClientShare(suite, m.share, bytes) }));
  return { identity: bytes, text: identity, token: extractToken(suite, { identity: bytes, clientSecret: combineClientSecret(suite, shares), factors: [{ pin: PIN }] }) };
});
interface Pass1 {
  readonly body: string;
  readonly state: ClientLoginState;
}
let nextDevice = 0;
let inlinePass1 = 0;
const pass1For = (): Pass1 => {
  const device = devices[nextDevice++ % devices.length]!;
  const { message, state } = clientPass1(suite, { identity: device.identity, token: device.token, factors: [{ pin: PIN }] });
  return { body: JSON.stringify({ identity: device.text, u: bytesToBase64url(message.u) }), state };
};
// The client's pass 1 (about 2.5 ms of mcl-wasm) is computed ahead, so the client spends its CPU on pass 2 only.
const pool: Pass1[] = Array.from({ length: Number(args.pool) }, pass1For);

interface LoginContext {
  state?: ClientLoginState;
  session?: string;
  y?: string;
}
let logins = 0;
let refused = 0;
const json = { 'content-type': 'application/json' };
const loadBefore = loadAverage();
console.log(`login load: ${storage}, ${connections} connections, ${duration} s, ${USERS} users, ${pool.length} pass-1 messages precomputed; load ${loadBefore}`);
const result = await autocannon<LoginContext>({
  url: ready.url,
  connections,
  duration,
  requests: [
    {
      method: 'POST',
      path: '/v1/login/pass1',
      headers: json,
      setupRequest: (request, context) => {
        let next = pool.pop();
        if (next === undefined) {
          inlinePass1 += 1;
          next = pass1For();
        }
        context.state = next.state;
        return { ...request, body: next.body };
      },
      onResponse: (status, body, context) => {
        if (status !== 200) return;
        const answer = JSON.parse(body) as { session: string; y: string };
        context.session = answer.session;
        context.y = answer.y;
      },
    },
    {
      method: 'POST',
      path: '/v1/login/pass2',
      headers: json,
      setupRequest: (request, context) => {
        const { v } = clientPass2(context.state!, { y: base64urlToBytes(context.y!) });
        return { ...request, body: JSON.stringify({ session: context.session, v: bytesToBase64url(v) }) };
      },
      onResponse: (status) => {
        if (status === 200) logins += 1;
        else refused += 1;
      },
    },
  ],
});
server.stdin!.end();
await new Promise((resolveExit) => (server.exitCode === null ? server.once('exit', resolveExit) : resolveExit(undefined)));
await cluster?.stop();

const seconds = result.duration;
const loginsPerSecond = logins / seconds;
const label = { disk: 'SQLite on disk', tmpfs: 'SQLite on tmpfs', postgres: 'PostgreSQL (local, unix socket)' }[storage];
console.table({
  'logins/s': loginsPerSecond.toFixed(1),
  logins,
  'pass 2 refused': refused,
  'request p50 / p99 ms': `${result.latency.p50} / ${result.latency.p99}`,
  'non-2xx': result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  'pass 1 inline (pool ran out)': inlinePass1,
});
if (refused > 0 || result.errors > 0) process.exitCode = 1;

const name = `HTTP logins (pass 1 + client pass 2 + pass 2), autocannon, ${connections} connections, ${label}`;
const written = writeLoadFigures(
  [
    { case: `${name}: sustained logins/s`, unit: 'logins/s', median: loginsPerSecond, p99: null, samples: logins },
    { case: `${name}: request latency`, unit: 'ms', median: result.latency.p50, p99: result.latency.p99, samples: logins },
  ],
  loadBefore,
);
console.log(`written to ${written}`);
