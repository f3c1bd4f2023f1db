/**
 * {@link SqlDatabase} over PostgreSQL (the `pg` driver), for several replicas sharing one database.
 *
 * A pool of connections; every transaction is `SERIALIZABLE`, and so is every statement outside one
 * (`default_transaction_isolation`), so that replicas see the outcome of some serial order, as
 * processes sharing one SQLite file do. A serialisation failure or a deadlock (SQLSTATE 40001,
 * 40P01) rolls the transaction back and runs `work` again, with growing jittered pauses, until
 * `retryTimeoutMs`; then the call fails with `BUSY`. Migrations hold a session advisory lock, so
 * replicas starting together apply each step once (docs/adr/0014-postgresql-storage.md).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { StorageError } from './errors.js';
import { applyMigrations } from './migrations.js';
import { checkParameters, integerValue, placeholderOffsets } from './portable-sql.js';
import type { DatabaseLock, Migration, SqlDatabase, SqlExecutor, SqlRow, SqlValue } from './sql-database.js';

/** Options of {@link openPostgresDatabase}. */
export interface PostgresDatabaseOptions {
  /**
   * A libpq connection URI, e.g. `postgresql://milagro@db.internal:5432/milagro?sslmode=verify-full`
   * or `postgresql://milagro@/milagro?host=/run/postgresql`. It may hold a password: keep it in a
   * secret, never in a config file under version control.
   */
  readonly url: string;
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
  /** How long a transaction keeps retrying after serialisation failures before failing with `BUSY` (default 10 000 ms). */
  readonly retryTimeoutMs?: number;
  /** How long to wait for a connection to the server (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
}

const DEFAULT_POOL_SIZE = 10;
const DEFAULT_RETRY_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const TRANSLATION_CACHE_SIZE = 256;
/** The key of the session advisory lock held while migrating ("milagro\0" as a signed 64-bit integer). */
const MIGRATION_LOCK = '7883959119154491136';

const OID = { bool: 16, bytea: 17, int8: 20, numeric: 1700 } as const;
/** The advisory-lock key of a {@link SqlDatabase.holdLock} name: SHA-256 of a labelled name, its first 64 bits as a signed integer. */
function lockKey(name: string): string {
  const digest = createHash('sha256').update(`milagro/storage/lock/v1\0${name}`).digest();
  return digest.readBigInt64BE(0).toString();
}

/** SQLSTATEs after which the whole transaction may succeed if run again. */
const RETRYABLE = new Set(['40001', '40P01']);
/** SQLSTATE classes whose messages name objects, never values; others (22: data exceptions) may quote a value. */
const MESSAGE_SAFE_CLASSES = new Set(['23', '25', '40', '42', '53', '55', '57', '08', '0A', '3D', '28']);

/** The transaction (if any) the current async context runs in: statements on the database itself are refused there. */
const currentTransaction = new AsyncLocalStorage<{ readonly owner: object; active: boolean }>();

/**
 * Connects to a PostgreSQL database (12 or newer, UTF8 encoding) and checks that it answers.
 * Integers read as `number` when safe, else `bigint` (`BIGINT` and integer `NUMERIC` results such as
 * `SUM`); `BYTEA` as `Uint8Array`; booleans as 0/1, as on SQLite.
 *
 * On PostgreSQL `transaction(work)` may run `work` more than once (after a serialisation failure):
 * keep effects outside the database out of `work`, or make them idempotent.
 *
 * @throws {@link StorageError} `FAILED` when the server cannot be reached or is unsuitable.
 */
export async function openPostgresDatabase(options: PostgresDatabaseOptions): Promise<SqlDatabase> {
  const { url } = options;
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  const retryTimeoutMs = options.retryTimeoutMs ?? DEFAULT_RETRY_TIMEOUT_MS;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) throw new StorageError('INVALID_ARGUMENT', 'url must be a postgresql:// connection URI');
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw new StorageError('INVALID_ARGUMENT', 'poolSize must be a positive integer');
  if (!Number.isFinite(retryTimeoutMs) || retryTimeoutMs < 0) throw new StorageError('INVALID_ARGUMENT', 'retryTimeoutMs must be a non-negative number');
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) throw new StorageError('INVALID_ARGUMENT', 'connectTimeoutMs must be a positive number');

  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    options: '-c default_transaction_isolation=serializable -c client_encoding=UTF8',
    types: { getTypeParser: typeParser } as unknown as pg.CustomTypesConfig,
  });
  // An idle connection that the server drops (restart, failover) must not crash the process: the pool replaces it.
  pool.on('error', () => undefined);
  try {
    const row = (await pool.query<{ encoding: string; version: number }>("SELECT current_setting('server_encoding') AS encoding, current_setting('server_version_num')::int AS version")).rows[0];
    if (row?.encoding !== 'UTF8') throw new StorageError('FAILED', `the database encoding is ${String(row?.encoding)}; Milagro needs UTF8`);
    if (row.version < 120000) throw new StorageError('FAILED', `PostgreSQL ${row.version} is too old; Milagro needs 12 or newer`);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw toStorageError(error, 'cannot open the database');
  }
  return new PostgresDatabase(pool, retryTimeoutMs, { connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
}

class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #retryTimeoutMs: number;
  /** `?` SQL → `$n` SQL and its placeholder count, least recently used first. */
  readonly #translations = new Map<string, { readonly text: string; readonly placeholders: number }>();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** How to open a connection of its own for each held lock (the pool's would return it to the pool). */
  readonly #lockConnection: pg.ClientConfig;
  /** Release functions of the held locks. */
  readonly #locks = new Set<() => Promise<void>>();
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(pool: pg.Pool, retryTimeoutMs: number, lockConnection: pg.ClientConfig) {
    this.#pool = pool;
    this.#retryTimeoutMs = retryTimeoutMs;
    this.#lockConnection = lockConnection;
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ readonly changes: number }> {
    const result = await this.#topLevel(sql, params);
    return { changes: result.rowCount ?? 0 };
  }

  async get<T extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.#topLevel(sql, params)).rows[0] as T | undefined;
  }

  async all<T extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.#topLevel(sql, params)).rows as T[];
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#transaction((tx) => work(tx), false);
  }

  migrate(namespace: string, migrations: readonly Migration[]): Promise<void> {
    return applyMigrations({ dialect: this.dialect, migrationTransaction: (work) => this.#transaction(work, true) }, namespace, migrations);
  }

  async holdLock(name: string): Promise<DatabaseLock> {
    this.#enter();
    const client = new pg.Client(this.#lockConnection);
    let released = false;
    let markLost: () => void = () => undefined;
    const lost = new Promise<void>((resolve) => (markLost = resolve));
    // A lost connection is a lost lock (the server ends the session's advisory locks with it).
    const onGone = (): void => {
      if (!released) markLost();
    };
    client.on('error', onGone);
    client.on('end', onGone);
    try {
      await client.connect();
      const row = (await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1) AS held', [lockKey(name)])).rows[0];
      if (row?.held !== true) throw new StorageError('LOCK_HELD', `another connection holds the lock "${name}"`);
    } catch (error) {
      released = true;
      await client.end().catch(() => undefined);
      throw toStorageError(error, `cannot take the lock "${name}"`);
    }
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      this.#locks.delete(release);
      // Ending the session releases its advisory locks.
      await client.end().catch(() => undefined);
    };
    this.#locks.add(release);
    return { lost, release };
  }

  close(): Promise<void> {
    this.#closing = true;
    // Work already started or queued finishes first; then the locks' and the pool's connections close.
    this.#closed ??= Promise.allSettled([...this.#inFlight])
      .then(() => Promise.allSettled([...this.#locks].map((release) => release())))
      .then(() => this.#pool.end());
    return this.#closed;
  }

  #enter(): void {
    if (this.#closing) throw new StorageError('CLOSED', 'the database is closed');
    const scope = currentTransaction.getStore();
    if (scope?.owner === this && scope.active) {
      throw new StorageError('INVALID_ARGUMENT', 'use the transaction handle (tx) inside a transaction: statements on the database run outside it');
    }
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    const forget = (): void => void this.#inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  #translate(sql: string, params: readonly SqlValue[]): pg.QueryConfig {
    let entry = this.#translations.get(sql);
    if (entry === undefined) {
      const offsets = placeholderOffsets(sql);
      let text = '';
      let from = 0;
      offsets.forEach((offset, i) => {
        text += `${sql.slice(from, offset)}$${i + 1}`;
        from = offset + 1;
      });
      entry = { text: text + sql.slice(from), placeholders: offsets.length };
      if (this.#translations.size >= TRANSLATION_CACHE_SIZE) this.#translations.delete(this.#translations.keys().next().value!);
    } else {
      this.#translations.delete(sql); // re-inserted below, as the most recently used
    }
    this.#translations.set(sql, entry);
    checkParameters(entry.placeholders, params);
    // The extended protocol also refuses a second statement, whatever the text holds.
    return { text: entry.text, values: params.map(toDriverValue), queryMode: 'extended' } as pg.QueryConfig;
  }

  async #topLevel(sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult> {
    this.#enter();
    const query = this.#translate(sql, params);
    // Outside a transaction a statement commits on its own; one that failed to serialise did nothing, so it can run again.
    return this.#track(this.#retrying(() => this.#pool.query(query)));
  }

  async #retrying<T>(attempt: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#retryTimeoutMs;
    for (let pause = 2; ; pause = Math.min(pause * 2, 200)) {
      try {
        return await attempt();
      } catch (error) {
        if (!isRetryable(error)) throw toStorageError(error);
        if (Date.now() >= deadline) throw busy(error);
        await sleep(pause / 2 + Math.random() * pause);
      }
    }
  }

  #transaction<T>(work: (tx: SqlExecutor, exec: (sql: string) => Promise<void>) => Promise<T>, migrating: boolean): Promise<T> {
    try {
      this.#enter();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#track(
      (async () => {
        const deadline = Date.now() + this.#retryTimeoutMs;
        for (let pause = 2; ; pause = Math.min(pause * 2, 200)) {
          const outcome = await this.#attempt(work, migrating);
          if ('value' in outcome) return outcome.value;
          if ('failed' in outcome) throw outcome.failed;
          if (Date.now() >= deadline) throw busy(outcome.retry);
          await sleep(pause / 2 + Math.random() * pause);
        }
      })(),
    );
  }

  /** One run of `work` in its own transaction: its value, what it threw, or the serialisation failure that calls for another run. */
  async #attempt<T>(work: (tx: SqlExecutor, exec: (sql: string) => Promise<void>) => Promise<T>, migrating: boolean): Promise<Attempt<T>> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw toStorageError(error, 'cannot connect');
    }
    let broken: Error | undefined;
    try {
      // A session lock taken before BEGIN: the serialisable snapshot is then taken after the previous migrator committed.
      if (migrating) await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        return await this.#inTransaction(client, work);
      } finally {
        if (migrating) await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    } catch (error) {
      // A connection whose state we no longer know (a failed ROLLBACK, a lost socket) is not reused.
      if (!(error instanceof StorageError) || error.code === 'FAILED') broken = error instanceof Error ? error : new Error(String(error));
      throw toStorageError(error);
    } finally {
      client.release(broken);
    }
  }

  async #inTransaction<T>(client: pg.PoolClient, work: (tx: SqlExecutor, exec: (sql: string) => Promise<void>) => Promise<T>): Promise<Attempt<T>> {
    await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    const scope = { owner: this, active: true, retry: undefined as unknown };
    const inside = async (query: () => Promise<pg.QueryResult>): Promise<pg.QueryResult> => {
      if (!scope.active) throw new StorageError('CLOSED', 'the transaction has ended');
      try {
        return await query();
      } catch (error) {
        // Whatever `work` does with this error (a savepoint rollback included), the whole transaction runs again.
        if (isRetryable(error)) scope.retry ??= error;
        throw toStorageError(error);
      }
    };
    const statement = (sql: string, params: readonly SqlValue[]): Promise<pg.QueryResult> => {
      let query: pg.QueryConfig;
      try {
        query = this.#translate(sql, params);
      } catch (error) {
        return Promise.reject(toStorageError(error));
      }
      return inside(() => client.query(query));
    };
    const tx: SqlExecutor = {
      run: async (sql, params = []) => ({ changes: (await statement(sql, params)).rowCount ?? 0 }),
      get: async <R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []) => (await statement(sql, params)).rows[0] as R | undefined,
      all: async <R extends SqlRow = SqlRow>(sql: string, params: readonly SqlValue[] = []) => (await statement(sql, params)).rows as R[],
    };
    // Migration DDL, which may hold several statements (a function body): the simple protocol.
    const exec = async (sql: string): Promise<void> => void (await inside(() => client.query(sql)));

    let value: T;
    try {
      value = await currentTransaction.run(scope, () => work(tx, exec));
    } catch (error) {
      scope.active = false;
      await client.query('ROLLBACK');
      return scope.retry !== undefined ? { retry: scope.retry } : { failed: error };
    }
    scope.active = false;
    if (scope.retry !== undefined) {
      await client.query('ROLLBACK');
      return { retry: scope.retry };
    }
    let committed: pg.QueryResult;
    try {
      committed = await client.query('COMMIT');
    } catch (error) {
      if (isRetryable(error)) return { retry: error };
      throw toStorageError(error, 'commit failed');
    }
    // COMMIT of a transaction aborted by an error that `work` caught is a ROLLBACK: nothing was written.
    if (committed.command === 'ROLLBACK') throw new StorageError('FAILED', 'the transaction was rolled back: a statement in it failed (use a savepoint to recover from a failed statement)');
    return { value };
  }
}

