/**
 * Issuance state in the shared database, so restarts and replicas of one D-TA agree: grant nonces
 * already used (accept-once), and each realm's revocation list with the sequence number of the
 * last update applied.
 */
import type { Migration, SqlDatabase } from '@milagro/storage';

/** Migration namespace of this repository. */
export const ISSUANCE_MIGRATION_NAMESPACE = 'dta-issuance';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'grant nonces, revocation lists',
    statements: [
      'CREATE TABLE dta_grant_nonces (realm TEXT NOT NULL, nonce {{blob}} NOT NULL, expires BIGINT NOT NULL, PRIMARY KEY (realm, nonce))',
      'CREATE INDEX dta_grant_nonces_expires ON dta_grant_nonces (expires)',
      'CREATE TABLE dta_revocation_seq (realm TEXT NOT NULL PRIMARY KEY, seq BIGINT NOT NULL)',
      'CREATE TABLE dta_revoked (realm TEXT NOT NULL, identity_hash {{blob}} NOT NULL, PRIMARY KEY (realm, identity_hash))',
    ],
  },
];

/** One update of a realm's revocation list. */
export interface RevocationUpdate {
  readonly realm: string;
  /** Strictly increasing per realm. */
  readonly seq: number;
  /** Identity hashes to add. */
  readonly revoke: readonly Uint8Array[];
  /** Identity hashes to remove. */
  readonly reinstate: readonly Uint8Array[];
}

/** A nonce waiting for the next group commit. */
interface PendingNonce {
  readonly realm: string;
  readonly nonce: Uint8Array;
  readonly expires: number;
  resolve(first: boolean): void;
  reject(error: unknown): void;
}

export class IssuanceRepository {
  readonly #db: SqlDatabase;
  #pending: PendingNonce[] = [];
  /** A commit is scheduled or running; nonces arriving now join the next batch. */
  #scheduled = false;

  private constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /** Opens the repository, applying its migrations (namespace `dta-issuance`). */
  static async open(db: SqlDatabase): Promise<IssuanceRepository> {
    await db.migrate(ISSUANCE_MIGRATION_NAMESPACE, MIGRATIONS);
    return new IssuanceRepository(db);
  }

  /**
   * Records a grant nonce as used. True the first time; false when (realm, nonce) was used before,
   * by this process or any other sharing the database. Resolves only once the record is durable.
   * @param expires the grant's expiry (unix seconds), after which the record may be pruned.
   */
  consumeGrantNonce(realm: string, nonce: Uint8Array, expires: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ realm, nonce, expires, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Group commit: one transaction (one fsync) records every nonce waiting when it starts. A durable
   * commit costs milliseconds (hundreds on a busy disk), so one per issuance caps a D-TA at the
   * disk's fsync rate; a batch costs about the same as one nonce.
   *
   * The commit starts in a `setImmediate` callback, i.e. after the event loop's poll phase. That is
   * what makes batches form over HTTP: each request arrives in its own I/O callback, and its whole
   * way to this method (body parsing, grant verification, the revocation read) runs in microtasks
   * of that callback, so a commit started at once would always hold one nonce. node:sqlite commits
   * synchronously, so the fsync blocks the loop: the requests that arrive meanwhile are read in the
   * next poll phase and all join the following commit.
   */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => void this.#commitPending());
  }

  async #commitPending(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    try {
      const firsts = await this.#db.transaction(async (tx) => {
        const results: boolean[] = [];
        for (const { realm, nonce, expires } of batch) {
          const { changes } = await tx.run(
            'INSERT INTO dta_grant_nonces (realm, nonce, expires) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
            [realm, nonce, expires],
          );
          results.push(changes === 1);
        }
        return results;
      });
      batch.forEach((pending, i) => pending.resolve(firsts[i]!));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      this.#scheduled = false;
      if (this.#pending.length > 0) this.#schedule();
    }
  }

  /** Forgets nonces of grants that expired before `before` (unix seconds); returns how many. */
  async pruneGrantNonces(before: number): Promise<number> {
    const { changes } = await this.#db.run('DELETE FROM dta_grant_nonces WHERE expires < ?', [before]);
    return changes;
  }

  /** True when `identityHash` is on `realm`'s revocation list. */
  async isRevoked(realm: string, identityHash: Uint8Array): Promise<boolean> {
    const row = await this.#db.get('SELECT 1 AS revoked FROM dta_revoked WHERE realm = ? AND identity_hash = ?', [realm, identityHash]);
    return row !== undefined;
  }

  /** Sequence number of the last update applied to `realm`'s list (-1 before the first). */
  async revocationSeq(realm: string): Promise<number> {
    const row = await this.#db.get<{ seq: number | bigint }>('SELECT seq FROM dta_revocation_seq WHERE realm = ?', [realm]);
    return row === undefined ? -1 : Number(row.seq);
  }

  /**
   * Applies an update atomically when its `seq` is newer than the last one applied; false (and
   * nothing changed) when it is not, so a redelivered or stale update is harmless.
   */
  async applyRevocation(update: RevocationUpdate): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      const row = await tx.get<{ seq: number | bigint }>('SELECT seq FROM dta_revocation_seq WHERE realm = ?', [update.realm]);
      if (row !== undefined && Number(row.seq) >= update.seq) return false;
      for (const hash of update.revoke) {
        await tx.run('INSERT INTO dta_revoked (realm, identity_hash) VALUES (?, ?) ON CONFLICT DO NOTHING', [update.realm, hash]);
      }
      for (const hash of update.reinstate) {
        await tx.run('DELETE FROM dta_revoked WHERE realm = ? AND identity_hash = ?', [update.realm, hash]);
      }
      await tx.run(
        'INSERT INTO dta_revocation_seq (realm, seq) VALUES (?, ?) ON CONFLICT (realm) DO UPDATE SET seq = excluded.seq',
        [update.realm, update.seq],
      );
      return true;
    });
  }
}
