/**
 * The MFA service's state in the shared database, so that restarts and every replica on one database
 * agree: registrations (with each identity's wrong-PIN counter), single-use login sessions, and
 * revoked access-token ids. No user secret is stored: registration secrets, activation codes and
 * session ids only as SHA-256 (each is ≥ 128 random bits, so a fast hash suffices), M-Pin identities
 * and U/y in the clear (they are public protocol values).
 *
 * Writes are group-committed: the writes requested in one turn of the event loop share one durable
 * transaction (one fsync), each in its own savepoint (docs/adr/0011-batched-login-verification.md).
 */
import { constantTimeEqual } from '@milagro/crypto';
import type { Migration, SqlDatabase, SqlExecutor } from '@milagro/storage';

/** Migration namespace of this repository. */
export const MFA_MIGRATION_NAMESPACE = 'mfa';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'registrations with wrong-PIN counters, login sessions, revoked tokens',
    statements: [
      `CREATE TABLE mfa_registrations (
        reference TEXT PRIMARY KEY,
        secret_hash {{blob}} NOT NULL UNIQUE,
        user_id TEXT NOT NULL,
        device_name TEXT NOT NULL,
        state TEXT NOT NULL,
        code_hash {{blob}},
        code_attempts INTEGER NOT NULL DEFAULT 0,
        approved INTEGER NOT NULL DEFAULT 0,
        created BIGINT NOT NULL,
        expires BIGINT NOT NULL,
        identity {{blob}},
        identity_hash {{blob}} UNIQUE,
        activated BIGINT,
        failures INTEGER NOT NULL DEFAULT 0
      )`,
      'CREATE INDEX mfa_registrations_user ON mfa_registrations (user_id, state)',
      'CREATE INDEX mfa_registrations_state ON mfa_registrations (state, expires)',
      `CREATE TABLE mfa_login_sessions (
        id_hash {{blob}} PRIMARY KEY,
        identity {{blob}} NOT NULL,
        identity_hash {{blob}} NOT NULL,
        u {{blob}} NOT NULL,
        y {{blob}} NOT NULL,
        expires BIGINT NOT NULL
      )`,
      'CREATE INDEX mfa_login_sessions_expires ON mfa_login_sessions (expires)',
      'CREATE TABLE mfa_revoked_tokens (jti TEXT PRIMARY KEY, expires BIGINT NOT NULL)',
    ],
  },
];

/** A registration waiting for activation, as listed to operators. */
export interface PendingRegistration {
  readonly reference: string;
  readonly userId: string;
  readonly deviceName: string;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly approved: boolean;
}

/** What a successful activation (or a grant re-issue) yields. */
export interface ActivatedRegistration {
  readonly reference: string;
  readonly userId: string;
  readonly identity: Uint8Array;
  /** Unix seconds. */
  readonly activatedAt: number;
}

/** How activation is proven: the code's hash, or an operator's approval. */
export type ActivationProof = { readonly codeHash: Uint8Array } | { readonly approval: true };

/**
 * A consumed login session. `reserved`: an attempt was counted against an active, unlocked identity
 * (reset it with {@link MfaRepository.recordLoginSuccess} after a valid proof). `refused`: the
 * identity is unknown, replaced or locked; the caller still verifies (uniform timing) and fails.
 */
export type ConsumedSession =
  | { readonly kind: 'missing' }
  | { readonly kind: 'expired' }
  | {
      readonly kind: 'reserved' | 'refused';
      readonly identity: Uint8Array;
      readonly identityHash: Uint8Array;
      readonly u: Uint8Array;
      readonly y: Uint8Array;
      readonly reference?: string;
      readonly userId?: string;
    };

type Row = Record<string, string | number | bigint | Uint8Array | null>;

