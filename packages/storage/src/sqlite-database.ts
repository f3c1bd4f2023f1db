/**
 * {@link SqlDatabase} over Node's built-in `node:sqlite` (no native addon).
 *
 * One synchronous connection per instance. Because `transaction` takes async work, the instance
 * serialises: while a transaction is open, other transactions and top-level statements wait in
 * one FIFO queue. Across processes, `BEGIN IMMEDIATE` takes SQLite's write lock up front, and a
 * writer that finds it held retries asynchronously (the event loop keeps running) until
 * `busyTimeoutMs`, then fails with `BUSY`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { StorageError } from './errors.js';
import { applyMigrations } from './migrations.js';
import { checkParameters, integerValue, placeholderOffsets } from './portable-sql.js';
import type { DatabaseLock, Migration, SqlDatabase, SqlExecutor, SqlRow, SqlValue } from './sql-database.js';

/** Options of {@link openSqliteDatabase}. */
export interface SqliteDatabaseOptions {
  /** The database file (created if missing), or `':memory:'` for a private database that is never durable. */
  readonly path: string;
  /** How long a write waits for another process's write lock before failing with `BUSY` (default 10 000 ms). */
  readonly busyTimeoutMs?: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;
/** SQLite's own (blocking) busy wait: absorbs brief locks such as a checkpoint; longer waits are async. */
const SYNC_BUSY_WAIT_MS = 50;
const STATEMENT_CACHE_SIZE = 256;

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CONSTRAINT = 19;
const SQLITE_RANGE = 25;

/** The transaction (if any) the current async context runs in: statements on the database itself would deadlock there. */
const currentTransaction = new AsyncLocalStorage<{ readonly owner: object; active: boolean }>();

/**
 * Opens (creating if needed) a SQLite database file. Durable by default: WAL journal with
 * `synchronous=FULL` (every commit is fsynced before it resolves, so nothing committed is lost to
 * a process crash or a power cut), `foreign_keys=ON`, defensive mode, and a busy timeout so that
 * several processes can share the file.
 *
 * @throws {@link StorageError} `FAILED` when the file cannot be opened or WAL cannot be enabled,
 *   `BUSY` when another process keeps it locked.
 */
export async function openSqliteDatabase(options: SqliteDatabaseOptions): Promise<SqlDatabase> {
  const { path } = options;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (typeof path !== 'string' || path === '') throw new StorageError('INVALID_ARGUMENT', 'path must be a file path or ":memory:"');
  if (!Number.isFinite(busyTimeoutMs) || busyTimeoutMs < 0) throw new StorageError('INVALID_ARGUMENT', 'busyTimeoutMs must be a non-negative number');
  const inMemory = path === ':memory:';

  let connection: DatabaseSync;
  try {
    connection = new DatabaseSync(path, {
      enableForeignKeyConstraints: true,
      enableDoubleQuotedStringLiterals: false,
      defensive: true,
      timeout: Math.min(busyTimeoutMs, SYNC_BUSY_WAIT_MS),
    });
  } catch (error) {
    throw toStorageError(error, 'cannot open the database');
  }
  try {
    const deadline = Date.now() + busyTimeoutMs;
    // Switching to WAL needs a moment of exclusive access: another process opening the same file may hold it.
    const mode = await retryWhileBusy(deadline, () => connection.prepare('PRAGMA journal_mode = WAL').get()?.['journal_mode']);
    if (!inMemory && mode !== 'wal') throw new StorageError('FAILED', `cannot enable WAL on this file system (journal_mode is ${String(mode)})`);
    connection.exec('PRAGMA synchronous = FULL');
    connection.exec('PRAGMA foreign_keys = ON');
    connection.exec('PRAGMA trusted_schema = OFF');
    // The WAL file's directory entry is fsynced by SQLite; the new database file's is ours to sync.
    if (!inMemory) syncDirectory(dirname(resolve(path)));
  } catch (error) {
    connection.close();
    throw toStorageError(error, 'cannot open the database');
  }
  return new SqliteDatabase(connection, busyTimeoutMs);
}

class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  readonly #connection: DatabaseSync;
  readonly #busyTimeoutMs: number;
  /** Prepared statements and their placeholder counts, least recently used first. */
  readonly #statements = new Map<string, { readonly statement: StatementSync; readonly placeholders: number }>();
  #queue: Promise<unknown> = Promise.resolve();
  #closing = false;
  #closed: Promise<void> | undefined;
  /** Names of the locks held (within this object: the file belongs to one data dir, so to one process). */
  readonly #locks = new Set<string>();

