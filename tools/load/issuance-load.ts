/**
 * Load test of D-TA client-share issuance over HTTP with autocannon: many keep-alive connections,
 * each looping POST /v1/realms/bench/client-shares with a fresh grant (grant verification, the
 * nonce's accept-once commit, s_i·H(ID)), against the D-TA of the `dta` bench suite
 * (apps/dta-server/bench/issuance-server.ts: SQLite with WAL and synchronous=FULL) in its own process.
 * Grants are signed before the run (the MFA service's cost, not the D-TA's); each is used once.
 *
 * Results go to bench-results/load.json, so `npm run bench` lists them in docs/benchmarks.md.
 * Packages are imported from their built dist/ (run `npm run build` first):
 *   node tools/load/issuance-load.ts [--connections 32] [--duration 20] [--grants 12000] [--sealed]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { bytesToBase64url, generateXWingKeyPair } from '@milagro/crypto';
import { createGrant } from '@milagro/dta';
import { MemoryKeyStore } from '@milagro/keystore';
import { createIdentity, identitySigner, MemoryDocumentStore } from '@milagro/pki';
import type * as LoadResultsModule from './load-results.js';

// Type stripping does not rewrite `.js` specifiers to `.ts`; the type-only import above keeps tsc's view.
const { REPO_ROOT, loadAverage, writeLoadFigures } = (await import(new URL('./load-results.ts', import.meta.url).href)) as typeof LoadResultsModule;

const { values: args } = parseArgs({
  options: {
    connections: { type: 'string', default: '32' },
    duration: { type: 'string', default: '20' },
    grants: { type: 'string', default: '12000' },
    sealed: { type: 'boolean', default: false },
  },
});
const connections = Number(args.connections);
const duration = Number(args.duration);
const identityBytes = new TextEncoder().encode('alice@example.org');
const identity = bytesToBase64url(identityBytes);

// The identities' documents, handed to the server process (it resolves the MFA service's keys from them).
const store = new MemoryDocumentStore();
const keyStore = new MemoryKeyStore();
const mfa = await createIdentity({ keyStore, store, labelPrefix: 'mfa' });
const dta = await createIdentity({ keyStore, store, labelPrefix: 'dta' });
const server = spawn(process.execPath, ['--no-warnings', join(REPO_ROOT, 'apps/dta-server/bench/issuance-server.ts')], {
  env: { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify({ self: dta.id.toString(), mfa: mfa.id.toString(), blocks: [...store.entries()].map(([cid, bytes]) => [cid, bytesToBase64url(bytes)]) }) },
  stdio: ['pipe', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolveUrl, reject) => {
  createInterface({ input: server.stdout! }).once('line', (line) => resolveUrl((JSON.parse(line) as { url: string }).url));
  server.once('exit', (code) => reject(new Error(`issuance server exited (${code})`)));
});

const signer = identitySigner(mfa, keyStore);
const grant = async () => bytesToBase64url(await createGrant({ signer, purpose: 'client-secret', realm: 'bench', audience: dta.id.toString(), identity: identityBytes, lifetimeSeconds: 7200 }));
const grants: string[] = [];
for (let i = 0; i < Number(args.grants); i++) grants.push(await grant());
const sealTo = args.sealed ? bytesToBase64url(generateXWingKeyPair().publicKey) : undefined;

let issued = 0;
let refused = 0;
let ranOut = 0;
const loadBefore = loadAverage();
console.log(`issuance load: ${connections} connections, ${duration} s, ${grants.length} grants signed ahead${args.sealed ? ', sealed shares' : ''}; load ${loadBefore}`);
const result = await autocannon({
  url,
  connections,
  duration,
  requests: [
    {
      method: 'POST',
      path: '/v1/realms/bench/client-shares',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => {
        let token = grants.pop();
        if (token === undefined) {
          // A reused grant is refused (its nonce is spent): counted, and a sign to raise --grants.
          ranOut += 1;
          token = '';
        }
        return { ...request, body: JSON.stringify({ grant: token, identity, ...(sealTo === undefined ? {} : { sealTo }) }) };
      },
      onResponse: (status) => {
        if (status === 200) issued += 1;
        else refused += 1;
      },
    },
  ],
});
server.stdin!.end();
await new Promise((resolveExit) => (server.exitCode === null ? server.once('exit', resolveExit) : resolveExit(undefined)));

const perSecond = issued / result.duration;
console.table({
  'issuances/s': perSecond.toFixed(1),
  issued,
  refused,
  'grants ran out': ranOut,
  'request p50 / p99 ms': `${result.latency.p50} / ${result.latency.p99}`,
  errors: result.errors,
  timeouts: result.timeouts,
});
if (refused > ranOut || result.errors > 0) process.exitCode = 1;
if (ranOut > 0) console.warn(`issuance load: the grants ran out ${ranOut} times (raise --grants); those requests were refused and are not counted`);

const name = `HTTP client-share issuance${args.sealed ? ' (sealed, X-Wing)' : ''}, autocannon, ${connections} connections, SQLite on disk`;
const written = writeLoadFigures(
  [
    { case: `${name}: sustained issuances/s`, unit: 'issuances/s', median: perSecond, p99: null, samples: issued },
    { case: `${name}: request latency`, unit: 'ms', median: result.latency.p50, p99: result.latency.p99, samples: issued },
  ],
  loadBefore,
);
console.log(`written to ${written}`);