type Attempt<T> = { readonly value: T } | { readonly failed: unknown } | { readonly retry: unknown };

function typeParser(oid: number, format?: string): (text: string) => unknown {
  switch (oid) {
    case OID.int8:
      return (text) => integerValue(BigInt(text));
    case OID.numeric:
      return (text) => (/^-?\d+$/.test(text) && BigInt(text) >= -(2n ** 63n) && BigInt(text) < 2n ** 63n ? integerValue(BigInt(text)) : Number(text));
    case OID.bytea:
      return (text) => new Uint8Array(pg.types.getTypeParser(OID.bytea, 'text')(text) as Buffer);
    case OID.bool:
      return (text) => (text === 't' ? 1 : 0);
    default:
      return pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
  }
}

function toDriverValue(value: SqlValue): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'bigint') return value.toString();
  // -0 is written as 0 (as SQLite stores it); other numbers as their shortest round-trip text.
  return value;
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function isRetryable(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && RETRYABLE.has(state);
}

function busy(cause: unknown): StorageError {
  return new StorageError('BUSY', 'the transaction kept conflicting with concurrent ones for longer than the retry timeout', { cause: safeCause(cause) });
}

const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms));

/**
 * The driver error without what may quote bound values (`detail` names the conflicting key, a data
 * exception's message quotes the value): SQLSTATE, constraint, table and column stay.
 */