/** One caller's write waiting for the next group commit. */
interface PendingWrite {
  readonly unit: (tx: SqlExecutor) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Group commits so far (tests, metrics): `writes / commits` is the mean group size. */
export interface GroupCommitCounts {
  /** Transactions committed (each one fsync on a durable database), plus those that failed. */
  readonly commits: number;
  /** Callers' writes they held. */
  readonly writes: number;
}

const num = (value: unknown): number => Number(value);

/** Options of {@link MfaRepository.open}. */
export interface MfaRepositoryOptions {
  /** Called after each group commit with its size, its wall time, and whether it committed. */
  readonly onGroupCommit?: (group: { writes: number; seconds: number; committed: boolean }) => void;
}

export class MfaRepository {
  readonly #db: SqlDatabase;
  readonly #onGroupCommit: MfaRepositoryOptions['onGroupCommit'];
  #pending: PendingWrite[] = [];
  /** A group commit is scheduled or running; writes requested now join the next one. */
  #scheduled = false;
  #commits = 0;
  #writes = 0;

  private constructor(db: SqlDatabase, options: MfaRepositoryOptions) {
    this.#db = db;
    this.#onGroupCommit = options.onGroupCommit;
  }

  /** Opens the repository, applying its migrations (namespace `mfa`). */
  static async open(db: SqlDatabase, options: MfaRepositoryOptions = {}): Promise<MfaRepository> {
    await db.migrate(MFA_MIGRATION_NAMESPACE, MIGRATIONS);
    return new MfaRepository(db, options);
  }

  /** How many group commits ran and how many writes they held. */
  get groupCommits(): GroupCommitCounts {
    return { commits: this.#commits, writes: this.#writes };
  }

  /**
   * Runs `unit` as one atomic write in the next group commit and resolves with its result once that
   * commit is durable. A unit sees the state the units before it in the group left; one that throws
   * is rolled back to its savepoint and fails alone; a commit that fails fails every unit in it.
   */
  #write<T>(unit: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ unit, resolve: resolve as (value: unknown) => void, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // After the poll phase, as the D-TA's nonce commit and the verification batch: every request
      // read in one poll phase reaches this method in its own callback's microtasks and joins the
      // group. node:sqlite commits synchronously, so requests arriving during the fsync join the next.
      setImmediate(() => void this.#commitPending());
    });
  }

