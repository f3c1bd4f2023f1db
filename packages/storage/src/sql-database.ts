/**
 * The one SQL interface every Milagro repository is written against. Embedded SQLite
 * (`openSqliteDatabase`) is the default; the PostgreSQL adapter (`openPostgresDatabase`, for
 * several replicas) implements the same interface, so repositories and their tests run unchanged
 * on both (packages/storage/test/sql-database-contract.test.ts).
 *
 * Portable SQL only: `?` placeholders (adapters translate them), `INSERT ... ON CONFLICT DO
 * NOTHING` for accept-once records (check `changes`), `BIGINT`/`INTEGER`/`TEXT`/`BLOB` columns
 * (`BLOB` is `BYTEA` on PostgreSQL; write migrations with the `{{blob}}` token).
 */

/**
 * A value bound to a `?` placeholder or read from a column. Text must be well-formed Unicode
 * without NUL, numbers finite, bigints within signed 64 bits; booleans are not values (use 0/1).
 * Integers read back as `number` when they are safe integers (|v| ≤ 2^53 − 1), else as `bigint`.
 * Byte columns read back as `Uint8Array`.
 */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** One row: column name → value. */
export type SqlRow = Record<string, SqlValue>;

/** Runs statements; a {@link SqlDatabase} or the handle inside one of its transactions. */
export interface SqlExecutor {
  /** Runs a statement that returns no rows; `changes` = rows inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ readonly changes: number }>;
  /** The first row, or `undefined`. */
  get<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Every row. */
  all<T extends SqlRow = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
}

/** One schema step of a namespace; applied once, in ascending `version`, inside a transaction. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  /** Statements, run in order. `{{blob}}` becomes the dialect's byte-array type. */
  readonly statements: readonly string[];
}

export interface SqlDatabase extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `work` in one serialisable transaction: committed if it resolves, rolled back if it
   * throws (the error is rethrown). Use only `tx` inside: statements on the database itself from
   * inside are refused (`INVALID_ARGUMENT`), and `tx` refuses statements once the transaction has
   * ended (`CLOSED`). Other callers never see it half done: on SQLite their transactions and
   * statements wait until it ends; on PostgreSQL they run concurrently (`SERIALIZABLE`), and after
   * a serialisation failure `work` runs again from the start, so keep effects outside the database
   * (resolving callers, sending messages) out of `work`. To carry on after a statement fails inside,
   * wrap it in a `SAVEPOINT` (PostgreSQL aborts the rest of the transaction otherwise).
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Applies the not yet applied migrations of `namespace` (e.g. `'dta'`), each once and in its
   * own transaction, even with concurrent callers in several processes. Refuses duplicate or
   * non-ascending versions (`INVALID_ARGUMENT`) and a database migrated by newer code
   * (`SCHEMA_TOO_NEW`).
   */
  migrate(namespace: string, migrations: readonly Migration[]): Promise<void>;
  /**
   * Holds the lock `name` (any string; it names no secret) until released or until the database
   * closes, so that one holder at a time, across every process using this database, does what it
   * guards (e.g. run the one D-TA of an identity). Refused with `LOCK_HELD` while another holds it.
   * On PostgreSQL: a session advisory lock on a connection of its own; when that connection is lost
   * (server restart, failover) the lock is gone and `lost` resolves, and the holder must stop what
   * the lock guarded. On SQLite, whose file belongs to one data dir and so to one process, it is
   * held within this database object and never lost.
   */
  holdLock(name: string): Promise<DatabaseLock>;
  /** Closes after the work already queued, releasing held locks; later calls fail with `CLOSED`. Idempotent. */
  close(): Promise<void>;
}

/** A lock from {@link SqlDatabase.holdLock}. */
export interface DatabaseLock {
  /** Resolves if the lock is lost before it is released (its connection ended). */
  readonly lost: Promise<void>;
  /** Releases the lock. Idempotent. */
  release(): Promise<void>;
}
