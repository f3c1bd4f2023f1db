/**
 * Proves the MFA repository's group commit (docs/adr/0011): writes requested from separate
 * event-loop callbacks in one turn share one durable transaction (one fsync), each resolves only
 * once that commit is durable, each login's consume + reserve stays one atomic unit that sees the
 * units before it (two pass 2s of one session in one group: one success), a unit that throws fails
 * alone, and a commit that fails fails every caller in it with nothing kept. On SQLite and on
 * PostgreSQL (where the savepoints and a serialisation retry of the whole group must hold too).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64urlToBytes, sha256, utf8ToBytes } from '@milagro/crypto';
import { clientPass2 } from '@milagro/mpin';
import { isStorageError, type SqlDatabase, type SqlExecutor } from '@milagro/storage';
import { sqlAdaptersUnderTest, type DatabaseLocation } from '../../../tools/jest/test-database.js';
import { MfaError } from '../src/index.js';
import { MfaRepository } from '../src/mfa-repository.js';
import { pass1, registerDevice, removeDir, startMfa, type MfaWorld } from './support/mfa-world.js';

/** The real database, counting the transactions opened on it; `failCommits` makes each one roll back after its work (a failed commit). */
function countingDatabase(opened: SqlDatabase): SqlDatabase & { transactions: number; failCommits: boolean } {
  const counted = Object.assign(Object.create(opened) as SqlDatabase, {
    transactions: 0,
    failCommits: false,
    transaction: <T>(work: (tx: SqlExecutor) => Promise<T>) => {
      counted.transactions += 1;
      return opened.transaction(async (tx) => {
        const result = await work(tx);
        if (counted.failCommits) throw new Error('commit failed (disk full)');
        return result;
      });
    },
    migrate: opened.migrate.bind(opened),
    get: opened.get.bind(opened),
    run: opened.run.bind(opened),
    all: opened.all.bind(opened),
    close: opened.close.bind(opened),
  });
  return counted;
}

/**
 * Calls `write` from its own callback, as requests arrive in their own I/O callbacks. Immediate
 * callbacks queued together run in one check phase (timers of 1 ms may straddle a millisecond on
 * a loaded machine and split), so the test does not depend on timing.
 */
const fromItsOwnCallback = <T>(write: () => Promise<T>): Promise<T> =>
  new Promise<T>((resolve, reject) => setImmediate(() => write().then(resolve, reject)));

const bytes = (i: number, length = 32) => Uint8Array.from({ length }, (_, j) => (i * 31 + j) & 0xff);
const FAR = 2_000_000_000;

