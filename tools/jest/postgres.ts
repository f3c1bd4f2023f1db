/**
 * PostgreSQL for tests: one throw-away cluster per test file (tools/postgres/postgres-cluster.ts),
 * started on first use and stopped after the file, and a fresh empty database per call.
 *
 * When the server binaries are absent, a CI run must fail (a silently skipped PostgreSQL suite proves
 * nothing) while a developer run skips with the reason, as the Kubo suites do.
 */
import { findPostgresBinaries, POSTGRES_PACKAGE, startPostgres, type PostgresCluster } from '../postgres/postgres-cluster';

export type PostgresAvailability = { readonly binaries: string } | { readonly missing: string; readonly mustFail: boolean };

export function postgresAvailability(): PostgresAvailability {
  const binaries = findPostgresBinaries();
  if (binaries !== undefined) return { binaries };
  const missing = `PostgreSQL server binaries not found (apt-get install ${POSTGRES_PACKAGE}, or set MILAGRO_POSTGRES_BIN to the dir holding initdb and postgres)`;
  return { missing, mustFail: process.env['CI'] !== undefined && process.env['CI'] !== '' };
}

/** Registers the placeholder test of a PostgreSQL suite that cannot run: failing in CI, skipped elsewhere. */
export function reportMissingPostgres(suite: string, availability: { readonly missing: string; readonly mustFail: boolean }): void {
  if (availability.mustFail) {
    it(`${suite} needs PostgreSQL: ${availability.missing}`, () => {
      throw new Error(`${availability.missing}; CI must run the PostgreSQL tests`);
    });
    return;
  }
  it.skip(`${suite} SKIPPED: ${availability.missing}`, () => undefined);
  console.warn(`[postgres] ${suite} skipped: ${availability.missing}`);
}

/** A cluster for the current test file. */
export interface TestPostgres {
  /** Creates a new, empty database (starting the cluster on first use) and returns its URI. */
  freshDatabaseUrl(): Promise<string>;
  /** The running cluster (starting it on first use). */
  cluster(): Promise<PostgresCluster>;
}

/** Call at the top level of a test file (or a describe): the cluster is stopped after the file's tests. */
export function useTestPostgres(): TestPostgres {
  let started: Promise<PostgresCluster> | undefined;
  let databases = 0;
  const cluster = (): Promise<PostgresCluster> => (started ??= startPostgres());
  afterAll(async () => {
    if (started !== undefined) await (await started).stop();
  }, 60_000);
  return {
    cluster,
    freshDatabaseUrl: async () => (await cluster()).createDatabase(`test_${process.pid}_${++databases}`),
  };
}
