/**
 * The rules every adapter applies before a statement reaches its driver, so that a repository
 * behaves the same on SQLite and PostgreSQL: one statement per call, positional `?` parameters
 * only and exactly as many values as placeholders, values of the {@link SqlValue} types only.
 */
import { StorageError } from './errors.js';
import type { SqlDatabase, SqlValue } from './sql-database.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** A lone surrogate (in a `u` regex, only an unpaired one is a `Cs` code point) or NUL. */
// eslint-disable-next-line no-control-regex
const UNSTORABLE_TEXT = /[\p{Cs}\u0000]/u;
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Offsets of the `?` placeholders of `sql`, skipping string literals, quoted identifiers and
 * comments. Refuses numbered placeholders (`?1`) and a second statement after a `;`: drivers
 * would silently bind NULL to missing values or ignore the rest of the text.
 */
export function placeholderOffsets(sql: string): number[] {
  const offsets: number[] = [];
  let statementEnded = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    const skipTo = endOfQuotedOrComment(sql, i);
    if (skipTo !== i) {
      if (statementEnded && !(c === '-' || c === '/')) throw severalStatements();
      i = skipTo - 1;
      continue;
    }
    if (/\s/.test(c)) continue;
    if (statementEnded) throw severalStatements();
    if (c === ';') statementEnded = true;
    else if (c === '?') {
      if (/[0-9]/.test(sql[i + 1] ?? '')) throw new StorageError('INVALID_ARGUMENT', 'numbered placeholders (?1) are not portable: use ?');
      offsets.push(i);
    }
  }
  return offsets;
}

/** Index just past the literal, quoted identifier or comment starting at `i`, or `i` if none starts there. */
function endOfQuotedOrComment(sql: string, i: number): number {
  const c = sql[i];
  const close = c === "'" ? "'" : c === '"' ? '"' : c === '`' ? '`' : c === '[' ? ']' : undefined;
  if (close !== undefined) {
    // A doubled quote inside is an escaped quote: scanning on from the second finds the real end.
    const end = sql.indexOf(close, i + 1);
    if (end < 0) throw new StorageError('INVALID_ARGUMENT', 'unterminated quoted text in SQL');
    return end + 1;
  }
  if (c === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end + 1;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2);
    if (end < 0) throw new StorageError('INVALID_ARGUMENT', 'unterminated comment in SQL');
    return end + 2;
  }
  return i;
}

function severalStatements(): StorageError {
  return new StorageError('INVALID_ARGUMENT', 'one statement per call');
}

/**
 * Checks that `params` fits a statement with `expected` placeholders: one value each, each a
 * {@link SqlValue}. Error messages name the parameter's position and type, never its value.
 */
export function checkParameters(expected: number, params: readonly SqlValue[]): void {
  if (!Array.isArray(params)) throw new StorageError('INVALID_ARGUMENT', 'params must be an array');
  if (params.length !== expected) {
    throw new StorageError('INVALID_ARGUMENT', `the statement has ${expected} placeholder(s) but ${params.length} value(s) were given`);
  }
  params.forEach(checkValue);
}

function checkValue(value: unknown, index: number): void {
  if (value === null || value instanceof Uint8Array) return;
  if (typeof value === 'string') {
    // PostgreSQL refuses NUL in text and every driver mangles lone surrogates: neither can round-trip.
    if (!UNSTORABLE_TEXT.test(value)) return;
    throw new StorageError('INVALID_ARGUMENT', `parameter ${index + 1} is not well-formed Unicode text without NUL characters`);
  }
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return;
    throw new StorageError('INVALID_ARGUMENT', `parameter ${index + 1} is not a finite number`);
  }
  if (typeof value === 'bigint') {
    if (value >= INT64_MIN && value <= INT64_MAX) return;
    throw new StorageError('INVALID_ARGUMENT', `parameter ${index + 1} does not fit in a signed 64-bit integer`);
  }
  const kind = value === undefined ? 'undefined' : typeof value === 'object' ? 'an object that is not a Uint8Array' : `a ${typeof value}`;
  throw new StorageError('INVALID_ARGUMENT', `parameter ${index + 1} is ${kind}, not a SqlValue`);
}

/** An integer read from the database: a `number` when it is a safe integer, a `bigint` otherwise. */
export function integerValue(value: bigint): number | bigint {
  return value >= SAFE_MIN && value <= SAFE_MAX ? Number(value) : value;
}

/** A migration statement in `dialect`: `{{blob}}` becomes the byte-array column type. */
export function migrationStatement(sql: string, dialect: SqlDatabase['dialect']): string {
  return sql.replaceAll('{{blob}}', dialect === 'postgres' ? 'BYTEA' : 'BLOB');
}
