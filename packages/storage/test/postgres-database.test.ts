// What is the PostgreSQL adapter's own (the shared contract runs in sql-database-contract.test.ts):
// separate pools (as separate replicas) migrating and writing one database at once, whole
// transactions rerun after serialisation failures even when `work` catches them, a swallowed
// statement failure never commits half a transaction, locks held by one replica at a time (and
// lost with their connection), and options and connection failures.
import { isStorageError, openPostgresDatabase, type SqlDatabase } from '@milagro/storage';
import { postgresAvailability, reportMissingPostgres, useTestPostgres } from '../../../tools/jest/postgres';
import { PEER_MIGRATIONS } from './support/peer-migrations';

const postgres = postgresAvailability();
const testPostgres = useTestPostgres();

if (!('binaries' in postgres)) {
  reportMissingPostgres('the PostgreSQL adapter', postgres);
} else {
  describe('openPostgresDatabase', () => {
    const open: SqlDatabase[] = [];
    /** Two instances with their own pools on one fresh database: two replicas. */
    async function replicas(): Promise<[SqlDatabase, SqlDatabase]> {
      const url = await testPostgres.freshDatabaseUrl();
      const pair = [await openPostgresDatabase({ url }), await openPostgresDatabase({ url })] as [SqlDatabase, SqlDatabase];
      open.push(...pair);
      return pair;
    }
    afterEach(async () => {
      for (const db of open.splice(0)) await db.close();
    });

    test('replicas migrating one database at once apply each step once', async () => {
      const [a, b] = await replicas();
      await Promise.all([a, b, a, b].map((db) => db.migrate('peer', PEER_MIGRATIONS)));
      expect(await a.all('SELECT version FROM effects ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
      expect(await b.all('SELECT version FROM milagro_migrations WHERE namespace = ? ORDER BY version', ['peer'])).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
    });

    test('replicas racing read-modify-write lose no update: conflicting transactions run again', async () => {
      const [a, b] = await replicas();
      await a.migrate('peer', PEER_MIGRATIONS);
      let runs = 0;
      const increment = (db: SqlDatabase, seq: number) =>
        db.transaction(async (tx) => {
          runs += 1;
          const row = await tx.get<{ value: number }>('SELECT value FROM counter');
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
          await tx.run('UPDATE counter SET value = ?', [row!.value + 1]);
          await tx.run('INSERT INTO writes (peer, seq) VALUES (?, ?)', [db === a ? 'a' : 'b', seq]);
        });
      await Promise.all(Array.from({ length: 20 }, (_, i) => [increment(a, i), increment(b, i)]).flat());
      expect(await b.get('SELECT value FROM counter')).toEqual({ value: 40 });
      expect(await a.get('SELECT COUNT(*) AS n FROM writes')).toEqual({ n: 40 });
      expect(runs).toBeGreaterThan(40); // some ran again after a serialisation failure
    });

    test('a serialisation failure that work catches (a savepoint rollback) still reruns the whole transaction', async () => {
      const [a, b] = await replicas();
      await a.migrate('peer', PEER_MIGRATIONS);
      let caught = 0;
      const increment = (db: SqlDatabase) =>
        db.transaction(async (tx) => {
          await tx.run('SAVEPOINT unit');
          try {
            const row = await tx.get<{ value: number }>('SELECT value FROM counter');
            await new Promise((resolve) => setTimeout(resolve, 5));
            await tx.run('UPDATE counter SET value = ?', [row!.value + 1]);
            await tx.run('RELEASE unit');
          } catch (error) {
            if (isStorageError(error, 'BUSY')) caught += 1;
            await tx.run('ROLLBACK TO unit').catch(() => undefined);
          }
        });
      await Promise.all(Array.from({ length: 10 }, () => [increment(a), increment(b)]).flat());
      expect(await a.get('SELECT value FROM counter')).toEqual({ value: 20 });
      expect(caught).toBeGreaterThan(0);
    });

    test('a failed statement whose error work swallows makes the transaction fail, with nothing written', async () => {
      const [a] = await replicas();
      await a.migrate('peer', PEER_MIGRATIONS);
      const error = await a
        .transaction(async (tx) => {
          await tx.run('UPDATE counter SET value = 7');
          await tx.run('INSERT INTO a (id) VALUES (1)');
          await tx.run('INSERT INTO a (id) VALUES (1)').catch(() => undefined); // no savepoint: the transaction is aborted
        })
        .catch((reason: unknown) => reason);
      expect(isStorageError(error)).toBe(true);
      expect(await a.get('SELECT value FROM counter')).toEqual({ value: 0 });
      expect(await a.all('SELECT id FROM a')).toEqual([]);
    });

    test('a lock is held by one replica at a time, released by release() or close(), and lost with its connection', async () => {
      const [a, b] = await replicas();
      const held = await a.holdLock('role/dta/bafy-one');
      expect(isStorageError(await b.holdLock('role/dta/bafy-one').catch((reason: unknown) => reason), 'LOCK_HELD')).toBe(true);
      expect(isStorageError(await a.holdLock('role/dta/bafy-one').catch((reason: unknown) => reason), 'LOCK_HELD')).toBe(true);
      const other = await b.holdLock('role/dta/bafy-two');
      await held.release();
      await held.release();
      const taken = await b.holdLock('role/dta/bafy-one');
      await taken.release();
      await other.release();

      // Closing the database releases what it holds.
      await a.holdLock('role/custody/bafy-three');
      await a.close();
      const afterClose = await b.holdLock('role/custody/bafy-three');
      await afterClose.release();

      // The server ends the lock's session (a restart, a failover): the holder learns it, and another may take it.
      const doomed = await b.holdLock('role/dta/bafy-four');
      let lost = false;
      void doomed.lost.then(() => (lost = true));
      await b.run("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()");
      await doomed.lost;
      expect(lost).toBe(true);
      const retaken = await b.holdLock('role/dta/bafy-four');
      await retaken.release();
    });

    test('bad options are INVALID_ARGUMENT; a server that is not there is FAILED', async () => {
      for (const options of [{ url: 'mysql://x/y' }, { url: 'postgresql://x/y', poolSize: 0 }, { url: 'postgresql://x/y', retryTimeoutMs: -1 }]) {
        expect(isStorageError(await openPostgresDatabase(options).catch((reason: unknown) => reason), 'INVALID_ARGUMENT')).toBe(true);
      }
      const missing = await openPostgresDatabase({ url: 'postgresql://milagro@/none?host=/nonexistent-socket-dir', connectTimeoutMs: 2_000 }).catch((reason: unknown) => reason);
      expect(isStorageError(missing, 'FAILED')).toBe(true);
    });
  });
}