  async #commitPending(): Promise<void> {
    const group = this.#pending;
    this.#pending = [];
    this.#commits += 1;
    this.#writes += group.length;
    const started = process.hrtime.bigint();
    let committed = false;
    try {
      const outcomes = await this.#db.transaction(async (tx) => {
        const settled: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
        for (const { unit } of group) {
          await tx.run('SAVEPOINT mfa_write');
          try {
            const value = await unit(tx);
            await tx.run('RELEASE mfa_write');
            settled.push({ ok: true, value });
          } catch (error) {
            // If the rollback itself fails, the whole group fails: nothing is reported done.
            await tx.run('ROLLBACK TO mfa_write');
            await tx.run('RELEASE mfa_write');
            settled.push({ ok: false, error });
          }
        }
        return settled;
      });
      committed = true;
      group.forEach((write, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) write.resolve(outcome.value);
        else write.reject(outcome.error);
      });
    } catch (error) {
      for (const write of group) write.reject(error);
    } finally {
      this.#scheduled = false;
      if (this.#pending.length > 0) {
        this.#scheduled = true;
        setImmediate(() => void this.#commitPending());
      }
    }
    this.#onGroupCommit?.({ writes: group.length, seconds: Number(process.hrtime.bigint() - started) / 1e9, committed });
  }

  async createRegistration(input: {
    reference: string;
    secretHash: Uint8Array;
    userId: string;
    deviceName: string;
    codeHash: Uint8Array;
    created: number;
    expires: number;
  }): Promise<void> {
    await this.#write((tx) =>
      tx.run(
        "INSERT INTO mfa_registrations (reference, secret_hash, user_id, device_name, state, code_hash, created, expires) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
        [input.reference, input.secretHash, input.userId, input.deviceName, input.codeHash, input.created, input.expires],
      ),
    );
  }

  /**
   * Activates the pending registration whose secret hashes to `secretHash`, once: checks expiry,
   * the attempt budget and the proof (code hash in constant time, or approval), counts a wrong code,
   * and on success stores the new identity and marks the user's other active registrations
   * `replaced`, all in one transaction. Undefined for every failure (the caller does not say which).
   */
  activate(input: {
    secretHash: Uint8Array;
    proof: ActivationProof;
    now: number;
    maxAttempts: number;
    identityFor: (reference: string, userId: string) => Uint8Array;
    identityHash: (identity: Uint8Array) => Uint8Array;
  }): Promise<ActivatedRegistration | undefined> {
    return this.#write(async (tx) => {
      const row = await tx.get<Row>(
        'SELECT reference, user_id, state, code_hash, code_attempts, approved, expires FROM mfa_registrations WHERE secret_hash = ?',
        [input.secretHash],
      );
      if (row === undefined || row.state !== 'pending' || num(row.expires) <= input.now) return undefined;
      const reference = row.reference as string;
      if ('approval' in input.proof) {
        if (num(row.approved) !== 1) return undefined;
      } else {
        if (num(row.code_attempts) >= input.maxAttempts) return undefined;
        const stored = row.code_hash;
        if (!(stored instanceof Uint8Array) || !constantTimeEqual(stored, input.proof.codeHash)) {
          await tx.run('UPDATE mfa_registrations SET code_attempts = code_attempts + 1 WHERE reference = ?', [reference]);
          return undefined;
        }
      }
      const userId = row.user_id as string;
      const identity = input.identityFor(reference, userId);
      await tx.run("UPDATE mfa_registrations SET state = 'replaced' WHERE user_id = ? AND state = 'active'", [userId]);
      await tx.run(
        "UPDATE mfa_registrations SET state = 'active', code_hash = NULL, identity = ?, identity_hash = ?, activated = ?, failures = 0 WHERE reference = ?",
        [identity, input.identityHash(identity), input.now, reference],
      );
      return { reference, userId, identity, activatedAt: input.now };
    });
  }

  /** The active registration of this secret, if it was activated at or after `since` (for grant re-issue). */
  async activeRegistration(secretHash: Uint8Array, since: number): Promise<ActivatedRegistration | undefined> {
    const row = await this.#db.get<Row>(
      "SELECT reference, user_id, identity, activated FROM mfa_registrations WHERE secret_hash = ? AND state = 'active' AND activated >= ?",
      [secretHash, since],
    );
    if (row === undefined || !(row.identity instanceof Uint8Array)) return undefined;
    return { reference: row.reference as string, userId: row.user_id as string, identity: row.identity, activatedAt: num(row.activated) };
  }

  /** Operator approval of a pending, unexpired registration; false when there is none. */
  async approve(reference: string, now: number): Promise<boolean> {
    const { changes } = await this.#write((tx) =>
      tx.run("UPDATE mfa_registrations SET approved = 1 WHERE reference = ? AND state = 'pending' AND expires > ?", [reference, now]),
    );
    return changes === 1;
  }

  async pendingRegistrations(now: number): Promise<PendingRegistration[]> {
    const rows = await this.#db.all<Row>(
      "SELECT reference, user_id, device_name, created, expires, approved FROM mfa_registrations WHERE state = 'pending' AND expires > ? ORDER BY created, reference",
      [now],
    );
    return rows.map((row) => ({
      reference: row.reference as string,
      userId: row.user_id as string,
      deviceName: row.device_name as string,
      createdAt: num(row.created),
      expiresAt: num(row.expires),
      approved: num(row.approved) === 1,
    }));
  }

  async createSession(input: { idHash: Uint8Array; identity: Uint8Array; identityHash: Uint8Array; u: Uint8Array; y: Uint8Array; expires: number }): Promise<void> {
    await this.#write((tx) =>
      tx.run('INSERT INTO mfa_login_sessions (id_hash, identity, identity_hash, u, y, expires) VALUES (?, ?, ?, ?, ?, ?)', [
        input.idHash,
        input.identity,
        input.identityHash,
        input.u,
        input.y,
        input.expires,
      ]),
    );
  }

  /**
   * Consumes a login session and reserves one attempt against its identity, in one transaction:
   * whatever happens next, the session cannot be used again (by this process or any other on the
   * database), and concurrent attempts on one identity can never exceed `maxFailures` because each
   * is counted before its pairing check runs.
   */
  consumeSession(idHash: Uint8Array, now: number, maxFailures: number): Promise<ConsumedSession> {
    return this.#write(async (tx): Promise<ConsumedSession> => {
      const session = await tx.get<Row>('SELECT identity, identity_hash, u, y, expires FROM mfa_login_sessions WHERE id_hash = ?', [idHash]);
      if (session === undefined) return { kind: 'missing' };
      await tx.run('DELETE FROM mfa_login_sessions WHERE id_hash = ?', [idHash]);
      if (num(session.expires) <= now) return { kind: 'expired' };
      const proofInput = {
        identity: session.identity as Uint8Array,
        identityHash: session.identity_hash as Uint8Array,
        u: session.u as Uint8Array,
        y: session.y as Uint8Array,
      };
      const reserved = await reserveAttempt(tx, proofInput.identityHash, maxFailures);
      return reserved === undefined ? { kind: 'refused', ...proofInput } : { kind: 'reserved', ...proofInput, ...reserved };
    });
  }

  /** A valid proof: the identity's wrong-PIN counter starts again from zero. */
  async recordLoginSuccess(reference: string): Promise<void> {
    await this.#write((tx) => tx.run('UPDATE mfa_registrations SET failures = 0 WHERE reference = ? AND failures <> 0', [reference]));
  }

  /** The wrong-PIN counter of an identity (operators, tests); undefined when not registered. */
  async failures(identityHash: Uint8Array): Promise<number | undefined> {
    const row = await this.#db.get<Row>('SELECT failures FROM mfa_registrations WHERE identity_hash = ?', [identityHash]);
    return row === undefined ? undefined : num(row.failures);
  }

  async revokeToken(jti: string, expires: number): Promise<void> {
    await this.#write((tx) => tx.run('INSERT INTO mfa_revoked_tokens (jti, expires) VALUES (?, ?) ON CONFLICT DO NOTHING', [jti, expires]));
  }

  async isTokenRevoked(jti: string): Promise<boolean> {
    return (await this.#db.get('SELECT 1 AS revoked FROM mfa_revoked_tokens WHERE jti = ?', [jti])) !== undefined;
  }

  /** Forgets expired sessions and revocations, and marks expired pending registrations `expired`. */
  async prune(now: number): Promise<void> {
    await this.#db.run('DELETE FROM mfa_login_sessions WHERE expires <= ?', [now]);
    await this.#db.run('DELETE FROM mfa_revoked_tokens WHERE expires <= ?', [now]);
    await this.#db.run("UPDATE mfa_registrations SET state = 'expired', code_hash = NULL WHERE state = 'pending' AND expires <= ?", [now]);
  }
}

async function reserveAttempt(tx: SqlExecutor, identityHash: Uint8Array, maxFailures: number): Promise<{ reference: string; userId: string } | undefined> {
  const row = await tx.get<Row>("SELECT reference, user_id, failures FROM mfa_registrations WHERE identity_hash = ? AND state = 'active'", [identityHash]);
  if (row === undefined || num(row.failures) >= maxFailures) return undefined;
  await tx.run('UPDATE mfa_registrations SET failures = failures + 1 WHERE reference = ?', [row.reference as string]);
  return { reference: row.reference as string, userId: row.user_id as string };
}
