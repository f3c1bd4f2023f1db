/**
 * A D-TA identity runs its protocols from one process at a time, also when its state is in
 * PostgreSQL (where the MFA role may have replicas): a second process with the same identity on the
 * same database is refused naming the role and the identity, and takes over once the first stops.
 * When the database ends the connection holding the role's lock (a restart, a failover), the node
 * stops with exit code 1 instead of running on unguarded.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresDatabase, type SqlDatabase } from '@milagro/storage';
import { jsonRequest } from '../../../tools/jest/dta-cluster.js';
import { waitFor } from '../../../tools/jest/peer-process.js';
import { postgresAvailability, reportMissingPostgres, useTestPostgres } from '../../../tools/jest/postgres.js';
import type { ServerProcess } from '../../../tools/jest/server-process.js';
import { runMilagro, startMilagro } from './support/milagro-command.js';

jest.setTimeout(600_000);

const postgres = postgresAvailability();
const testPostgres = useTestPostgres();
const env = { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the one-process test', MILAGRO_DTA_ADMIN_TOKEN: 'operator-token-for-milagro-tests-0123' };
let root: string;
const servers: ServerProcess[] = [];
let db: SqlDatabase | undefined;

if (!('binaries' in postgres)) {
  reportMissingPostgres('one D-TA identity on a shared PostgreSQL database', postgres);
} else {
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'milagro-one-dta-'));
  });
  afterAll(async () => {
    for (const server of servers) await server.kill();
    await db?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('a second process of the identity is refused while the first runs, takes over after it, and a lost lock stops the node', async () => {
    const url = await testPostgres.freshDatabaseUrl();
    const withDb = { ...env, MILAGRO_DATABASE_URL: url };
    const configA = join(root, 'a.yaml');
    const init = await runMilagro(['init', '--yes', '--config', configA, '--data-dir', 'a', '--roles', 'dta', '--http-port', '0', '--scrypt-log-n', '10', '--json'], env);
    expect({ code: init.code, stderr: init.stderr }).toEqual({ code: 0, stderr: '' });
    const { identity } = JSON.parse(init.stdout) as { identity: string };
    writeFileSync(configA, `${readFileSync(configA, 'utf8')}\ndatabase: { kind: postgres, url: { env: MILAGRO_DATABASE_URL } }\n`);
    // The second host's copy of the identity (taken while the node is stopped): its own data dir and config.
    cpSync(join(root, 'a'), join(root, 'b'), { recursive: true });
    const configB = join(root, 'b.yaml');
    writeFileSync(configB, readFileSync(configA, 'utf8').replace(/^dataDir: .*$/m, 'dataDir: ./b'));

    const a = await startMilagro(configA, withDb);
    servers.push(a);
    await waitFor('A ready', async () => (await jsonRequest(`${a.url}/readyz`)).status === 200, 60_000, 250);

    const refused = await runMilagro(['start', '--config', configB], withDb);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`another process runs the D-TA role of ${identity} on this database`);
    expect((await jsonRequest(`${a.url}/readyz`)).status).toBe(200);

    await a.stop();
    const b = await startMilagro(configB, withDb);
    servers.push(b);
    expect((await jsonRequest(`${b.url}/v1/node`)).body['identity']).toBe(identity);

    // The server ends the session that holds B's lock: B stops, exit code 1, and says why.
    db = await openPostgresDatabase({ url });
    await db.run("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()");
    expect(await b.exited).toBe(1);
    expect(b.logs.some((line) => line['event'] === 'role-stopped' && line['code'] === 'ROLE_LOCK_LOST')).toBe(true);
  });
}
