/**
 * Durable, public custody state (namespace `custody`): vaults (definition, the principal's
 * signature, state, the public key package of the current epoch, the head of the audit chain),
 * protocol sessions (so a redelivered message of a finished session is ignored), and signing
 * requests, each id accepted once. Nothing secret is stored here: key shares live in the key store.
 */
import * as dagCbor from '@ipld/dag-cbor';
import type { Migration, SqlDatabase, SqlRow } from '@milagro/storage';
import type { VaultKey } from './frost-dkg.js';
import { decodeVaultDefinition, encodeVaultDefinition, type VaultDefinition } from './vault.js';

/**
 * `pending`: the DKG runs; `active`: this operator holds a confirmed share; `failed`: the DKG failed
 * (the vault may be created again); `retired`: a resharing left this operator out (its share is gone).
 */
export type VaultState = 'pending' | 'active' | 'failed' | 'retired';

/** `signing`: accepted and running; `signed`; `failed`; `refused` (policy, or a replay). */
export type RequestState = 'signing' | 'signed' | 'failed' | 'refused';

export interface StoredVault {
  readonly definition: VaultDefinition;
  readonly signature: Uint8Array;
  readonly state: VaultState;
  readonly reason?: string;
  readonly sessionId: string;
  readonly epoch: number;
  readonly coordinator: string;
  readonly key?: VaultKey;
  readonly auditHead?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface StoredRequest {
  readonly vaultId: string;
  readonly requestId: string;
  readonly state: RequestState;
  readonly reason?: string;
  /** The signatures (and for a PSBT the finalised transaction), once signed. */
  readonly result?: SignResult;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A signing request's outcome. */
export interface SignResult {
  readonly signatures: readonly Uint8Array[];
  readonly psbt?: Uint8Array;
  readonly transaction?: Uint8Array;
  readonly txid?: string;
  /** Operators that signed (indices). */
  readonly signers: readonly number[];
  /** Operators caught cheating during this request, with the reason. */
  readonly blamed: ReadonlyArray<{ readonly operator: number; readonly reason: string }>;
  /** Escrow releases: each operator's share, sealed to the principal (envelope bytes). */
  readonly sealedShares?: ReadonlyArray<{ readonly operator: number; readonly envelope: Uint8Array }>;
  /**
   * Set when this operator did not sign: the coordinator (identity) whose result it checked and
   * recorded (`signers` is then that coordinator's claim; the signatures were verified here).
   */
  readonly learnedFrom?: string;
  /** Set when this operator's own policy check refuses a request that the others signed: its refusal. */
  readonly policyConflict?: string;
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'vaults, protocol sessions and signing requests',
    statements: [
      `CREATE TABLE custody_vaults (
        vault_id TEXT PRIMARY KEY,
        definition {{blob}} NOT NULL,
        signature {{blob}} NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        session_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        coordinator TEXT NOT NULL,
        vault_key {{blob}},
        audit_head TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      )`,
      `CREATE TABLE custody_sessions (
        session_id TEXT PRIMARY KEY,
        vault_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at BIGINT NOT NULL
      )`,
      `CREATE TABLE custody_requests (
        vault_id TEXT NOT NULL,
        request_id TEXT NOT NULL,
        state TEXT NOT NULL,
        reason TEXT,
        result {{blob}},
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (vault_id, request_id)
      )`,
    ],
  },
];

interface VaultRow extends SqlRow {
  vault_id: string;
  definition: Uint8Array;
  signature: Uint8Array;
  state: string;
  reason: string | null;
  session_id: string;
  epoch: number;
  coordinator: string;
  vault_key: Uint8Array | null;
  audit_head: string | null;
  created_at: number | bigint;
  updated_at: number | bigint;
}

interface RequestRow extends SqlRow {
  vault_id: string;
  request_id: string;
  state: string;
  reason: string | null;
  result: Uint8Array | null;
  created_at: number | bigint;
  updated_at: number | bigint;
}

function encodeKey(key: VaultKey): Uint8Array {
  return dagCbor.encode({
    commitments: [...key.publicPackage.commitments],
    verifyingShares: { ...key.publicPackage.verifyingShares },
    internalKey: key.internalKey,
    outputKey: key.outputKey,
    transcriptHash: key.transcriptHash,
  });
}

function decodeKey(bytes: Uint8Array): VaultKey {
  const v = dagCbor.decode(bytes) as { commitments: Uint8Array[]; verifyingShares: Record<string, Uint8Array>; internalKey: Uint8Array; outputKey: Uint8Array; transcriptHash: Uint8Array };
  return { publicPackage: { commitments: v.commitments, verifyingShares: v.verifyingShares }, internalKey: v.internalKey, outputKey: v.outputKey, transcriptHash: v.transcriptHash };
}

function encodeResult(result: SignResult): Uint8Array {
  return dagCbor.encode({
    signatures: [...result.signatures],
    psbt: result.psbt ?? null,
    transaction: result.transaction ?? null,
    txid: result.txid ?? null,
    signers: [...result.signers],
    blamed: result.blamed.map((b) => ({ operator: b.operator, reason: b.reason })),
    sealedShares: result.sealedShares?.map((s) => ({ operator: s.operator, envelope: s.envelope })) ?? null,
    ...(result.learnedFrom === undefined ? {} : { learnedFrom: result.learnedFrom }),
    ...(result.policyConflict === undefined ? {} : { policyConflict: result.policyConflict }),
  });
}

function decodeResult(bytes: Uint8Array): SignResult {
  const v = dagCbor.decode(bytes) as {
    signatures: Uint8Array[];
    psbt: Uint8Array | null;
    transaction: Uint8Array | null;
    txid: string | null;
    signers: number[];
    blamed: Array<{ operator: number; reason: string }>;
    sealedShares?: Array<{ operator: number; envelope: Uint8Array }> | null;
    learnedFrom?: string;
    policyConflict?: string;
  };
  return {
    signatures: v.signatures,
    ...(v.psbt === null ? {} : { psbt: v.psbt }),
    ...(v.transaction === null ? {} : { transaction: v.transaction }),
    ...(v.txid === null ? {} : { txid: v.txid }),
    signers: v.signers,
    blamed: v.blamed,
    ...(v.sealedShares === undefined || v.sealedShares === null ? {} : { sealedShares: v.sealedShares }),
    ...(v.learnedFrom === undefined ? {} : { learnedFrom: v.learnedFrom }),
    ...(v.policyConflict === undefined ? {} : { policyConflict: v.policyConflict }),
  };
}

const num = (value: number | bigint): number => Number(value);

function vaultFromRow(row: VaultRow): StoredVault {
  return {
    definition: decodeVaultDefinition(row.definition),
    signature: row.signature,
    state: row.state as VaultState,
    ...(row.reason === null ? {} : { reason: row.reason }),
    sessionId: row.session_id,
    epoch: row.epoch,
    coordinator: row.coordinator,
    ...(row.vault_key === null ? {} : { key: decodeKey(row.vault_key) }),
    ...(row.audit_head === null ? {} : { auditHead: row.audit_head }),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function requestFromRow(row: RequestRow): StoredRequest {
  return {
    vaultId: row.vault_id,
    requestId: row.request_id,
    state: row.state as RequestState,
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.result === null ? {} : { result: decodeResult(row.result) }),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

export class CustodyRepository {
  readonly #db: SqlDatabase;

  private constructor(db: SqlDatabase) {
    this.#db = db;
  }

  static async open(db: SqlDatabase): Promise<CustodyRepository> {
    await db.migrate('custody', MIGRATIONS);
    return new CustodyRepository(db);
  }

  async vault(vaultId: string): Promise<StoredVault | undefined> {
    const row = await this.#db.get<VaultRow>('SELECT * FROM custody_vaults WHERE vault_id = ?', [vaultId]);
    return row && vaultFromRow(row);
  }

  async vaults(): Promise<StoredVault[]> {
    return (await this.#db.all<VaultRow>('SELECT * FROM custody_vaults ORDER BY vault_id')).map(vaultFromRow);
  }

  /** True when this session was seen before (any state). */
  async knowsSession(sessionId: string): Promise<boolean> {
    return (await this.#db.get('SELECT session_id FROM custody_sessions WHERE session_id = ?', [sessionId])) !== undefined;
  }

  async endSession(sessionId: string, state: 'done' | 'failed'): Promise<void> {
    await this.#db.run('UPDATE custody_sessions SET state = ? WHERE session_id = ?', [state, sessionId]);
  }

  /** Sessions still marked running (a restart fails them). */
  async runningSessions(): Promise<Array<{ sessionId: string; vaultId: string; kind: string }>> {
    const rows = await this.#db.all<{ session_id: string; vault_id: string; kind: string }>("SELECT session_id, vault_id, kind FROM custody_sessions WHERE state = 'running'");
    return rows.map((r) => ({ sessionId: r.session_id, vaultId: r.vault_id, kind: r.kind }));
  }

  /**
   * Records a new DKG session and puts the vault in `pending` (creating it, or replacing a failed
   * one), atomically. False, changing nothing, when the session is known or the vault is pending or active.
   */
  async beginVault(vault: { definition: VaultDefinition; signature: Uint8Array; sessionId: string; coordinator: string; now: number }): Promise<boolean> {
    const vaultId = vault.definition.vaultId;
    return this.#db.transaction(async (tx) => {
      const existing = await tx.get<{ state: string }>('SELECT state FROM custody_vaults WHERE vault_id = ?', [vaultId]);
      if (existing && existing.state !== 'failed') return false;
      const inserted = await tx.run("INSERT INTO custody_sessions (session_id, vault_id, kind, state, created_at) VALUES (?, ?, 'dkg', 'running', ?) ON CONFLICT DO NOTHING", [vault.sessionId, vaultId, vault.now]);
      if (inserted.changes === 0) return false;
      if (existing) await tx.run('DELETE FROM custody_vaults WHERE vault_id = ?', [vaultId]);
      await tx.run(
        "INSERT INTO custody_vaults (vault_id, definition, signature, state, session_id, epoch, coordinator, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, 0, ?, ?, ?)",
        [vaultId, encodeVaultDefinition(vault.definition), vault.signature, vault.sessionId, vault.coordinator, vault.now, vault.now],
      );
      return true;
    });
  }

  /** Records a refresh or resharing session of a vault; false when the session is known. */
  async beginRefresh(vaultId: string, sessionId: string, now: number, kind: 'refresh' | 'reshare' = 'refresh'): Promise<boolean> {
    const inserted = await this.#db.run("INSERT INTO custody_sessions (session_id, vault_id, kind, state, created_at) VALUES (?, ?, ?, 'running', ?) ON CONFLICT DO NOTHING", [sessionId, vaultId, kind, now]);
    return inserted.changes === 1;
  }

  /** A resharing gave this operator a share: the vault (new or existing here) is active at `epoch` with the new definition. */
  async installReshared(definition: VaultDefinition, signature: Uint8Array, sessionId: string, epoch: number, key: VaultKey, now: number): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const existing = await tx.get<{ created_at: number | bigint; audit_head: string | null; coordinator: string }>('SELECT created_at, audit_head, coordinator FROM custody_vaults WHERE vault_id = ?', [definition.vaultId]);
      await tx.run('DELETE FROM custody_vaults WHERE vault_id = ?', [definition.vaultId]);
      await tx.run(
        "INSERT INTO custody_vaults (vault_id, definition, signature, state, session_id, epoch, coordinator, vault_key, audit_head, created_at, updated_at) VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?, ?, ?)",
        [definition.vaultId, encodeVaultDefinition(definition), signature, sessionId, epoch, existing?.coordinator ?? '', encodeKey(key), existing?.audit_head ?? null, existing?.created_at ?? now, now],
      );
      await tx.run("UPDATE custody_sessions SET state = 'done' WHERE session_id = ?", [sessionId]);
    });
  }

  /** A resharing left this operator out. */
  async retire(vaultId: string, sessionId: string, epoch: number, now: number): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.run("UPDATE custody_vaults SET state = 'retired', epoch = ?, updated_at = ? WHERE vault_id = ?", [epoch, now, vaultId]);
      await tx.run("UPDATE custody_sessions SET state = 'done' WHERE session_id = ?", [sessionId]);
    });
  }

  /** The vault becomes active at `epoch` with `key` (after its share is in the key store). */
  async activate(vaultId: string, sessionId: string, epoch: number, key: VaultKey, now: number): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.run("UPDATE custody_vaults SET state = 'active', reason = NULL, epoch = ?, vault_key = ?, updated_at = ? WHERE vault_id = ?", [epoch, encodeKey(key), now, vaultId]);
      await tx.run("UPDATE custody_sessions SET state = 'done' WHERE session_id = ?", [sessionId]);
    });
  }

  /** A DKG failed: the vault is `failed` with `reason`. */
  async failVault(vaultId: string, sessionId: string, reason: string, now: number): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.run("UPDATE custody_vaults SET state = 'failed', reason = ?, updated_at = ? WHERE vault_id = ? AND session_id = ? AND state = 'pending'", [reason, now, vaultId, sessionId]);
      await tx.run("UPDATE custody_sessions SET state = 'failed' WHERE session_id = ?", [sessionId]);
    });
  }

  async setAuditHead(vaultId: string, head: string): Promise<void> {
    await this.#db.run('UPDATE custody_vaults SET audit_head = ? WHERE vault_id = ?', [head, vaultId]);
  }

  /** Accepts a request id once: true the first time, false ever after (the request never signs twice). */
  async consumeRequest(vaultId: string, requestId: string, now: number): Promise<boolean> {
    const inserted = await this.#db.run("INSERT INTO custody_requests (vault_id, request_id, state, created_at, updated_at) VALUES (?, ?, 'signing', ?, ?) ON CONFLICT DO NOTHING", [vaultId, requestId, now, now]);
    return inserted.changes === 1;
  }

  async request(vaultId: string, requestId: string): Promise<StoredRequest | undefined> {
    const row = await this.#db.get<RequestRow>('SELECT * FROM custody_requests WHERE vault_id = ? AND request_id = ?', [vaultId, requestId]);
    return row && requestFromRow(row);
  }

  async finishRequest(vaultId: string, requestId: string, outcome: { state: Exclude<RequestState, 'signing'>; reason?: string; result?: SignResult }, now: number): Promise<void> {
    await this.#db.run('UPDATE custody_requests SET state = ?, reason = ?, result = ?, updated_at = ? WHERE vault_id = ? AND request_id = ?', [
      outcome.state,
      outcome.reason ?? null,
      outcome.result === undefined ? null : encodeResult(outcome.result),
      now,
      vaultId,
      requestId,
    ]);
  }

  /**
   * Records the outcome another operator reported for a request (checked by the caller): inserts
   * the request (so its id is consumed here too) or replaces this operator's own state, unless it
   * is already `signed` here. True when something changed.
   */
  async recordLearned(vaultId: string, requestId: string, outcome: { state: 'signed' | 'refused'; reason?: string; result: SignResult }, now: number): Promise<boolean> {
    const changed = await this.#db.run(
      `INSERT INTO custody_requests (vault_id, request_id, state, reason, result, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (vault_id, request_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, result = excluded.result, updated_at = excluded.updated_at
       WHERE custody_requests.state <> 'signed'`,
      [vaultId, requestId, outcome.state, outcome.reason ?? null, encodeResult(outcome.result), now, now],
    );
    return changed.changes > 0;
  }

  /** Requests left `signing` by a crash become `failed` (their ids stay consumed). */
  async failRunningRequests(now: number): Promise<void> {
    await this.#db.run("UPDATE custody_requests SET state = 'failed', reason = 'interrupted by a restart', updated_at = ? WHERE state = 'signing'", [now]);
  }
}
