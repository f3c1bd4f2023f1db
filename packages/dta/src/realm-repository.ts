import * as dagCbor from '@ipld/dag-cbor';
import type { Migration, SqlDatabase, SqlExecutor, SqlRow } from '@milagro/storage';
import { bytesToHex } from '@milagro/crypto';
import { decodeRealmDefinition, encodeRealmDefinition } from './realm-protocol.js';
import type { RealmDefinition } from './realm-directory.js';

/**
 * Durable, public realm state (namespace `dta-realms`): each realm's definition, state and the
 * public results of its latest completed run, and every protocol session this D-TA took part in
 * or refused (so a redelivered message of a finished session is recognised and ignored). Nothing
 * secret is stored here: master-secret shares live in the key store.
 */

/**
 * `pending`: a DKG (or a resharing that brings this D-TA in) is running; `active`: this D-TA holds
 * a confirmed share of the current epoch; `failed`: that run failed (it may be run again);
 * `retired`: a resharing removed this D-TA and its share was deleted (it issues nothing more for
 * the realm). A resharing of a realm active here leaves it active, on the current epoch's share,
 * until the new epoch is confirmed.
 */
export type RealmState = 'pending' | 'active' | 'failed' | 'retired';

/**
 * `pending`: running. `confirmed`: every qualified member confirmed the same transcript; the
 * share is being stored. `done`, `failed`, `refused` (a proposal this D-TA did not accept).
 */
export type SessionState = 'pending' | 'confirmed' | 'done' | 'failed' | 'refused';

/** What a session runs. */
export type SessionKind = 'dkg' | 'reshare';

/** The public outcome of a completed run, as this D-TA saw it. */
export interface RealmRunResult {
  readonly epoch: number;
  /** This D-TA's Shamir index. */
  readonly index: bigint;
  /** s·G1, compressed (48 bytes). */
  readonly groupPublicKey: Uint8Array;
  /** The joint Feldman commitments in G1 (`encodeCommitments`); the first is the group public key. */
  readonly commitments: Uint8Array;
  /** QUAL, ascending. */
  readonly qualified: readonly bigint[];
  readonly transcriptHash: Uint8Array;
}