  constructor(connection: DatabaseSync, busyTimeoutMs: number) {
    this.#connection = connection;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<{ readonly changes: number }> {
    return this.#topLevel(() => this.#run(sql, params));
  }

  get<T extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.#topLevel(() => this.#get<T>(sql, params));
  }

  all<T extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#topLevel(() => this.#all<T>(sql, params));
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#transaction((tx) => work(tx));
  }

  migrate(namespace: string, migrations: readonly Migration[]): Promise<void> {
    return applyMigrations({ dialect: this.dialect, migrationTransaction: (work) => this.#transaction(work) }, namespace, migrations);
  }

  holdLock(name: string): Promise<DatabaseLock> {
    if (this.#closing) return Promise.reject(new StorageError('CLOSED', 'the database is closed'));
    if (this.#locks.has(name)) return Promise.reject(new StorageError('LOCK_HELD', `the lock "${name}" is held`));
    this.#locks.add(name);
    const release = async (): Promise<void> => void this.#locks.delete(name);
    return Promise.resolve({ lost: new Promise<void>(() => undefined), release });
  }

  close(): Promise<void> {
    this.#closing = true;
    this.#locks.clear();
    // Work queued before close still runs; the connection closes after it.
    this.#closed ??= this.#serialised(async () => {
      this.#statements.clear();
      this.#connection.close();
    });
    return this.#closed;
  }

  /** Runs `task` after everything queued before it; a failed task does not block the queue. */
  #serialised<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #enter(): void {
    if (this.#closing) throw new StorageError('CLOSED', 'the database is closed');
    const scope = currentTransaction.getStore();
    if (scope?.owner === this && scope.active) {
      throw new StorageError('INVALID_ARGUMENT', 'use the transaction handle (tx) inside a transaction: the database waits for the transaction to end');
    }
  }

  async #topLevel<T>(statement: () => T): Promise<T> {
    this.#enter();
    // Outside a transaction each statement commits on its own; one that met BUSY did nothing, so it can be retried.
    return this.#serialised(() => retryWhileBusy(Date.now() + this.#busyTimeoutMs, statement));
  }

  async #transaction<T>(work: (tx: SqlExecutor, exec: (sql: string) => Promise<void>) => Promise<T>): Promise<T> {
    this.#enter();
    return this.#serialised(async () => {
      this.#rollback(); // only if an earlier rollback failed and left a transaction open
      await retryWhileBusy(Date.now() + this.#busyTimeoutMs, () => this.#connection.exec('BEGIN IMMEDIATE'));
      const scope = { owner: this, active: true };
      const inside = <R>(statement: () => R): Promise<R> => {
        if (!scope.active) return Promise.reject(new StorageError('CLOSED', 'the transaction has ended'));
        try {
          return Promise.resolve(statement());
        } catch (error) {
          return Promise.reject(toStorageError(error));
        }
      };
      const tx: SqlExecutor = {
        run: (sql, params = []) => inside(() => this.#run(sql, params)),
        get: <R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []) => inside(() => this.#get<R>(sql, params)),
        all: <R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []) => inside(() => this.#all<R>(sql, params)),
      };
      const exec = (sql: string): Promise<void> => inside(() => this.#connection.exec(sql));
      let result: T;
      try {
        result = await currentTransaction.run(scope, () => work(tx, exec));
      } catch (error) {
        scope.active = false;
        this.#rollback();
        throw error;
      }
      scope.active = false;
      try {
        this.#connection.exec('COMMIT');
      } catch (error) {
        this.#rollback();
        throw toStorageError(error, 'commit failed');
      }
      return result;
    });
  }

  #rollback(): void {
    // SQLite rolls back by itself after some errors (a full disk); then there is nothing left to undo.
    if (!this.#connection.isTransaction) return;
    try {
      this.#connection.exec('ROLLBACK');
    } catch {
      // Keep the error that made us roll back; the next transaction tries again before it begins.
    }
  }

  #statement(sql: string, params: readonly SqlValue[]): StatementSync {
    let entry = this.#statements.get(sql);
    if (entry === undefined) {
      const placeholders = placeholderOffsets(sql).length;
      const statement = this.#connection.prepare(sql);
      // Every integer as bigint, so that toRow can tell the safe ones (→ number) from the rest.
      statement.setReadBigInts(true);
      entry = { statement, placeholders };
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.delete(this.#statements.keys().next().value!);
    } else {
      this.#statements.delete(sql); // re-inserted below, as the most recently used
    }
    this.#statements.set(sql, entry);
    checkParameters(entry.placeholders, params);
    return entry.statement;
  }

  #run(sql: string, params: readonly SqlValue[]): { readonly changes: number } {
    const { changes } = this.#statement(sql, params).run(...(params as SqlValue[]));
    return { changes: Number(changes) };
  }

  #get<T extends SqlRow>(sql: string, params: readonly SqlValue[]): T | undefined {
    const row = this.#statement(sql, params).get(...(params as SqlValue[]));
    return row === undefined ? undefined : (toRow(row) as T);
  }

  #all<T extends SqlRow>(sql: string, params: readonly SqlValue[]): T[] {
    return this.#statement(sql, params)
      .all(...(params as SqlValue[]))
      .map((row) => toRow(row) as T);
  }
}

