/**
 * The one SQL interface every Milagro repository is written against. Embedded SQLite
 * (`openSqliteDatabase`) is the default; a PostgreSQL adapter (for several replicas) implements
 * the same interface, so repositories and their tests run unchanged on both.
 *
 * Portable SQL only: `?` placeholders (adapters translate them), `INSERT ... ON CONFLICT DO
 * NOTHING` for accept-once records (check `changes`), `BIGINT`/`INTEGER`/`TEXT`/`BLOB` columns
 * (`BLOB` is `BYTEA` on PostgreSQL; write migrations with the `{{blob}}` token).
 */

/** A value bound to a `?` placeholder or read from a column. */
export type SqlValue = string | number | bigint | Uint8Array | null;

/** One row: column name → value (integers that fit in a double come back as `number`). */
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
   * throws (the error is rethrown). Use only `tx` inside.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Applies the not yet applied migrations of `namespace` (e.g. `'dta'`), each once, even with concurrent callers. */
  migrate(namespace: string, migrations: readonly Migration[]): Promise<void>;
  close(): Promise<void>;
}
