/**
 * @packageDocumentation
 * Server state for Milagro: one {@link SqlDatabase} interface that repositories are written
 * against, with transactions and per-namespace migrations. Embedded SQLite over Node's built-in
 * `node:sqlite` is the default ({@link openSqliteDatabase}); PostgreSQL, for several replicas on
 * one database ({@link openPostgresDatabase}), implements the same interface and passes the same
 * contract suite.
 *
 * @example
 * ```ts
 * import { openSqliteDatabase } from '@milagro/storage';
 *
 * const db = await openSqliteDatabase({ path: './state.db' });
 * await db.migrate('orders', [
 *   { version: 1, description: 'orders', statements: ['CREATE TABLE orders (reference TEXT PRIMARY KEY, secret {{blob}} NOT NULL)'] },
 * ]);
 * // Accept once: a replayed reference changes nothing.
 * const { changes } = await db.run('INSERT INTO orders (reference, secret) VALUES (?, ?) ON CONFLICT DO NOTHING', ['r-1', new Uint8Array(32)]);
 * await db.transaction(async (tx) => {
 *   const row = await tx.get<{ secret: Uint8Array }>('SELECT secret FROM orders WHERE reference = ?', ['r-1']);
 *   await tx.run('DELETE FROM orders WHERE reference = ?', ['r-1']);
 *   return row?.secret;
 * });
 * await db.close();
 * ```
 */
export { StorageError, isStorageError, type StorageErrorCode } from './errors.js';
export type { DatabaseLock, Migration, SqlDatabase, SqlExecutor, SqlRow, SqlValue } from './sql-database.js';
export { openPostgresDatabase, type PostgresDatabaseOptions } from './postgres-database.js';
export { openSqliteDatabase, type SqliteDatabaseOptions } from './sqlite-database.js';