describe.each(sqlAdaptersUnderTest())('the MFA repository group-commits the writes of one turn (%s)', (adapter, databases) => {
  if (databases.reportIfMissing(`MFA group commit on ${adapter}`)) return;
  let dir: string;
  let location: DatabaseLocation;
  let db: ReturnType<typeof countingDatabase>;
  let repository: MfaRepository;

  beforeEach(async () => {
    // On disk, not tmpfs: the durability (synchronous=FULL) that the group commit shares out.
    dir = await mkdtemp(join(tmpdir(), 'mfa-group-commit-'));
    location = await databases.newLocation(join(dir, 'mfa.db'));
    db = countingDatabase(await location.open());
    repository = await MfaRepository.open(db);
    db.transactions = 0;
  });
  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const session = (i: number) => ({ idHash: sha256(bytes(i)), identity: utf8ToBytes(`user-${i}`), identityHash: sha256(utf8ToBytes(`user-${i}`)), u: bytes(i + 1000, 48), y: bytes(i + 2000), expires: FAR });

  /** An active registration whose identity is `user-<i>`. */
  async function activeIdentity(i: number): Promise<void> {
    const codeHash = sha256(utf8ToBytes(`code-${i}`));
    await repository.createRegistration({ reference: `ref-${i}`, secretHash: sha256(utf8ToBytes(`secret-${i}`)), userId: `u${i}`, deviceName: 'd', codeHash, created: 1, expires: FAR });
    const activated = await repository.activate({
      secretHash: sha256(utf8ToBytes(`secret-${i}`)),
      proof: { codeHash },
      now: 2,
      maxAttempts: 3,
      identityFor: () => utf8ToBytes(`user-${i}`),
      identityHash: sha256,
    });
    expect(activated?.reference).toBe(`ref-${i}`);
  }

  test('32 sessions stored from 32 callbacks: one transaction, every one durable when its promise resolves', async () => {
    const before = repository.groupCommits;
    await Promise.all(Array.from({ length: 32 }, (_, i) => fromItsOwnCallback(() => repository.createSession(session(i)))));
    expect(db.transactions).toBe(1);
    expect(repository.groupCommits).toEqual({ commits: before.commits + 1, writes: before.writes + 32 });
    // A second connection (another replica, or this one after a crash) sees every session.
    const other = await location.open();
    try {
      expect(await other.get('SELECT COUNT(*) AS n FROM mfa_login_sessions')).toEqual({ n: 32 });
    } finally {
      await other.close();
    }
  });

  test('a login of every kind in one group: pass 1 store, pass 2 consume + reserve, success reset share one commit', async () => {
    await activeIdentity(1);
    await activeIdentity(2);
    await repository.createSession(session(1));
    db.transactions = 0;
    const [stored, consumed, reset] = await Promise.all([
      fromItsOwnCallback(() => repository.createSession(session(2))),
      fromItsOwnCallback(() => repository.consumeSession(session(1).idHash, 10, 5)),
      fromItsOwnCallback(() => repository.recordLoginSuccess('ref-2')),
    ]);
    expect(db.transactions).toBe(1);
    expect([stored, consumed.kind, reset]).toEqual([undefined, 'reserved', undefined]);
    expect(await repository.failures(sha256(utf8ToBytes('user-1')))).toBe(1);
  });

  test('two pass 2s of one session in one group: the first consumes it and reserves one attempt, the second finds nothing', async () => {
    await activeIdentity(7);
    await repository.createSession(session(7));
    db.transactions = 0;
    const results = await Promise.all([1, 2].map(() => fromItsOwnCallback(() => repository.consumeSession(session(7).idHash, 10, 5))));
    expect(db.transactions).toBe(1);
    expect(results.map((r) => r.kind)).toEqual(['reserved', 'missing']);
    expect(await repository.failures(sha256(utf8ToBytes('user-7')))).toBe(1);
  });

  test('a write that fails is rolled back alone; the others in its group are committed', async () => {
    const results = await Promise.allSettled([session(1), session(2), session(1)].map((s) => fromItsOwnCallback(() => repository.createSession(s))));
    expect(db.transactions).toBe(1);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const reason = (results[2] as PromiseRejectedResult).reason;
    expect(isStorageError(reason) && reason.code).toBe('CONSTRAINT_VIOLATION');
    expect(await db.get('SELECT COUNT(*) AS n FROM mfa_login_sessions')).toEqual({ n: 2 });
  });

  test('a failed commit fails every caller in the group and keeps none of their writes', async () => {
    await activeIdentity(3);
    await repository.createSession(session(3));
    db.failCommits = true;
    const results = await Promise.allSettled([
      fromItsOwnCallback(() => repository.createSession(session(4))),
      fromItsOwnCallback(() => repository.consumeSession(session(3).idHash, 10, 5)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    db.failCommits = false;
    // Nothing was kept: session 3 is still there to consume, session 4 was never stored, no attempt counted.
    expect(await db.get('SELECT COUNT(*) AS n FROM mfa_login_sessions')).toEqual({ n: 1 });
    expect(await repository.failures(sha256(utf8ToBytes('user-3')))).toBe(0);
    expect((await repository.consumeSession(session(3).idHash, 10, 5)).kind).toBe('reserved');
  });

  test('writes requested after a group was committed form a group of their own', async () => {
    const first = repository.createSession(session(1));
    await new Promise((resolve) => setImmediate(resolve)); // the first group's commit has run
    const second = Promise.all([2, 3].map((i) => fromItsOwnCallback(() => repository.createSession(session(i)))));
    await first;
    await second;
    expect(db.transactions).toBe(2);
  });
});

describe('the service over a group-committing repository', () => {
  let world: MfaWorld;
  afterEach(async () => {
    await world.close();
    removeDir(world.dir);
  });

  test('two pass 2s of one session started together: one access token, one generic failure, one attempt counted then reset', async () => {
    world = await startMfa({ limits: { maxFailures: 3 } });
    const alice = await registerDevice(world, 'alice@example.org', '2468');
    const first = await pass1(world, alice, '2468');
    expect(first.response.status).toBe(200);
    const { v } = clientPass2(first.state, { y: base64urlToBytes(first.response.body.y as string) });
    const input = { session: first.response.body.session as string, v, clientAddress: '127.0.0.1' };
    const settled = await Promise.allSettled([world.service.loginPass2(input), world.service.loginPass2(input)]);
    expect(settled.map((s) => (s.status === 'fulfilled' ? 'ok' : s.reason instanceof MfaError ? s.reason.code : String(s.reason)))).toEqual(['ok', 'AUTHENTICATION_FAILED']);
    expect(await world.service.failures(alice.identity)).toBe(0);
  });
});
