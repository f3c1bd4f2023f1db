/**
 * Issue 12, hostile input: every HTTP endpoint of a D-TA, the MFA server and a custody operator, fuzzed from the
 * server's own OpenAPI document with real processes (three D-TAs with an active realm, the MFA
 * server ready with its server secret). No request may get a 5xx or drop the connection, every
 * client mistake is an RFC 9457 problem with a stable code, the servers stay healthy, and their
 * memory does not grow with the number of requests.
 *
 * FUZZ_RUNS sets the requests per server (default 2,500: with the decoder properties that is more
 * than 10,000 cases per CI run); FUZZ_SEED replays a run. `npm run fuzz` runs longer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSwarmKey } from '@milagro/ipfs';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { DTA_ADMIN_TOKEN, createRealm, jsonRequest, startDtaCluster, type DtaProcess } from '../../jest/dta-cluster.js';
import { MFA_ADMIN_TOKEN, startMfaServer, type MfaServerHandle } from '../../jest/mfa-cluster.js';
import { killAllPeers, waitFor } from '../../jest/peer-process.js';
import { startOperator, type OperatorProcess } from '../../../apps/custody-server/test/support/custody-cluster.js';
import { fuzzServer, type FuzzReport } from '../fuzz-server.js';
import type { Json } from '../openapi-requests.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2_500);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** Growth of the server's resident memory over the whole run that would mean a leak per request. */
const MAX_RSS_GROWTH = 256 * 1024 * 1024;

let root: string;
let dtas: DtaProcess[];
let mfa: MfaServerHandle;
let custody: OperatorProcess;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'milagro-fuzz-'));
  const swarmKey = generateSwarmKey();
  dtas = await startDtaCluster({ root, swarmKey });
  mfa = await startMfaServer({ root, swarmKey, dtas, realmId: 'fuzz', threshold: 2, limits: { sessionTtlSeconds: 20 } });
  await createRealm(dtas, { realmId: 'fuzz', threshold: 2, mfaService: mfa.id, grantMaxLifetimeMinutes: 10 });
  await waitFor('MFA server ready', async () => (await jsonRequest(`${mfa.server.url}/readyz`)).status === 200, 180_000, 500);
  custody = await startOperator('custody-1', { root, swarmKey, peers: dtas[0]!.addrs });
}, 900_000);

afterAll(async () => {
  await Promise.all([...(dtas ?? []).map((dta) => dta.server.stop()), mfa?.server.stop(), custody?.server.stop()]);
  killAllPeers();
  rmSync(root, { recursive: true, force: true });
});

/** Known-good values, so that schema-made requests also get past lookups (an existing realm, real members, points on the curve). */
function hints(): Record<string, Json[]> {
  const g1 = Buffer.from(bls12_381.G1.Point.BASE.toBytes()).toString('base64url');
  return {
    realmId: ['fuzz'],
    realm: ['fuzz'],
    members: [dtas.map((d) => d.id)],
    vaultId: ['treasury'],
    operators: [[custody.id]],
    mfaService: [mfa.id],
    u: [g1],
    v: [g1],
    ut: [g1],
    userId: ['alice@example.org'],
  };
}

function expectClean(report: FuzzReport): void {
  // The seed is in the message so that a failure can be replayed with FUZZ_SEED.
  expect({ seed: report.seed, failures: report.failures }).toEqual({ seed: report.seed, failures: [] });
  expect(report.runs).toBe(RUNS);
  // Schema-shaped requests get past validation: not everything may be a 400.
  const passedValidation = Object.entries(report.statuses).filter(([status]) => status !== '400').reduce((sum, [, n]) => sum + n, 0);
  expect(passedValidation).toBeGreaterThan(RUNS / 10);
  if (report.rss.before !== undefined && report.rss.after !== undefined) expect(report.rss.after - report.rss.before).toBeLessThan(MAX_RSS_GROWTH);
}

describe('schema-aware fuzzing of every endpoint', () => {
  it(`a D-TA answers ${RUNS} hostile requests without a server error and stays healthy`, async () => {
    const report = await fuzzServer(dtas[1]!.server.url, { runs: RUNS, bearers: [DTA_ADMIN_TOKEN], hints: hints(), ...(SEED === undefined ? {} : { seed: SEED }) });
    console.log(`D-TA fuzz: seed ${report.seed}, rss ${JSON.stringify(report.rss)}\n${JSON.stringify(report.operations)}${process.env.FUZZ_DEBUG ? JSON.stringify(report.refusedExamples, null, 1) : ''}`);
    expectClean(report);
    // Every operation of the document was exercised.
    const document = (await jsonRequest(`${dtas[1]!.server.url}/openapi.json`)).body as { paths: Record<string, object> };
    const operationCount = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(Object.keys(report.operations)).toHaveLength(operationCount);
  }, 1_800_000);

  it(`a custody operator answers ${RUNS} hostile requests without a server error and stays healthy`, async () => {
    const report = await fuzzServer(custody.server.url, { runs: RUNS, hints: hints(), ...(SEED === undefined ? {} : { seed: SEED }) });
    console.log(`custody fuzz: seed ${report.seed}, rss ${JSON.stringify(report.rss)}\n${JSON.stringify(report.operations)}${process.env.FUZZ_DEBUG ? JSON.stringify(report.refusedExamples, null, 1) : ''}`);
    expectClean(report);
  }, 1_800_000);

  it(`the MFA server answers ${RUNS} hostile requests without a server error and stays healthy`, async () => {
    const report = await fuzzServer(mfa.server.url, { runs: RUNS, bearers: [MFA_ADMIN_TOKEN], hints: hints(), ...(SEED === undefined ? {} : { seed: SEED }) });
    console.log(`MFA fuzz: seed ${report.seed}, rss ${JSON.stringify(report.rss)}\n${JSON.stringify(report.operations)}${process.env.FUZZ_DEBUG ? JSON.stringify(report.refusedExamples, null, 1) : ''}`);
    expectClean(report);
    // Still serving logins' first step after the storm (ready, not locked up).
    expect((await jsonRequest(`${mfa.server.url}/readyz`)).status).toBe(200);
  }, 1_800_000);
});
