import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlDatabase, SqlExecutor } from '@milagro/storage';
import { sqlAdaptersUnderTest, type DatabaseLocation } from '../../../tools/jest/test-database.js';
import { IssuanceRepository } from '../src/issuance-repository.js';

// Over HTTP every issuance reaches consumeGrantNonce from its own I/O callback. The repository must
// still group their nonces into one durable transaction (one fsync), or a D-TA issues no faster
// than its disk syncs; and each nonce must be committed before its promise resolves. On SQLite and
// on PostgreSQL.
describe.each(sqlAdaptersUnderTest())('grant nonces from separate event-loop callbacks share one durable commit (%s)', (adapter, databases) => {
  if (databases.reportIfMissing(`D-TA nonce group commit on ${adapter}`)) return;
  let dir: string;
  let location: DatabaseLocation;
  let db: SqlDatabase;
  let transactions: number;
  let repository: IssuanceRepository;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dta-group-commit-'));
    location = await databases.newLocation(join(dir, 'dta.db'));
    const opened = await location.open();
    transactions = 0;
    // The real database, counting the transactions the repository opens.
    db = Object.assign(Object.create(opened) as SqlDatabase, {
      transaction: <T>(work: (tx: SqlExecutor) => Promise<T>) => {
        transactions += 1;
        return opened.transaction(work);
      },
      migrate: opened.migrate.bind(opened),
      get: opened.get.bind(opened),
      run: opened.run.bind(opened),
      all: opened.all.bind(opened),
      close: opened.close.bind(opened),
    });
    repository = await IssuanceRepository.open(db);
    transactions = 0;
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const nonce = (i: number) => Uint8Array.from({ length: 16 }, (_, j) => (i * 31 + j) & 0xff);
  /**
   * Consumes each nonce from its own callback, as requests arrive in their own I/O callbacks of one
   * poll phase. (Immediates queued together run in one check phase; `setTimeout(0)` timers created
   * across a millisecond boundary could expire in two loop turns on a loaded machine, and did once.)
   */
  const fromSeparateCallbacks = (nonces: Uint8Array[]) =>
    Promise.all(nonces.map((n) => new Promise<boolean>((resolve, reject) => setImmediate(() => repository.consumeGrantNonce('acme', n, 2_000_000_000).then(resolve, reject)))));

  it('commits 32 nonces consumed in 32 callbacks in one transaction, all durable when they resolve', async () => {
    const nonces = Array.from({ length: 32 }, (_, i) => nonce(i));
    expect(await fromSeparateCallbacks(nonces)).toEqual(nonces.map(() => true));
    expect(transactions).toBe(1);
    // A second connection (another replica, or this one after a crash) sees every nonce.
    const other = await location.open();
    try {
      expect(await other.get('SELECT COUNT(*) AS n FROM dta_grant_nonces')).toEqual({ n: 32 });
    } finally {
      await other.close();
    }
  });

  it('accepts a nonce once even when both copies land in the same group', async () => {
    const results = await fromSeparateCallbacks([nonce(7), nonce(8), nonce(7)]);
    expect(transactions).toBe(1);
    expect(results).toEqual([true, true, false]);
    expect(await repository.consumeGrantNonce('acme', nonce(8), 2_000_000_000)).toBe(false);
  });

  it('commits nonces arriving after a group was committed in a group of their own', async () => {
    const first = repository.consumeGrantNonce('acme', nonce(1), 2_000_000_000);
    await new Promise((resolve) => setImmediate(resolve)); // the first group's commit has run
    const second = fromSeparateCallbacks([nonce(2), nonce(3)]);
    expect(await first).toBe(true);
    expect(await second).toEqual([true, true]);
    expect(transactions).toBe(2);
  });
});
