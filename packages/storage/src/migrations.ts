/**
 * Schema migrations, shared by every adapter. Each step runs in its own transaction that first
 * re-reads what is applied, so several processes migrating the same database at once each apply
 * a step at most once: the database's transaction serialisation is the only lock needed.
 */
import { StorageError } from './errors.js';
import { migrationStatement } from './portable-sql.js';
import type { Migration, SqlDatabase, SqlExecutor } from './sql-database.js';

/** What {@link applyMigrations} needs of an adapter: a transaction that can also run raw DDL (triggers hold `;`). */
export interface MigrationHost {
  readonly dialect: SqlDatabase['dialect'];
  migrationTransaction<T>(work: (tx: SqlExecutor, exec: (sql: string) => Promise<void>) => Promise<T>): Promise<T>;
}

const NAMESPACE = /^[a-z0-9][a-z0-9._/-]{0,127}$/;

const LEDGER = `CREATE TABLE IF NOT EXISTS milagro_migrations (
  namespace TEXT NOT NULL,
  version BIGINT NOT NULL,
  description TEXT NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (namespace, version)
)`;

/** Applies the pending `migrations` of `namespace` in ascending version, one transaction each. */
export async function applyMigrations(host: MigrationHost, namespace: string, migrations: readonly Migration[], now: () => number = Date.now): Promise<void> {
  checkMigrations(namespace, migrations);
  for (;;) {
    const applied = await host.migrationTransaction(async (tx, exec) => {
      await exec(LEDGER);
      const rows = await tx.all<{ version: number }>('SELECT version FROM milagro_migrations WHERE namespace = ? ORDER BY version', [namespace]);
      const versions = rows.map((row) => Number(row.version));
      checkHistory(namespace, versions, migrations);
      const next = migrations[versions.length];
      if (next === undefined) return false;
      for (const statement of next.statements) await exec(migrationStatement(statement, host.dialect));
      await tx.run('INSERT INTO milagro_migrations (namespace, version, description, applied_at) VALUES (?, ?, ?, ?)', [
        namespace,
        next.version,
        next.description,
        now(),
      ]);
      return true;
    });
    if (!applied) return;
  }
}

function checkMigrations(namespace: string, migrations: readonly Migration[]): void {
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
    throw new StorageError('INVALID_ARGUMENT', 'a migration namespace is 1-128 characters of a-z 0-9 . _ / -, starting with a letter or digit');
  }
  if (!Array.isArray(migrations)) throw new StorageError('INVALID_ARGUMENT', 'migrations must be an array');
  let previous = 0;
  for (const migration of migrations) {
    const { version, statements, description } = migration;
    if (!Number.isSafeInteger(version) || version <= previous) {
      throw new StorageError('INVALID_ARGUMENT', `migration versions of ${namespace} must be positive integers in strictly ascending order (got ${String(version)} after ${previous})`);
    }
    if (typeof description !== 'string' || !Array.isArray(statements) || !statements.every((s) => typeof s === 'string')) {
      throw new StorageError('INVALID_ARGUMENT', `migration ${version} of ${namespace} needs a description and string statements`);
    }
    previous = version;
  }
}

/** The applied versions must be the first ones of `migrations`: anything else was written by other code. */
function checkHistory(namespace: string, applied: readonly number[], migrations: readonly Migration[]): void {
  const newest = applied.at(-1) ?? 0;
  const known = migrations.at(-1)?.version ?? 0;
  if (newest > known) {
    throw new StorageError('SCHEMA_TOO_NEW', `the database has ${namespace} schema version ${newest}; this code knows up to ${known}`);
  }
  applied.forEach((version, i) => {
    if (migrations[i]?.version !== version) {
      throw new StorageError('FAILED', `the applied ${namespace} migrations (${applied.join(', ')}) are not a prefix of the known ones`);
    }
  });
}