export interface StoredRealm {
  readonly definition: RealmDefinition;
  readonly state: RealmState;
  /** Why it failed (no secrets). */
  readonly reason?: string;
  /** The epoch of the latest run (0 for the DKG). */
  readonly epoch: number;
  /** The latest run's session id (hex). */
  readonly sessionId: string;
  readonly proposer: string;
  /** Present once active. */
  readonly result?: RealmRunResult;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface StoredSession {
  /** Hex. */
  readonly sessionId: string;
  readonly realmId: string;
  readonly kind: SessionKind;
  readonly epoch: number;
  readonly proposer: string;
  readonly state: SessionState;
  readonly reason?: string;
  /** Kept from `confirmed` on, so a restart can finish activating. */
  readonly result?: RealmRunResult;
  /** The definition the session runs (also for refused proposals). */
  readonly definition: RealmDefinition;
  readonly createdAt: number;
  readonly updatedAt: number;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'realms and their protocol sessions',
    statements: [
      `CREATE TABLE dta_realms (
        realm_id TEXT PRIMARY KEY,
        definition {{blob}} NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        epoch INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        proposer TEXT NOT NULL,
        result {{blob}},
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE TABLE dta_realm_sessions (
        session_id TEXT PRIMARY KEY,
        realm_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        proposer TEXT NOT NULL,
        definition {{blob}} NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        result {{blob}},
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      'CREATE INDEX dta_realm_sessions_state ON dta_realm_sessions (state)',
    ],
  },
];

interface RealmRow extends SqlRow {
  realm_id: string;
  definition: Uint8Array;
  state: string;
  reason: string | null;
  epoch: number;
  session_id: string;
  proposer: string;
  result: Uint8Array | null;
  created_at: number | bigint;
  updated_at: number | bigint;
}

interface SessionRow extends SqlRow {
  session_id: string;
  realm_id: string;
  kind: string;
  epoch: number;
  proposer: string;
  definition: Uint8Array;
  state: string;
  reason: string | null;
  result: Uint8Array | null;
  created_at: number | bigint;
  updated_at: number | bigint;
}

/** What starting a session records. */
export interface NewSession {
  readonly sessionId: Uint8Array;
  readonly definition: RealmDefinition;
  readonly epoch: number;
  readonly proposer: string;
  readonly now: number;
}

export class RealmRepository {
  readonly #db: SqlDatabase;

  private constructor(db: SqlDatabase) {
    this.#db = db;
  }

  /** Applies the `dta-realms` migrations and returns the repository. */
  static async open(db: SqlDatabase): Promise<RealmRepository> {
    await db.migrate('dta-realms', MIGRATIONS);
    return new RealmRepository(db);
  }

  async realm(realmId: string): Promise<StoredRealm | undefined> {
    const row = await this.#db.get<RealmRow>('SELECT * FROM dta_realms WHERE realm_id = ?', [realmId]);
    return row && realmFromRow(row);
  }

  async realms(): Promise<StoredRealm[]> {
    const rows = await this.#db.all<RealmRow>('SELECT * FROM dta_realms ORDER BY realm_id');
    return rows.map(realmFromRow);
  }

  async session(sessionId: Uint8Array | string): Promise<StoredSession | undefined> {
    const id = typeof sessionId === 'string' ? sessionId : bytesToHex(sessionId);
    const row = await this.#db.get<SessionRow>('SELECT * FROM dta_realm_sessions WHERE session_id = ?', [id]);
    return row && sessionFromRow(row);
  }

  /** Sessions in the given states, oldest first. */
  async sessions(states: readonly SessionState[]): Promise<StoredSession[]> {
    if (states.length === 0) return [];
    const rows = await this.#db.all<SessionRow>(
      `SELECT * FROM dta_realm_sessions WHERE state IN (${states.map(() => '?').join(', ')}) ORDER BY created_at, session_id`,
      states,
    );
    return rows.map(sessionFromRow);
  }

  /**
   * Records a new DKG session and puts its realm in `pending` (creating the realm or replacing a
   * failed one), atomically. Returns false, changing nothing, when the session is already known
   * or the realm is pending or active (the caller checks first; this closes the race).
   */
  async beginDkg(session: NewSession): Promise<boolean> {
    const realmId = session.definition.realmId;
    return this.#db.transaction(async (tx) => {
      const existing = await tx.get<RealmRow>('SELECT state FROM dta_realms WHERE realm_id = ?', [realmId]);
      if (existing && existing.state !== 'failed') return false;
      if (!(await insertPendingSession(tx, 'dkg', session))) return false;
      await putPendingRealm(tx, session, existing !== undefined);
      return true;
    });
  }

  /**
   * Records a new resharing session, atomically with its checks. A realm active here stays active
   * (on its current share) until the new epoch is confirmed; an unknown, failed or retired one
   * (this D-TA joins) becomes `pending`. Returns false, changing nothing, when the session is
   * already known, another run of the realm is unfinished, or the realm is pending here.
   */
  async beginReshare(session: NewSession): Promise<boolean> {
    const realmId = session.definition.realmId;
    return this.#db.transaction(async (tx) => {
      const existing = await tx.get<RealmRow>('SELECT state FROM dta_realms WHERE realm_id = ?', [realmId]);
      if (existing?.state === 'pending') return false;
      const open = await tx.get<SqlRow>(`SELECT session_id FROM dta_realm_sessions WHERE realm_id = ? AND state IN ('pending', 'confirmed')`, [realmId]);
      if (open) return false;
      if (!(await insertPendingSession(tx, 'reshare', session))) return false;
      if (existing?.state !== 'active') await putPendingRealm(tx, session, existing !== undefined);
      return true;
    });
  }

  /** True when a run of the realm is unfinished here (pending or confirmed). */
  async hasOpenSession(realmId: string): Promise<boolean> {
    return (await this.#db.get<SqlRow>(`SELECT session_id FROM dta_realm_sessions WHERE realm_id = ? AND state IN ('pending', 'confirmed')`, [realmId])) !== undefined;
  }

  /** The realm's newest session this D-TA took part in (refusals left out), if any. */
  async latestSession(realmId: string): Promise<StoredSession | undefined> {
    const row = await this.#db.get<SessionRow>(
      `SELECT * FROM dta_realm_sessions WHERE realm_id = ? AND state <> 'refused' ORDER BY epoch DESC, created_at DESC, session_id LIMIT 1`,
      [realmId],
    );
    return row && sessionFromRow(row);
  }

  /**
   * A resharing removed this D-TA: the session is done and the realm `retired` here with the new
   * definition and epoch (no result: this D-TA holds no share of it). Call before deleting the old share.
   */
  async retire(sessionId: Uint8Array | string, definition: RealmDefinition, epoch: number, now: number): Promise<void> {
    const id = typeof sessionId === 'string' ? sessionId : bytesToHex(sessionId);
    await this.#db.transaction(async (tx) => {
      await tx.run(`UPDATE dta_realm_sessions SET state = 'done', updated_at = ? WHERE session_id = ?`, [now, id]);
      await tx.run(`UPDATE dta_realms SET definition = ?, state = 'retired', reason = NULL, epoch = ?, session_id = ?, result = NULL, updated_at = ? WHERE realm_id = ?`, [
        encodeRealmDefinition(definition),
        epoch,
        id,
        now,
        definition.realmId,
      ]);
    });
  }

  /** Records a refused proposal (once per session id; later copies change nothing). */
  async recordRefusal(session: NewSession & { readonly reason: string; readonly kind?: SessionKind }): Promise<void> {
    await this.#db.run(
      `INSERT INTO dta_realm_sessions (session_id, realm_id, kind, epoch, proposer, definition, state, reason, result, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'refused', ?, NULL, ?, ?) ON CONFLICT DO NOTHING`,
      [
        bytesToHex(session.sessionId),
        session.definition.realmId,
        session.kind ?? 'dkg',
        session.epoch,
        session.proposer,
        encodeRealmDefinition(session.definition),
        session.reason,
        session.now,
        session.now,
      ],
    );
  }

  /** Marks a pending session `confirmed` and keeps its public result (before the share is stored). */
  async confirmSession(sessionId: Uint8Array, result: RealmRunResult, now: number): Promise<void> {
    await this.#db.run(`UPDATE dta_realm_sessions SET state = 'confirmed', result = ?, updated_at = ? WHERE session_id = ? AND state = 'pending'`, [
      encodeResult(result),
      now,
      bytesToHex(sessionId),
    ]);
  }

  /**
   * The session's realm becomes active here with `definition` (a resharing changes members and
   * threshold) and `result`, replacing the run that created it or an older active epoch; the
   * session is done. Call only once the share is in the key store.
   */
  async activate(sessionId: Uint8Array | string, definition: RealmDefinition, result: RealmRunResult, now: number): Promise<void> {
    const id = typeof sessionId === 'string' ? sessionId : bytesToHex(sessionId);
    await this.#db.transaction(async (tx) => {
      await tx.run(`UPDATE dta_realm_sessions SET state = 'done', result = ?, updated_at = ? WHERE session_id = ?`, [encodeResult(result), now, id]);
      await tx.run(
        `UPDATE dta_realms SET definition = ?, state = 'active', reason = NULL, epoch = ?, session_id = ?, result = ?, updated_at = ?
         WHERE realm_id = ? AND (session_id = ? OR (state = 'active' AND epoch < ?))`,
        [encodeRealmDefinition(definition), result.epoch, id, encodeResult(result), now, definition.realmId, id, result.epoch],
      );
    });
  }

  /** Marks an unfinished session failed, and its realm too if this session is the realm's latest run and not active. */
  async fail(sessionId: Uint8Array | string, reason: string, now: number): Promise<void> {
    const id = typeof sessionId === 'string' ? sessionId : bytesToHex(sessionId);
    await this.#db.transaction(async (tx) => {
      await failIn(tx, id, reason, now);
    });
  }
}

/** Inserts a pending session; false when its id is already known. */
async function insertPendingSession(tx: SqlExecutor, kind: SessionKind, session: NewSession): Promise<boolean> {
  const inserted = await tx.run(
    `INSERT INTO dta_realm_sessions (session_id, realm_id, kind, epoch, proposer, definition, state, reason, result, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 'pending', NULL, NULL, ?, ?) ON CONFLICT DO NOTHING`,
    [bytesToHex(session.sessionId), session.definition.realmId, kind, session.epoch, session.proposer, encodeRealmDefinition(session.definition), session.now, session.now],
  );
  return inserted.changes > 0;
}

/** Makes the session the realm's latest run, `pending`: updates the realm's row if it `exists`, else creates it. */
async function putPendingRealm(tx: SqlExecutor, session: NewSession, exists: boolean): Promise<void> {
  const id = bytesToHex(session.sessionId);
  const definition = encodeRealmDefinition(session.definition);
  const realmId = session.definition.realmId;
  if (exists) {
    await tx.run(
      `UPDATE dta_realms SET definition = ?, state = 'pending', reason = NULL, epoch = ?, session_id = ?, proposer = ?, result = NULL, updated_at = ? WHERE realm_id = ?`,
      [definition, session.epoch, id, session.proposer, session.now, realmId],
    );
  } else {
    await tx.run(
      `INSERT INTO dta_realms (realm_id, definition, state, reason, epoch, session_id, proposer, result, created_at, updated_at)
       VALUES (?, ?, 'pending', NULL, ?, ?, ?, NULL, ?, ?)`,
      [realmId, definition, session.epoch, id, session.proposer, session.now, session.now],
    );
  }
}

async function failIn(tx: SqlExecutor, id: string, reason: string, now: number): Promise<void> {
  await tx.run(`UPDATE dta_realm_sessions SET state = 'failed', reason = ?, updated_at = ? WHERE session_id = ? AND state IN ('pending', 'confirmed')`, [reason, now, id]);
  await tx.run(`UPDATE dta_realms SET state = 'failed', reason = ?, updated_at = ? WHERE session_id = ? AND state = 'pending'`, [reason, now, id]);
}

// The public result is stored as DAG-CBOR; indices as numbers (they are at most 255).
function encodeResult(result: RealmRunResult): Uint8Array {
  return dagCbor.encode({
    epoch: result.epoch,
    index: Number(result.index),
    groupPublicKey: result.groupPublicKey,
    commitments: result.commitments,
    qualified: result.qualified.map(Number),
    transcriptHash: result.transcriptHash,
  });
}

function decodeResult(bytes: Uint8Array): RealmRunResult {
  const r = dagCbor.decode(bytes) as { epoch: number; index: number; groupPublicKey: Uint8Array; commitments: Uint8Array; qualified: number[]; transcriptHash: Uint8Array };
  return {
    epoch: r.epoch,
    index: BigInt(r.index),
    groupPublicKey: r.groupPublicKey,
    commitments: r.commitments,
    qualified: r.qualified.map(BigInt),
    transcriptHash: r.transcriptHash,
  };
}

function realmFromRow(row: RealmRow): StoredRealm {
  return {
    definition: decodeRealmDefinition(row.definition),
    state: row.state as RealmState,
    ...(row.reason === null ? {} : { reason: row.reason }),
    epoch: Number(row.epoch),
    sessionId: row.session_id,
    proposer: row.proposer,
    ...(row.result === null ? {} : { result: decodeResult(row.result) }),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function sessionFromRow(row: SessionRow): StoredSession {
  return {
    sessionId: row.session_id,
    realmId: row.realm_id,
    kind: row.kind === 'reshare' ? 'reshare' : 'dkg',
    epoch: Number(row.epoch),
    proposer: row.proposer,
    state: row.state as SessionState,
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.result === null ? {} : { result: decodeResult(row.result) }),
    definition: decodeRealmDefinition(row.definition),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