/** A plain object with integers as `number` when safe, `bigint` otherwise. */
function toRow(row: Record<string, unknown>): SqlRow {
  // fromEntries defines own properties, so even a column named __proto__ stays a column.
  return Object.fromEntries(Object.entries(row).map(([column, value]) => [column, typeof value === 'bigint' ? integerValue(value) : value])) as SqlRow;
}

/**
 * Runs `attempt`, retrying after SQLITE_BUSY with growing, jittered pauses until `deadline`.
 * Only for operations that change nothing when they fail with BUSY (BEGIN, an autocommit statement).
 */
async function retryWhileBusy<T>(deadline: number, attempt: () => T): Promise<T> {
  for (let pause = 2; ; pause = Math.min(pause * 2, 100)) {
    try {
      return attempt();
    } catch (error) {
      const storageError = toStorageError(error);
      if (storageError.code !== 'BUSY') throw storageError;
      if (Date.now() >= deadline) throw new StorageError('BUSY', 'the database stayed locked by another connection for longer than the busy timeout', { cause: error });
      await new Promise((wake) => setTimeout(wake, pause / 2 + Math.random() * pause));
    }
  }
}

/** Maps a driver error to a {@link StorageError}. Node's argument errors can quote the value, so they are not kept as the cause. */
function toStorageError(error: unknown, context?: string): StorageError {
  if (error instanceof StorageError) return error;
  const prefix = context === undefined ? '' : `${context}: `;
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  if (code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number') {
    // SQLite's messages name tables, columns and constraints, never bound values.
    const message = `${prefix}${(error as Error).message}`;
    switch (errcode & 0xff) {
      case SQLITE_CONSTRAINT:
        return new StorageError('CONSTRAINT_VIOLATION', message, { cause: error });
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return new StorageError('BUSY', message, { cause: error });
      case SQLITE_RANGE:
        return new StorageError('INVALID_ARGUMENT', message, { cause: error });
      default:
        return new StorageError('FAILED', message, { cause: error });
    }
  }
  if (code === 'ERR_INVALID_STATE') return new StorageError('CLOSED', `${prefix}the database is closed`);
  if (typeof code === 'string' && code.startsWith('ERR_INVALID_ARG')) return new StorageError('INVALID_ARGUMENT', `${prefix}a value cannot be bound`);
  return new StorageError('FAILED', `${prefix}unexpected driver error`, { cause: error });
}

function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
