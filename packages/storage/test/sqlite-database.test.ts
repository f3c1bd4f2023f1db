// What is the SQLite adapter's own (durability pragmas, reopening, two connections contending for
// the write lock, callers waiting for an open transaction); the shared contract runs in
// sql-database-contract.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStorageError, openSqliteDatabase } from '@milagro/storage';

let directory: string;
let files = 0;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'milagro-storage-'));
});
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});
const freshFile = (): string => join(directory, `db-${++files}.sqlite`);

describe('openSqliteDatabase', () => {
  test('a file database runs in WAL mode with synchronous=FULL and foreign keys on', async () => {
    const db = await openSqliteDatabase({ path: freshFile() });
    expect(await db.get('PRAGMA journal_mode')).toEqual({ journal_mode: 'wal' });
    expect(await db.get('PRAGMA synchronous')).toEqual({ synchronous: 2 }); // 2 = FULL
    expect(await db.get('PRAGMA foreign_keys')).toEqual({ foreign_keys: 1 });
    expect(db.dialect).toBe('sqlite');
    await db.close();
  });

  test('what was committed is there after reopening the file', async () => {
    const path = freshFile();
    const first = await openSqliteDatabase({ path });
    await first.migrate('kv', [{ version: 1, description: 'kv', statements: ['CREATE TABLE kv (k TEXT PRIMARY KEY, v {{blob}})'] }]);
    await first.run('INSERT INTO kv (k, v) VALUES (?, ?)', ['a', new Uint8Array([7])]);
    await first.close();
    const second = await openSqliteDatabase({ path });
    await second.migrate('kv', [{ version: 1, description: 'kv', statements: ['CREATE TABLE kv (k TEXT PRIMARY KEY, v {{blob}})'] }]);
    expect(await second.all('SELECT k, v FROM kv')).toEqual([{ k: 'a', v: new Uint8Array([7]) }]);
    await second.close();
  });

  test('a file that is not a database is refused with FAILED', async () => {
    const path = freshFile();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'this is not a database, just text that is long enough to have a header '.repeat(20));
    const error = await openSqliteDatabase({ path }).catch((reason: unknown) => reason);
    expect(isStorageError(error, 'FAILED')).toBe(true);
  });

  test('a statement from another caller waits for the open transaction and then sees its commit', async () => {
    const db = await openSqliteDatabase({ path: freshFile() });
    await db.run('CREATE TABLE counter (value BIGINT NOT NULL)');
    await db.run('INSERT INTO counter (value) VALUES (0)');
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const transaction = db.transaction(async (tx) => {
      await tx.run('UPDATE counter SET value = 1');
      entered();
      await held;
      await tx.run('UPDATE counter SET value = 2');
    });
    await inside;
    let read: unknown;
    const reader = db.get('SELECT value FROM counter').then((row) => {
      read = row;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(read).toBeUndefined(); // still waiting: it must not see the half-done value 1
    release();
    await Promise.all([transaction, reader]);
    expect(read).toEqual({ value: 2 });
    await db.close();
  });

  test('a lock is held once until released; a closed database holds none', async () => {
    const db = await openSqliteDatabase({ path: ':memory:' });
    const held = await db.holdLock('role/dta/bafy-one');
    expect(isStorageError(await db.holdLock('role/dta/bafy-one').catch((reason: unknown) => reason), 'LOCK_HELD')).toBe(true);
    await (await db.holdLock('role/dta/bafy-two')).release();
    await held.release();
    await (await db.holdLock('role/dta/bafy-one')).release();
    await db.close();
    expect(isStorageError(await db.holdLock('role/dta/bafy-one').catch((reason: unknown) => reason), 'CLOSED')).toBe(true);
  });

  test('bad options are INVALID_ARGUMENT', async () => {
    for (const options of [{ path: '' }, { path: freshFile(), busyTimeoutMs: -1 }]) {
      const error = await openSqliteDatabase(options).catch((reason: unknown) => reason);
      expect(isStorageError(error, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});

describe('two connections to one file', () => {
  test('a writer waits (without blocking the event loop) for the other connection’s transaction', async () => {
    const path = freshFile();
    const a = await openSqliteDatabase({ path });
    const b = await openSqliteDatabase({ path });
    await a.migrate('counter', [{ version: 1, description: 'counter', statements: ['CREATE TABLE counter (value BIGINT NOT NULL)', 'INSERT INTO counter VALUES (0)'] }]);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const holder = a.transaction(async (tx) => {
      await tx.run('UPDATE counter SET value = value + 1');
      entered();
      await held;
    });
    await inside;
    const waiter = b.transaction((tx) => tx.run('UPDATE counter SET value = value + 10'));
    // The event loop keeps turning while b waits: this timer fires and releases a.
    setTimeout(release, 200);
    await Promise.all([holder, waiter]);
    expect(await b.get('SELECT value FROM counter')).toEqual({ value: 11 });
    await a.close();
    await b.close();
  });

  test('a writer that waits longer than busyTimeoutMs fails with BUSY and changes nothing', async () => {
    const path = freshFile();
    const a = await openSqliteDatabase({ path });
    const b = await openSqliteDatabase({ path, busyTimeoutMs: 150 });
    await a.run('CREATE TABLE t (id BIGINT)');
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const holder = a.transaction(async (tx) => {
      await tx.run('INSERT INTO t VALUES (1)');
      entered();
      await held;
    });
    await inside;
    const started = Date.now();
    const errors = await Promise.all([b.run('INSERT INTO t VALUES (2)'), b.transaction((tx) => tx.run('INSERT INTO t VALUES (3)'))].map((p) => p.catch((reason: unknown) => reason)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    for (const error of errors) expect(isStorageError(error, 'BUSY')).toBe(true);
    release();
    await holder;
    expect(await b.all('SELECT id FROM t')).toEqual([{ id: 1 }]);
    await a.close();
    await b.close();
  });
});
