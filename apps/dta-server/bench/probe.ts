/**
 * Diagnosis probe for the `dta` suite (not a suite itself): the same server as dta.bench.ts
 * (issuance-server.ts, in its own process), SEQ sequential issuances then BATCHES batches of CONC
 * concurrent ones over a `node:http` keep-alive agent (CLIENT=fetch for undici's fetch), grants
 * signed before anything is timed. Prints latency percentiles and rates, and the server's own view
 * of each phase (CPU time, SQLite transactions, event-loop delay). SERVER_FLAGS passes flags to the
 * server's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). From the repository root, on sources:
 *   F="--experimental-transform-types --import ./tools/jest/source-imports.mjs"
 *   SERVER_FLAGS="$F" node_modules/.bin/node --no-warnings $F apps/dta-server/bench/probe.ts
 * A request that meets a connection reset (a keep-alive socket the server closed) is retried with a
 * new grant and counted in `resets`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as dagCbor from '@ipld/dag-cbor';
import { bytesToBase64url } from '@milagro/crypto';
import { createGrant } from '@milagro/dta';
import { MemoryKeyStore } from '@milagro/keystore';
import { createIdentity, identitySigner } from '@milagro/pki';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';

const SEQ = Number(process.env.SEQ ?? 200);
const BATCHES = Number(process.env.BATCHES ?? 20);
const CONC = Number(process.env.CONC ?? 32);
const CLIENT = process.env.CLIENT ?? 'http';
const identity = bytesToBase64url(new TextEncoder().encode('alice@example.org'));
const blocks = new Map<string, Uint8Array>();
const store = {
  async putDag(value: unknown) { const bytes = dagCbor.encode(value); const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes)); blocks.set(cid.toString(), bytes); return cid; },
  async get(cid: CID) { const b = blocks.get(cid.toString()); if (!b) throw new Error('no block'); return b; },
};
const keyStore = new MemoryKeyStore();
const mfa = await createIdentity({ keyStore, store, labelPrefix: 'mfa' });
const dta = await createIdentity({ keyStore, store, labelPrefix: 'dta' });
const server: ChildProcess = spawn(process.execPath, [...(process.env.SERVER_FLAGS ?? '').split(' ').filter(Boolean), '--no-warnings', fileURLToPath(new URL('./issuance-server.ts', import.meta.url))], {
  env: { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify({ self: dta.id.toString(), mfa: mfa.id.toString(), blocks: [...blocks].map(([c, b]) => [c, bytesToBase64url(b)]) }) },
  stdio: ['pipe', 'pipe', 'inherit'],
});
const lines = createInterface({ input: server.stdout! });
const nextLine = () => new Promise<string>((resolve) => lines.once('line', resolve));
const url = JSON.parse(await nextLine()).url as string;
const mark = async () => { const l = nextLine(); server.stdin!.write('mark\n'); return JSON.parse(await l); };
const endpoint = new URL(`${url}/v1/realms/bench/client-shares`);
const signer = identitySigner(mfa, keyStore);
const grants: string[] = [];
const total = SEQ + BATCHES * CONC + 40 + Number(process.env.SPARE ?? 300);
let t0 = performance.now();
for (let i = 0; i < total; i++) grants.push(bytesToBase64url(await createGrant({ signer, purpose: 'client-secret', realm: 'bench', audience: dta.id.toString(), identity: new TextEncoder().encode('alice@example.org'), lifetimeSeconds: 7000 })));
console.error(`signed ${total} grants in ${(performance.now() - t0).toFixed(0)} ms`);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
function post(body: string): Promise<void> {
  if (CLIENT === 'fetch') return fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => { if (r.status !== 200) throw new Error(await r.text()); await r.arrayBuffer(); });
  return new Promise((resolve, reject) => {
    const req = request(endpoint, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${res.statusCode} ${Buffer.concat(chunks)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
let resets = 0;
const issue = (): Promise<void> => post(JSON.stringify({ grant: grants.pop(), identity })).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ECONNRESET') throw e; resets++; console.error(`reset ${resets} ${e.message}`); return issue(); });
const pct = (v: number[], q: number) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!; };
for (let i = 0; i < 40; i++) await issue(); // warm-up
await mark();
const seq: number[] = [];
t0 = performance.now();
for (let i = 0; i < SEQ; i++) { const s = performance.now(); await issue(); seq.push(performance.now() - s); }
const seqWall = performance.now() - t0;
const seqServer = await mark();
const per: number[] = []; const lat: number[] = [];
t0 = performance.now();
for (let b = 0; b < BATCHES; b++) {
  const s = performance.now();
  await Promise.all(Array.from({ length: CONC }, async () => { const a = performance.now(); await issue(); lat.push(performance.now() - a); }));
  per.push((performance.now() - s) / CONC);
}
const concWall = performance.now() - t0;
const concServer = await mark();
console.log(JSON.stringify({
  client: CLIENT, resets,
  seqServer, concServer, seq: { p50: +pct(seq, 0.5).toFixed(2), p99: +pct(seq, 0.99).toFixed(1), perSecond: +(SEQ / seqWall * 1000).toFixed(0) },
  conc: { perIssuanceP50: +pct(per, 0.5).toFixed(2), requestP50: +pct(lat, 0.5).toFixed(1), requestP99: +pct(lat, 0.99).toFixed(1), perSecond: +(BATCHES * CONC / concWall * 1000).toFixed(0) },
}));
server.stdin!.end();
await new Promise((r) => server.once('exit', r));
agent.destroy();
