/**
 * The server side of the `mfa` bench suite, in its own process (so the client's pass-2 maths and
 * HTTP parsing do not share its event loop): `createMfaApi` on `@milagro/http` over the service of
 * bench-service.ts, with its database under BENCH_MFA_SERVER_CONFIG.parentDir (disk or tmpfs) or at its databaseUrl (PostgreSQL).
 * Registers `users` identities, then prints `{"url", "users": [{userId, identity}]}` once listening.
 * Each line on stdin answers, on stdout, the CPU time and the service's pairing checks (count, total
 * ms, from its own histogram), its verification batches (count, proofs) and its database group commits (count, writes) since the previous line. Exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { base64urlToBytes, bytesToBase64url, createMclBackend } from '@milagro/crypto';
import { createHttpServer } from '@milagro/http';
import { createMfaApi } from '@milagro/mfa';
import { createSuite } from '@milagro/mpin';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type * as BenchServiceModule from './bench-service.js';

// Type stripping does not rewrite `.js` specifiers to `.ts`; the type-only import above keeps tsc's view.
const { openBenchService, registerUsers } = (await import(new URL('./bench-service.ts', import.meta.url).href)) as typeof BenchServiceModule;

const config = JSON.parse(process.env['BENCH_MFA_SERVER_CONFIG'] ?? '{}') as { serverSecret: string; groupPublicKey: string; parentDir: string; databaseUrl?: string; users: number };
const suite = createSuite({ backend: await createMclBackend() });
const registry = new Registry();
const bench = await openBenchService({
  suite,
  serverSecret: base64urlToBytes(config.serverSecret),
  groupPublicKey: base64urlToBytes(config.groupPublicKey),
  parentDir: config.parentDir,
  ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
  registry,
});
const users = await registerUsers(bench.service, config.users);
const server = createHttpServer({
  apis: [createMfaApi(bench.service)],
  ready: { 'server-secret': () => bench.service.isReady() },
  logger: pino({ level: 'silent' }),
  metrics: { registry, defaultMetrics: false },
});
const listening = await server.listen({ port: 0 });
// Longer than the client's keep-alive: a stall on a loaded machine must not close a socket fetch is reusing.
listening.server.keepAliveTimeout = 30_000;
process.stdout.write(`${JSON.stringify({ url: listening.url, users: users.map((u) => ({ userId: u.userId, identity: bytesToBase64url(u.identity) })) })}\n`);

/** The pairing-check histogram's running count and sum (seconds), and the batch histogram's (all outcomes). */
async function verifications(): Promise<{ count: number; sum: number; batches: number; batched: number; commits: number; committed: number }> {
  // A histogram's values carry `metricName` (`_count`, `_sum`, `_bucket`); prom-client's MetricValue type omits it.
  const values = async (name: string) => {
    const metric = registry.getSingleMetric(name);
    return (metric === undefined ? [] : (await metric.get()).values) as Array<{ metricName?: string; value: number }>;
  };
  const seconds = await values('mfa_login_verification_seconds');
  const batches = await values('mfa_login_verification_batch_size');
  const commits = await values('mfa_db_group_commit_writes');
  const total = (list: typeof seconds, name: string) => list.filter((v) => v.metricName === name).reduce((sum, v) => sum + v.value, 0);
  return {
    count: total(seconds, 'mfa_login_verification_seconds_count'),
    sum: total(seconds, 'mfa_login_verification_seconds_sum'),
    batches: total(batches, 'mfa_login_verification_batch_size_count'),
    batched: total(batches, 'mfa_login_verification_batch_size_sum'),
    commits: total(commits, 'mfa_db_group_commit_writes_count'),
    committed: total(commits, 'mfa_db_group_commit_writes_sum'),
  };
}
let since = { cpu: process.cpuUsage(), at: performance.now(), verified: await verifications() };
createInterface({ input: process.stdin }).on('line', () => {
  void verifications().then((verified) => {
    const cpu = process.cpuUsage(since.cpu);
    process.stdout.write(
      `${JSON.stringify({
        wallMs: performance.now() - since.at,
        cpuMs: (cpu.user + cpu.system) / 1000,
        verifications: verified.count - since.verified.count,
        verificationMs: (verified.sum - since.verified.sum) * 1000,
        batches: verified.batches - since.verified.batches,
        batched: verified.batched - since.verified.batched,
        commits: verified.commits - since.verified.commits,
        committed: verified.committed - since.verified.committed,
      })}\n`,
    );
    since = { cpu: process.cpuUsage(), at: performance.now(), verified };
  });
});
process.stdin.on('close', () => {
  void listening.close().then(async () => {
    await bench.close();
    process.exit(0);
  });
});
