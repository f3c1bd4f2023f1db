/**
 * The databases repository tests run on: embedded SQLite always, PostgreSQL too when its server
 * binaries are there (a throw-away cluster per test file, a fresh database per location).
 *
 * - `sqlAdaptersUnderTest()` for a `describe.each` over both adapters in one test file.
 * - `openTestDatabase({ path })` for test worlds: SQLite at `path`, or, with
 *   `MILAGRO_TEST_DATABASE=postgres`, a PostgreSQL database named after `path` (opening the same
 *   path again, a "restart", reaches the same database).
 */
import { openPostgresDatabase, openSqliteDatabase, type SqlDatabase } from '@milagro/storage';
import { findPostgresBinaries, startPostgres, type PostgresCluster } from '../postgres/postgres-cluster';
import { postgresAvailability, reportMissingPostgres, useTestPostgres } from './postgres';

/** A place a database lives; opening it again (another replica, a restart) reaches the same data. */
export interface DatabaseLocation {
  open(): Promise<SqlDatabase>;
}

export interface SqlAdapterUnderTest {
  /** A new, empty location; `path` is where SQLite puts its file (PostgreSQL ignores it). */
  newLocation(path: string): Promise<DatabaseLocation>;
  /** Registers the placeholder test when the adapter cannot run here; true then (skip the rest). */
  reportIfMissing(suite: string): boolean;
}

/** `[name, adapter]` rows for `describe.each`. Call at the top level of a test file. */
export function sqlAdaptersUnderTest(): Array<[string, SqlAdapterUnderTest]> {
  const postgres = postgresAvailability();
  const testPostgres = useTestPostgres();
  return [
    [
      'SQLite',
      {
        newLocation: async (path) => ({ open: () => openSqliteDatabase({ path }) }),
        reportIfMissing: () => false,
      },
    ],
    [
      'PostgreSQL',
      {
        newLocation: async () => {
          const url = await testPostgres.freshDatabaseUrl();
          return { open: () => openPostgresDatabase({ url }) };
        },
        reportIfMissing: (suite) => {
          if ('binaries' in postgres) return false;
          reportMissingPostgres(suite, postgres);
          return true;
        },
      },
    ],
  ];
}

let sharedCluster: Promise<PostgresCluster> | undefined;
const databasesByPath = new Map<string, Promise<string>>();

/** SQLite at `path`, or the PostgreSQL database for `path` when MILAGRO_TEST_DATABASE=postgres. */
export async function openTestDatabase(options: { path: string }): Promise<SqlDatabase> {
  if (process.env['MILAGRO_TEST_DATABASE'] !== 'postgres') return openSqliteDatabase(options);
  if (findPostgresBinaries() === undefined) throw new Error('MILAGRO_TEST_DATABASE=postgres but the PostgreSQL server binaries are not installed');
  // One cluster for the worker process; it is stopped when the process exits (postgres-cluster.ts).
  sharedCluster ??= startPostgres();
  const cluster = await sharedCluster;
  let url = databasesByPath.get(options.path);
  if (url === undefined) {
    url = cluster.createDatabase(`world_${process.pid}_${databasesByPath.size + 1}`);
    databasesByPath.set(options.path, url);
  }
  return openPostgresDatabase({ url: await url });
}
