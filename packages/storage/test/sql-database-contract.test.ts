// The one SqlDatabase contract (sql-database-conformance.ts), run against every adapter: SQLite on
// a file and in memory, PostgreSQL on a throw-away cluster (a fresh database per test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgresDatabase, openSqliteDatabase, type SqlDatabase } from '@milagro/storage';
import { postgresAvailability, reportMissingPostgres, useTestPostgres } from '../../../tools/jest/postgres';
import { describeSqlDatabase } from './sql-database-conformance';

let directory: string;
let files = 0;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'milagro-storage-'));
});
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

const postgres = postgresAvailability();
const testPostgres = useTestPostgres();

const adapters: Array<[string, (() => Promise<SqlDatabase>) | undefined]> = [
  ['SQLite file', () => openSqliteDatabase({ path: join(directory, `db-${++files}.sqlite`) })],
  ['SQLite :memory:', () => openSqliteDatabase({ path: ':memory:' })],
  ['PostgreSQL', 'binaries' in postgres ? async () => openPostgresDatabase({ url: await testPostgres.freshDatabaseUrl() }) : undefined],
];

describe.each(adapters)('%s', (name, open) => {
  if (open === undefined) {
    if (!('binaries' in postgres)) reportMissingPostgres(`SqlDatabase contract on ${name}`, postgres);
    return;
  }
  describeSqlDatabase(name, open);
});
