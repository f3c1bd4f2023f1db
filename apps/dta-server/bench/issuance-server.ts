/**
 * The server side of the `dta` bench suite, in its own process: the D-TA's HTTP routes
 * (`createDtaApi` on `@milagro/http`) over a real `IssuanceService` (mcl-wasm backend, SQLite file
 * with WAL and synchronous=FULL for the grant nonces) and a one-member realm whose share is random.
 * The identity documents of the MFA service come from the parent in BENCH_SERVER_CONFIG; the
 * realm and fiduciary routes are not exercised.
 * Prints `{"url": ...}` once listening; exits when stdin closes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { base64urlToBytes, createMclBackend, randomScalar } from '@milagro/crypto';
import { createDtaApi, DtaError, IssuanceRepository, IssuanceService, type ActiveRealm, type RealmDirectory } from '@milagro/dta';
import { createHttpServer } from '@milagro/http';
import { createSuite } from '@milagro/mpin';
import { IdentityResolver, MemoryDocumentStore } from '@milagro/pki';
import { openSqliteDatabase, type SqlDatabase, type SqlExecutor } from '@milagro/storage';
import { pino } from 'pino';

const config = JSON.parse(process.env['BENCH_SERVER_CONFIG'] ?? '{}') as { self: string; mfa: string; blocks: Array<[string, string]> };
const store = new MemoryDocumentStore(config.blocks.map(([cid, bytes]) => [cid, base64urlToBytes(bytes)] as const));

const suite = createSuite({ suite: 'modern', backend: await createMclBackend() });
const share = suite.encodeScalar(randomScalar());
const realm: ActiveRealm = {
  realmId: 'bench',
  members: [config.self],
  threshold: 1,
  mfaService: config.mfa,
  permitHorizonDays: 7,
  grantMaxLifetimeMinutes: 120,
  epoch: 0,
  index: 1n,
  groupPublicKey: new Uint8Array(48),
};
const realms: RealmDirectory = { self: config.self, activeRealm: async () => realm, masterShare: async () => ({ epoch: 0, index: 1n, share }) };
const dir = mkdtempSync(join(tmpdir(), 'dta-bench-server-'));
const opened = await openSqliteDatabase({ path: join(dir, 'dta.sqlite') });
/** BENCH_SERVER_STATS=1: on exit, report transactions (durable commits), their time, and event-loop delay to stderr. */
const stats = process.env['BENCH_SERVER_STATS'] === '1' ? { transactions: 0, transactionMs: 0, loop: monitorEventLoopDelay({ resolution: 1 }) } : undefined;
stats?.loop.enable();
const db: SqlDatabase =
  stats === undefined
    ? opened
    : Object.assign(Object.create(opened) as SqlDatabase, {
        transaction: async <T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> => {
          const started = performance.now();
          try {
            return await opened.transaction(work);
          } finally {
            stats.transactions += 1;
            stats.transactionMs += performance.now() - started;
          }
        },
        migrate: opened.migrate.bind(opened),
        get: opened.get.bind(opened),
        run: opened.run.bind(opened),
        all: opened.all.bind(opened),
        close: opened.close.bind(opened),
      });
const issuance = new IssuanceService({ realms, repository: await IssuanceRepository.open(db), resolver: new IdentityResolver({ store }), suite });
const unused = async (): Promise<never> => {
  throw new DtaError('NOT_FOUND', 'not part of this bench');
};
const api = createDtaApi(
  { self: config.self, issuance, realms: { createRealm: unused, realm: unused, listRealms: async () => [] }, fiduciary: { fulfilOrder: unused, redeemOrder: unused } },
  { adminToken: 'bench-operator-token-0123456789' },
);
const server = createHttpServer({ apis: [api], logger: pino({ level: 'silent' }), metrics: { defaultMetrics: false } });
const listening = await server.listen({ port: 0 });
process.stdout.write(`${JSON.stringify({ url: listening.url })}\n`);
process.stdin.resume();
// BENCH_SERVER_STATS=1: each line "mark" on stdin answers, on stdout, what happened since the previous mark.
let since = { cpu: process.cpuUsage(), at: performance.now() };
if (stats !== undefined) {
  createInterface({ input: process.stdin }).on('line', () => {
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    const cpu = process.cpuUsage(since.cpu);
    process.stdout.write(
      `${JSON.stringify({ wallMs: Math.round(performance.now() - since.at), cpuMs: Math.round((cpu.user + cpu.system) / 1000), transactions: stats.transactions, transactionMsMean: Math.round((stats.transactionMs / Math.max(1, stats.transactions)) * 100) / 100, loopDelayMs: { p50: ms(stats.loop.percentile(50)), p99: ms(stats.loop.percentile(99)), max: ms(stats.loop.max) } })}\n`,
    );
    stats.transactions = 0;
    stats.transactionMs = 0;
    stats.loop.reset();
    since = { cpu: process.cpuUsage(), at: performance.now() };
  });
}
process.stdin.on('close', () => {
  void listening.close().then(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
