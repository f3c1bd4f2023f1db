// What every SqlDatabase adapter must do, so that repositories and their tests run unchanged on
// SQLite and PostgreSQL. sql-database-contract.test.ts calls describeSqlDatabase once per adapter
// with a factory that returns a NEW, EMPTY database each time (a temp file, a fresh database).
import fc from 'fast-check';
import { isStorageError, type Migration, type SqlDatabase, type SqlValue, type StorageErrorCode } from '@milagro/storage';

/** Resolves with the StorageError code `promise` rejects with (fails the test if it resolves or throws something else). */
async function rejectionCode(promise: Promise<unknown>): Promise<StorageErrorCode> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
  if (!isStorageError(error)) throw error;
  return error.code;
}

/** A promise resolved from outside: holds a transaction open while a test looks at what waits for it. */
function gate(): { readonly opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const COUNTER: Migration[] = [
  { version: 1, description: 'counter', statements: ['CREATE TABLE counter (id TEXT PRIMARY KEY, value BIGINT NOT NULL)', "INSERT INTO counter (id, value) VALUES ('c', 0)"] },
];

export function describeSqlDatabase(name: string, open: () => Promise<SqlDatabase>): void {
  describe(`SqlDatabase conformance: ${name}`, () => {
    let db: SqlDatabase;
    beforeEach(async () => {
      db = await open();
    });
    afterEach(async () => {
      await db.close();
    });

    describe('values', () => {
      beforeEach(async () => {
        await db.migrate('values', [
          {
            version: 1,
            description: 'one column per type',
            statements: ['CREATE TABLE v (id BIGINT PRIMARY KEY, t TEXT, i BIGINT, r DOUBLE PRECISION, b {{blob}})'],
          },
        ]);
      });

      test('every SqlValue type round-trips; integers read as number when safe, else bigint', async () => {
        const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
        const row = fc.record({
          t: fc.option(fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\u0000'))),
          i: fc.option(fc.oneof(fc.maxSafeInteger(), int64)),
          // -0 may read back as 0 (SQLite), so it is left out.
          r: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0))),
          b: fc.option(fc.uint8Array({ maxLength: 300 })),
        });
        const safe = (i: number | bigint | null): number | bigint | null =>
          typeof i === 'bigint' && i >= BigInt(Number.MIN_SAFE_INTEGER) && i <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(i) : i;
        // A batch per run, one commit each: durable commits are slow, values are what is under test.
        await fc.assert(
          fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 20 }), async (rows) => {
            await db.transaction(async (tx) => {
              await tx.run('DELETE FROM v');
              for (const [id, { t, i, r, b }] of rows.entries()) await tx.run('INSERT INTO v (id, t, i, r, b) VALUES (?, ?, ?, ?, ?)', [id, t, i, r, b]);
            });
            const read = await db.all('SELECT t, i, r, b FROM v ORDER BY id');
            expect(read).toEqual(rows.map(({ t, i, r, b }) => ({ t, i: safe(i), r, b })));
            for (const { b } of read) if (b !== null) expect(Object.getPrototypeOf(b)).toBe(Uint8Array.prototype);
          }),
          { numRuns: 50 },
        );
      });

      test('the edges of 64-bit integers and of the safe range keep their exact value', async () => {
        const edges = [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, -(2n ** 53n), 2n ** 53n - 1n, 0n];
        for (const [index, value] of edges.entries()) await db.run('INSERT INTO v (id, i) VALUES (?, ?)', [index, value]);
        const rows = await db.all<{ i: number | bigint }>('SELECT i FROM v ORDER BY id');
        expect(rows.map((row) => row.i)).toEqual([2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, -(2n ** 53n), Number.MAX_SAFE_INTEGER, 0]);
      });

      test('a byte view binds only its own bytes', async () => {
        const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
        await db.run('INSERT INTO v (id, b) VALUES (?, ?)', [1, backing.subarray(2, 5)]);
        expect(await db.get('SELECT b FROM v WHERE id = 1')).toEqual({ b: new Uint8Array([1, 2, 3]) });
      });

      test('values that are not SqlValues are refused, and the message does not quote them', async () => {
        const refused: unknown[] = [true, undefined, Number.NaN, Number.POSITIVE_INFINITY, 2n ** 63n, { secret: 'x' }, ['x'], 'nul\u0000-secret', '\ud800-secret'];
        for (const value of refused) {
          const error = await db.run('INSERT INTO v (id, t) VALUES (?, ?)', [1, value as SqlValue]).catch((reason: unknown) => reason);
          expect(isStorageError(error, 'INVALID_ARGUMENT')).toBe(true);
          expect((error as Error).message).not.toContain('secret');
        }
        expect(await db.all('SELECT id FROM v')).toEqual([]);
      });

      test('the number of values must match the ? placeholders (those in literals and comments do not count)', async () => {
        expect(await rejectionCode(db.run('INSERT INTO v (id, t) VALUES (?, ?)', [1]))).toBe('INVALID_ARGUMENT');
        expect(await rejectionCode(db.run('INSERT INTO v (id) VALUES (?)', [1, 2]))).toBe('INVALID_ARGUMENT');
        await db.run("INSERT INTO v (id, t) VALUES (?, '?') -- a comment?\n", [1]);
        expect(await db.get('SELECT t FROM v /* ? */ WHERE id = ?', [1])).toEqual({ t: '?' });
      });

      test('one statement per call', async () => {
        expect(await rejectionCode(db.run('INSERT INTO v (id) VALUES (1); DELETE FROM v'))).toBe('INVALID_ARGUMENT');
        expect(await db.all('SELECT id FROM v')).toEqual([]);
        await db.run('INSERT INTO v (id) VALUES (1);  ');
      });
    });

    describe('statements', () => {
      beforeEach(async () => {
        await db.migrate('statements', [
          {
            version: 1,
            description: 'parents and children',
            statements: [
              'CREATE TABLE parent (id TEXT PRIMARY KEY, secret TEXT NOT NULL UNIQUE)',
              'CREATE TABLE child (id BIGINT PRIMARY KEY, parent TEXT NOT NULL REFERENCES parent (id))',
            ],
          },
        ]);
      });

      test('accept-once: INSERT ... ON CONFLICT DO NOTHING reports 1 change, then 0, and keeps the first value', async () => {
        const insert = 'INSERT INTO parent (id, secret) VALUES (?, ?) ON CONFLICT DO NOTHING';
        expect(await db.run(insert, ['order-1', 'first'])).toEqual({ changes: 1 });
        expect(await db.run(insert, ['order-1', 'second'])).toEqual({ changes: 0 });
        expect(await db.all('SELECT id, secret FROM parent')).toEqual([{ id: 'order-1', secret: 'first' }]);
      });

      test('accept-once holds under concurrent attempts: exactly one wins', async () => {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => db.run('INSERT INTO parent (id, secret) VALUES (?, ?) ON CONFLICT DO NOTHING', ['grant-1', `attempt-${i}`])),
        );
        expect(results.filter((result) => result.changes === 1)).toHaveLength(1);
      });

      test('changes counts the rows updated or deleted; get and all on no rows', async () => {
        for (const id of ['a', 'b', 'c']) await db.run('INSERT INTO parent (id, secret) VALUES (?, ?)', [id, `s-${id}`]);
        expect(await db.run("UPDATE parent SET secret = secret || '!' WHERE id <> ?", ['a'])).toEqual({ changes: 2 });
        expect(await db.run('DELETE FROM parent WHERE id = ?', ['zzz'])).toEqual({ changes: 0 });
        expect(await db.get('SELECT id FROM parent WHERE id = ?', ['zzz'])).toBeUndefined();
        expect(await db.all('SELECT id FROM parent WHERE id = ?', ['zzz'])).toEqual([]);
        expect(await db.all('SELECT id FROM parent ORDER BY id')).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
      });

      test('unique, primary-key, foreign-key and not-null failures are CONSTRAINT_VIOLATION, without the bound values', async () => {
        // Postgres puts the conflicting key in its error detail: adapters must leave it out of the message.
        await db.run('INSERT INTO parent (id, secret) VALUES (?, ?)', ['p', 'hunter2']);
        const attempts = [
          db.run('INSERT INTO parent (id, secret) VALUES (?, ?)', ['p', 'hunter2-other']),
          db.run('INSERT INTO parent (id, secret) VALUES (?, ?)', ['q', 'hunter2']),
          db.run('INSERT INTO child (id, parent) VALUES (?, ?)', [1, 'hunter2-missing']),
          db.run('INSERT INTO child (id, parent) VALUES (?, ?)', [2, null]),
        ];
        for (const error of await Promise.all(attempts.map((attempt) => attempt.catch((reason: unknown) => reason)))) {
          expect(isStorageError(error, 'CONSTRAINT_VIOLATION')).toBe(true);
          expect((error as Error).message).not.toContain('hunter2');
        }
        expect(await db.all('SELECT id FROM child')).toEqual([]);
      });

      test('a SQL error is FAILED', async () => {
        expect(await rejectionCode(db.all('SELECT * FROM no_such_table'))).toBe('FAILED');
        expect(await rejectionCode(db.run('SELEC 1'))).toBe('FAILED');
      });
    });

    describe('transactions', () => {
      beforeEach(async () => {
        await db.migrate('counter', COUNTER);
      });

      test('commits when work resolves and returns its result', async () => {
        const result = await db.transaction(async (tx) => {
          await tx.run("UPDATE counter SET value = 7 WHERE id = 'c'");
          return (await tx.get<{ value: number }>("SELECT value FROM counter WHERE id = 'c'"))?.value;
        });
        expect(result).toBe(7);
        expect(await db.get("SELECT value FROM counter WHERE id = 'c'")).toEqual({ value: 7 });
      });

      test('rolls back every statement when work throws, and rethrows the same error', async () => {
        const thrown = new Error('work failed');
        const error = await db
          .transaction(async (tx) => {
            await tx.run("UPDATE counter SET value = 99 WHERE id = 'c'");
            await tx.run("INSERT INTO counter (id, value) VALUES ('d', 1)");
            throw thrown;
          })
          .catch((reason: unknown) => reason);
        expect(error).toBe(thrown);
        expect(await db.all('SELECT id, value FROM counter')).toEqual([{ id: 'c', value: 0 }]);
      });

      test('a constraint violation inside rolls back the statements before it', async () => {
        const code = await rejectionCode(
          db.transaction(async (tx) => {
            await tx.run("UPDATE counter SET value = 5 WHERE id = 'c'");
            await tx.run("INSERT INTO counter (id, value) VALUES ('c', 1)");
          }),
        );
        expect(code).toBe('CONSTRAINT_VIOLATION');
        expect(await db.get("SELECT value FROM counter WHERE id = 'c'")).toEqual({ value: 0 });
      });

      test('50 concurrent read-modify-write transactions lose no update', async () => {
        await Promise.all(
          Array.from({ length: 50 }, () =>
            db.transaction(async (tx) => {
              const row = await tx.get<{ value: number }>("SELECT value FROM counter WHERE id = 'c'");
              await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
              await tx.run("UPDATE counter SET value = ? WHERE id = 'c'", [row!.value + 1]);
            }),
          ),
        );
        expect(await db.get("SELECT value FROM counter WHERE id = 'c'")).toEqual({ value: 50 });
      });

      test('another caller never sees a transaction half done, and sees all of it once committed', async () => {
        const hold = gate();
        const entered = gate();
        const transaction = db.transaction(async (tx) => {
          await tx.run("UPDATE counter SET value = 1 WHERE id = 'c'");
          entered.open();
          await hold.opened;
          await tx.run("UPDATE counter SET value = 2 WHERE id = 'c'");
        });
        await entered.opened;
        // SQLite: the read waits for the commit. PostgreSQL: it reads the last committed value at once.
        const during = db.get("SELECT value FROM counter WHERE id = 'c'");
        await new Promise((resolve) => setTimeout(resolve, 50));
        hold.open();
        await transaction;
        expect([{ value: 0 }, { value: 2 }]).toContainEqual(await during);
        expect(await db.get("SELECT value FROM counter WHERE id = 'c'")).toEqual({ value: 2 });
      });

      test('the handle refuses statements after its transaction ended', async () => {
        let leaked: Parameters<Parameters<SqlDatabase['transaction']>[0]>[0] | undefined;
        await db.transaction(async (tx) => {
          leaked = tx;
        });
        expect(await rejectionCode(leaked!.get('SELECT 1 AS one'))).toBe('CLOSED');
        await db.transaction(() => Promise.reject(new Error('no')).catch(() => undefined));
      });

      test('statements on the database itself inside its transaction are refused instead of deadlocking', async () => {
        const code = await rejectionCode(db.transaction(async () => db.get('SELECT 1 AS one')));
        expect(code).toBe('INVALID_ARGUMENT');
        const nested = await rejectionCode(db.transaction(async () => db.transaction(async () => undefined)));
        expect(nested).toBe('INVALID_ARGUMENT');
        // Work started inside but run after the transaction ended is an ordinary caller.
        let later: Promise<unknown> | undefined;
        await db.transaction(async () => {
          later = new Promise((resolve) => setTimeout(resolve, 10)).then(() => db.get('SELECT 1 AS one'));
        });
        expect(await later).toEqual({ one: 1 });
      });
    });

    describe('migrations', () => {
      const v1: Migration = { version: 1, description: 'notes', statements: ['CREATE TABLE notes (id BIGINT PRIMARY KEY, body {{blob}} NOT NULL)'] };
      const v2: Migration = { version: 2, description: 'note titles', statements: ['ALTER TABLE notes ADD COLUMN title TEXT'] };
      const v5: Migration = { version: 5, description: 'tags', statements: ['CREATE TABLE tags (note BIGINT NOT NULL REFERENCES notes (id), tag TEXT NOT NULL)'] };

      const ledger = (namespace: string): Promise<unknown[]> =>
        db.all('SELECT version, description FROM milagro_migrations WHERE namespace = ? ORDER BY version', [namespace]);

      test('applies pending migrations in order, once; {{blob}} is a byte column', async () => {
        await db.migrate('notes', [v1]);
        await db.run('INSERT INTO notes (id, body) VALUES (?, ?)', [1, new Uint8Array([1, 2])]);
        await db.migrate('notes', [v1]);
        await db.migrate('notes', [v1, v2, v5]);
        await db.migrate('notes', [v1, v2, v5]);
        await db.run('INSERT INTO tags (note, tag) VALUES (?, ?)', [1, 'x']);
        expect(await db.get('SELECT body, title FROM notes')).toEqual({ body: new Uint8Array([1, 2]), title: null });
        expect(await ledger('notes')).toEqual([
          { version: 1, description: 'notes' },
          { version: 2, description: 'note titles' },
          { version: 5, description: 'tags' },
        ]);
        const row = await db.get<{ applied_at: number }>('SELECT applied_at FROM milagro_migrations WHERE namespace = ? AND version = 1', ['notes']);
        expect(Math.abs(row!.applied_at - Date.now())).toBeLessThan(60_000);
      });

      test('namespaces are independent', async () => {
        await db.migrate('a', [v1]);
        await db.migrate('b', [{ version: 1, description: 'other', statements: ['CREATE TABLE other (id BIGINT)'] }]);
        expect(await ledger('a')).toEqual([{ version: 1, description: 'notes' }]);
        expect(await ledger('b')).toEqual([{ version: 1, description: 'other' }]);
      });

      test('concurrent migrate calls apply each migration once', async () => {
        await Promise.all(Array.from({ length: 5 }, () => db.migrate('notes', [v1, v2])));
        expect(await ledger('notes')).toHaveLength(2);
      });

      test('refuses duplicate, non-ascending and non-integer versions before touching the database', async () => {
        for (const migrations of [[v1, v1], [v2, v1], [{ ...v1, version: 0 }], [{ ...v1, version: 1.5 }]]) {
          expect(await rejectionCode(db.migrate('notes', migrations))).toBe('INVALID_ARGUMENT');
        }
        expect(await rejectionCode(db.migrate('', [v1]))).toBe('INVALID_ARGUMENT');
        await db.migrate('other', []);
        expect(await ledger('notes')).toEqual([]);
      });

      test('refuses a database migrated by newer code (SCHEMA_TOO_NEW) and changes nothing', async () => {
        await db.migrate('notes', [v1, v2]);
        expect(await rejectionCode(db.migrate('notes', [v1]))).toBe('SCHEMA_TOO_NEW');
        expect(await rejectionCode(db.migrate('notes', []))).toBe('SCHEMA_TOO_NEW');
        expect(await ledger('notes')).toHaveLength(2);
      });

      test('refuses code whose migration history differs from the applied one', async () => {
        await db.migrate('notes', [v1, v2]);
        expect(await rejectionCode(db.migrate('notes', [v1, v5]))).toBe('FAILED');
        expect(await ledger('notes')).toHaveLength(2);
      });

      test('a failing migration leaves no trace and stops the later ones', async () => {
        const broken: Migration = { version: 2, description: 'broken', statements: ['CREATE TABLE half (id BIGINT)', 'THIS IS NOT SQL'] };
        expect(await rejectionCode(db.migrate('notes', [v1, broken, v5]))).toBe('FAILED');
        expect(await ledger('notes')).toEqual([{ version: 1, description: 'notes' }]);
        expect(await rejectionCode(db.all('SELECT * FROM half'))).toBe('FAILED');
        await db.migrate('notes', [v1, v2, v5]);
        expect(await ledger('notes')).toHaveLength(3);
      });
    });

    describe('close', () => {
      test('work queued before close completes; calls after close are CLOSED; close is idempotent', async () => {
        await db.migrate('counter', COUNTER);
        const queued = db.transaction((tx) => tx.run("UPDATE counter SET value = 3 WHERE id = 'c'"));
        const closing = db.close();
        expect(await queued).toEqual({ changes: 1 });
        await closing;
        expect(await rejectionCode(db.get('SELECT 1 AS one'))).toBe('CLOSED');
        expect(await rejectionCode(db.transaction(async () => undefined))).toBe('CLOSED');
        await db.close();
      });
    });
  });
}