function safeCause(error: unknown): Error {
  const state = sqlState(error) ?? 'unknown';
  const { constraint, table, column } = (error ?? {}) as { constraint?: string; table?: string; column?: string };
  const cause = new Error(`PostgreSQL error ${state}${MESSAGE_SAFE_CLASSES.has(state.slice(0, 2)) ? `: ${(error as Error).message}` : ''}`);
  Object.assign(cause, { code: state, constraint, table, column });
  return cause;
}

/** Maps a driver error to a {@link StorageError}; its message and cause never quote bound values. */
function toStorageError(error: unknown, context?: string): StorageError {
  if (error instanceof StorageError) return error;
  const prefix = context === undefined ? '' : `${context}: `;
  const state = sqlState(error);
  if (state === undefined) {
    // pg's own errors (connection refused, timeouts, a closed pool) carry no values.
    const message = error instanceof Error ? error.message : String(error);
    if (/Cannot use a pool after calling end|Client was closed/i.test(message)) return new StorageError('CLOSED', `${prefix}the database is closed`);
    return new StorageError('FAILED', `${prefix}${message}`, { cause: error });
  }
  const cls = state.slice(0, 2);
  const message = `${prefix}${MESSAGE_SAFE_CLASSES.has(cls) ? (error as Error).message : `PostgreSQL refused a value (SQLSTATE ${state})`}`;
  const cause = safeCause(error);
  if (cls === '23') return new StorageError('CONSTRAINT_VIOLATION', message, { cause });
  if (RETRYABLE.has(state) || state === '55P03' || state === '53300') return new StorageError('BUSY', message, { cause });
  return new StorageError('FAILED', message, { cause });
}
