/**
 * The fiduciary's side: it keeps (pins) the backups it is a fiduciary of, and releases its share of
 * a backup only to a requester that shows a valid recovery proof, sealed to the requester's KEM key
 * (messaging seals every message to its recipient). Every release is first recorded as an envelope
 * in the fiduciary's own audit chain (`prev`-linked, sealed to itself, pinned), whose CID the
 * release names. A fiduciary holds no copy of its share: it unwraps it from the backup envelope on
 * demand, so a backup needs nothing stored at the fiduciary but the pinned blocks.
 *
 * Each backup is pinned in parts: the envelope and its body blocks recursively, the node's identity
 * document recursively, the manifest alone (a recursive pin of the manifest would hold every earlier
 * backup through `prev`). So a node can retire old backups (retention, docs/specs/backup.md §10): on
 * its signed request the fiduciary unpins the body and keeps the small signed manifest, so the chain
 * stays walkable and a release of a retired backup is refused as `RETIRED`, not left to time out.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { encodeEnvelope, sealEnvelope, unwrapShare, type EnvelopeRecipientKey, type EnvelopeSigner } from '@milagro/envelope';
import type { Migration, SqlDatabase, SqlValue } from '@milagro/storage';
import { CID } from 'multiformats/cid';
import type { BackupMessage, BackupMessenger, KeyResolver } from './backup-messenger.js';
import {
  decodeManifestNotice,
  decodeReleaseRequest,
  decodeRetireRequest,
  encodeManifestNotice,
  encodeRefusal,
  encodeRelease,
  encodeRetiredNotice,
  isFiduciaryMessageType,
  type RetireRequest,
} from './backup-messages.js';
import { putEnvelopeBytes, readEnvelope, readManifest, type BackupStore } from './backup-store.js';
import { AUDIT_TYPE, BACKUP_VERSION, DEFAULT_MAX_PROOF_AGE_MS, DEFAULT_RELEASE_LIMIT, MESSAGE_TYPES } from './constants.js';
import { BackupError, isBackupError } from './errors.js';
import { verifyManifest, type SignedManifest } from './manifest.js';
import { nodeKeyAtBackup } from './node-key.js';
import { verifyRecoveryProof } from './recovery-credential.js';
import { verifyRetireClaim } from './retire-request.js';

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'backup deposits and the release audit chain',
    statements: [
      'CREATE TABLE backup_deposits (manifest TEXT PRIMARY KEY, node TEXT NOT NULL, created BIGINT NOT NULL, pinned_at BIGINT NOT NULL)',
      'CREATE INDEX backup_deposits_node ON backup_deposits (node, created)',
      'CREATE TABLE backup_audit (seq BIGINT PRIMARY KEY, cid TEXT NOT NULL, manifest TEXT NOT NULL, requester TEXT NOT NULL, at BIGINT NOT NULL)',
    ],
  },
  {
    version: 2,
    description: 'the release rate limit: which node each audit entry is about, and refusals beside releases',
    statements: [
      'ALTER TABLE backup_audit ADD COLUMN node TEXT',
      "ALTER TABLE backup_audit ADD COLUMN event TEXT NOT NULL DEFAULT 'release'",
      'CREATE INDEX backup_audit_node ON backup_audit (node, at)',
    ],
  },
  {
    version: 3,
    description: 'retention: backups pinned in parts (envelope, identity, manifest alone), their size, and retirements (also of backups not deposited yet)',
    statements: [
      // NULL: deposited before version 3, pinned as one recursive pin of the manifest.
      'ALTER TABLE backup_deposits ADD COLUMN envelope TEXT',
      'ALTER TABLE backup_deposits ADD COLUMN size BIGINT',
      'CREATE TABLE backup_retired (manifest TEXT NOT NULL, node TEXT NOT NULL, retired_at BIGINT NOT NULL, PRIMARY KEY (manifest, node))',
    ],
  },
];

/** At most `releases` releases of one node's backups per `windowMs` (counted in the fiduciary's database). */
export interface ReleaseLimit {
  readonly releases: number;
  readonly windowMs: number;
}

/** Deposits fetched and pinned at once; the inbox waits for one to finish beyond this. */
const DEPOSITS_IN_FLIGHT = 4;

/** What the fiduciary reports (for logs and metrics; never secrets). */
export type FiduciaryEvent =
  | { readonly event: 'deposit-pinned'; readonly node: string; readonly manifest: string }
  | { readonly event: 'share-released'; readonly requester: string; readonly manifest: string; readonly audit: string }
  | { readonly event: 'release-rate-limited'; readonly node: string; readonly requester: string; readonly manifest: string; readonly audit: string }
  | { readonly event: 'backup-retired'; readonly node: string; readonly manifests: readonly string[]; readonly unpinned: number; readonly deletedBlocks: number; readonly audit: string | null }
  | { readonly event: 'request-refused'; readonly from: string; readonly type: string; readonly code: string; readonly message: string };

export interface BackupFiduciaryOptions {
  /** The fiduciary's messenger (or its `NodeInbox.claim(isFiduciaryMessageType)` view). */
  readonly messenger: BackupMessenger;
  readonly store: Pick<BackupStore, 'get' | 'getDag' | 'putDag' | 'pin' | 'unpin'> & {
    /**
     * Deletes a block from the local store, when the store can. With it, a retired backup's body
     * blocks are deleted once unpinned (so the disk space returns at once); without it they wait for
     * the store's garbage collection (Kubo: `ipfs repo gc`).
     */
    readonly remove?: (cid: CID) => Promise<unknown>;
    readonly isPinned?: (cid: CID) => Promise<boolean>;
    readonly has?: (cid: CID) => Promise<boolean>;
  };
  readonly resolver: KeyResolver;
  /** The fiduciary identity's signer (audit entries). */
  readonly signer: EnvelopeSigner;
  /** The fiduciary identity's X-Wing key (unwraps its share; audit entries are sealed to it). */
  readonly recipient: EnvelopeRecipientKey;
  readonly db: SqlDatabase;
  /**
   * Releases of one node's backups allowed per window (default 3 per 24 h, `DEFAULT_RELEASE_LIMIT`).
   * Only releases against a valid recovery proof count; a request over the limit is refused with
   * `RATE_LIMITED` and recorded in the audit chain.
   */
  readonly releaseLimit?: ReleaseLimit;
  /** Recovery proofs further than this from now are refused. Default 10 minutes. */
  readonly maxProofAgeMs?: number;
  /** Timeout of fetching a manifest or envelope for a release (default 60 s), and how long a deposit is tried (default 10 min). */
  readonly fetchTimeoutMs?: number;
  readonly pinTimeoutMs?: number;
  /**
   * Most bytes of backups (archive sizes, retired ones not counted) this fiduciary keeps for one node;
   * a deposit over it is refused with `QUOTA_EXCEEDED`. Default: no limit.
   */
  readonly maxBytesPerNode?: number;
  readonly now?: () => number;
  readonly onEvent?: (event: FiduciaryEvent) => void;
}

type AuditEntry =
  | ({ readonly manifest: CID; readonly node: string; readonly requester: string; readonly issued: number } & (
      | { readonly event: 'release'; readonly index: number }
      | { readonly event: 'release-refused'; readonly code: 'RATE_LIMITED' }
    ))
  /** A retirement: `request` is the node's signed retire request, kept as its proof. */
  | { readonly event: 'retire'; readonly manifests: readonly CID[]; readonly node: string; readonly issued: number; readonly request: Uint8Array }
  | { readonly event: 'retire-refused'; readonly manifests: readonly CID[]; readonly requester: string; readonly issued: number; readonly code: string; readonly reason: string };

function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** A backup fiduciary over a node's messenger, content store and database. */
export class BackupFiduciary {
  readonly #options: BackupFiduciaryOptions;
  readonly #now: () => number;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  /** Serialises audit appends (one chain, one head). */
  #audit: Promise<unknown> = Promise.resolve();
  /** Deposits being fetched and pinned. */
  readonly #deposits = new Set<Promise<void>>();

  private constructor(options: BackupFiduciaryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Migrates the fiduciary's tables; call {@link start} to begin reading the inbox. */
  static async open(options: BackupFiduciaryOptions): Promise<BackupFiduciary> {
    if (options.signer.id !== options.recipient.id) throw new BackupError('INVALID_ARGUMENT', 'signer and recipient must be the same identity');
    const limit = options.releaseLimit;
    if (limit !== undefined && (!Number.isSafeInteger(limit.releases) || limit.releases < 1 || !Number.isSafeInteger(limit.windowMs) || limit.windowMs < 1)) {
      throw new BackupError('INVALID_ARGUMENT', 'releaseLimit needs a positive whole number of releases and window');
    }
    const quota = options.maxBytesPerNode;
    if (quota !== undefined && (!Number.isSafeInteger(quota) || quota < 1)) throw new BackupError('INVALID_ARGUMENT', 'maxBytesPerNode must be a positive whole number of bytes');
    await options.db.migrate('backup', MIGRATIONS);
    return new BackupFiduciary(options);
  }

  get id(): string {
    return this.#options.signer.id;
  }

  /** Reads the inbox until {@link close}: handles deposits and release requests, consumes each after. */
  start(): void {
    this.#running ??= this.#run().catch((error: unknown) => {
      if (!this.#stop.signal.aborted) throw error;
    });
  }

  async #run(): Promise<void> {
    for await (const message of this.#options.messenger.messages({ signal: this.#stop.signal })) {
      if (message.type === MESSAGE_TYPES.deposit) {
        // A deposit can take minutes (every block is fetched, and tried again while the depositor's
        // blocks are unreachable): it runs beside the inbox so release requests never wait behind it.
        // One lost in a crash is no loss: the node's next backup links this one and is pinned with it.
        const deposit: Promise<void> = this.handle(message).finally(() => this.#deposits.delete(deposit));
        this.#deposits.add(deposit);
        if (this.#deposits.size >= DEPOSITS_IN_FLIGHT) await Promise.race(this.#deposits);
      } else if (isFiduciaryMessageType(message.type)) {
        await this.handle(message);
      }
      await this.#options.messenger.consumed(message.position);
    }
  }

  /** Handles one message (exposed for callers that read the inbox themselves). Never throws for bad input: it answers with a refusal. */
  async handle(message: BackupMessage): Promise<void> {
    let manifest: CID | undefined;
    try {
      if (message.type === MESSAGE_TYPES.deposit) {
        manifest = decodeManifestNotice(message.body);
        await this.#deposit(message.from, manifest);
      } else if (message.type === MESSAGE_TYPES.releaseRequest) {
        const request = decodeReleaseRequest(message.body);
        manifest = request.manifest;
        await this.#release(message.from, request.manifest, request.issued, request.proof);
      } else if (message.type === MESSAGE_TYPES.retire) {
        const request = decodeRetireRequest(message.body);
        manifest = request.manifests[0];
        await this.#retire(message.from, request, message.body);
      }
    } catch (error) {
      const code = isBackupError(error) ? error.code : 'UNAVAILABLE';
      const text = error instanceof Error ? error.message : String(error);
      this.#options.onEvent?.({ event: 'request-refused', from: message.from, type: message.type, code, message: text });
      await this.#options.messenger.send(message.from, { type: MESSAGE_TYPES.refusal, body: encodeRefusal({ manifest, code, message: text }) }).catch(() => undefined);
    }
  }

  async #verifiedManifest(cid: CID, timeoutMs = this.#options.fetchTimeoutMs ?? 60_000): Promise<SignedManifest & { readonly nodeKey: Uint8Array }> {
    const manifest = await readManifest(this.#options.store, cid, { timeoutMs, signal: this.#stop.signal });
    const nodeKey = await nodeKeyAtBackup(this.#options.resolver, this.#options.store, manifest, { timeoutMs });
    verifyManifest(manifest, nodeKey);
    if (!manifest.fiduciaries.includes(this.id)) throw new BackupError('NOT_AUTHORISED', 'this identity is not a fiduciary of that backup');
    return { ...manifest, nodeKey };
  }

  async #deposit(from: string, cid: CID): Promise<void> {
    // The blocks come from the depositing node over Bitswap. Right after that node restarted, fetches
    // from it can stall for a while, so a fetch that times out is tried again until the deadline.
    const deadline = this.#now() + (this.#options.pinTimeoutMs ?? 10 * 60_000);
    let manifest: SignedManifest;
    for (let attempt = 1; ; attempt++) {
      const left = deadline - this.#now();
      try {
        manifest = await this.#verifiedManifest(cid, Math.min(left, 30_000));
        if (manifest.node !== from) throw new BackupError('NOT_AUTHORISED', 'only the node a backup is of may deposit it');
        await this.#refuseIfRetired(cid, from);
        await this.#checkQuota(cid, manifest);
        const pin = { timeoutMs: Math.max(1, Math.min(left, 60_000 * attempt)), signal: this.#stop.signal };
        await this.#options.store.pin(manifest.envelope, pin);
        await this.#options.store.pin(manifest.identity, pin);
        await this.#options.store.pin(cid, { ...pin, recursive: false });
        break;
      } catch (error) {
        const retriable = isBackupError(error, 'NOT_FOUND') || (error instanceof Error && error.name === 'IpfsError');
        if (!retriable || this.#stop.signal.aborted || this.#now() + 1000 >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    await this.#options.db.run('INSERT INTO backup_deposits (manifest, node, created, pinned_at, envelope, size) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (manifest) DO NOTHING', [
      cid.toString(),
      manifest.node,
      manifest.created,
      this.#now(),
      manifest.envelope.toString(),
      manifest.size,
    ]);
    // A retire request handled while this deposit was pinning: it found no deposit row to unpin.
    if (await this.#isRetired(cid, from)) {
      await this.#options.store.unpin(manifest.envelope);
      await this.#deleteBody(manifest.envelope);
      throw new BackupError('RETIRED', `backup ${cid.toString()} was retired by its node while it was being pinned`);
    }
    this.#options.onEvent?.({ event: 'deposit-pinned', node: manifest.node, manifest: cid.toString() });
    await this.#options.messenger.send(from, { type: MESSAGE_TYPES.deposited, body: encodeManifestNotice(cid) });
  }

  async #release(requester: string, cid: CID, issued: number, proof: Uint8Array): Promise<void> {
    const manifest = await this.#verifiedManifest(cid);
    await this.#refuseIfRetired(cid, manifest.node);
    const maxAge = this.#options.maxProofAgeMs ?? DEFAULT_MAX_PROOF_AGE_MS;
    if (Math.abs(this.#now() - issued) > maxAge) throw new BackupError('NOT_AUTHORISED', 'the recovery proof is stale (or from the future)');
    const requesterKeys = await this.#options.resolver.resolve(requester);
    if (!verifyRecoveryProof(manifest.recovery, { manifest: cid, requester, requesterKem: requesterKeys.keys.kem, issued }, proof)) {
      throw new BackupError('NOT_AUTHORISED', 'the recovery proof does not verify for this backup, requester and key');
    }
    const envelope = await readEnvelope(this.#options.store, manifest.envelope, { timeoutMs: this.#options.fetchTimeoutMs ?? 60_000 });
    const sender = { id: manifest.node, publicKey: manifest.nodeKey };
    const entry = { manifest: cid, node: manifest.node, requester, issued };
    // Counting, refusing or releasing, and recording happen in one turn of the audit chain, so
    // concurrent requests cannot both pass the limit.
    const released = await this.#serialised(async () => {
      const limit = this.#options.releaseLimit ?? DEFAULT_RELEASE_LIMIT;
      const now = this.#now();
      const recent = await this.#options.db.get<{ count: SqlValue; oldest: SqlValue }>(
        "SELECT COUNT(*) AS count, MIN(at) AS oldest FROM backup_audit WHERE node = ? AND event = 'release' AND at > ?",
        [manifest.node, now - limit.windowMs],
      );
      const count = Number(recent?.count ?? 0);
      if (count >= limit.releases) {
        const audit = await this.#appendAudit({ ...entry, event: 'release-refused', code: 'RATE_LIMITED' });
        this.#options.onEvent?.({ event: 'release-rate-limited', node: manifest.node, requester, manifest: cid.toString(), audit: audit.toString() });
        const next = new Date(Number(recent?.oldest ?? now) + limit.windowMs).toISOString();
        throw new BackupError('RATE_LIMITED', `this fiduciary released ${count} shares of this node's backups in the last ${formatWindow(limit.windowMs)} (limit ${limit.releases}); the next release is possible after ${next}`);
      }
      const share = await unwrapShare(envelope, { sender, recipient: this.#options.recipient });
      try {
        return { share, audit: await this.#appendAudit({ ...entry, event: 'release', index: share.index }) };
      } catch (error) {
        share.value.fill(0);
        throw error;
      }
    });
    const { share, audit } = released;
    try {
      await this.#options.messenger.send(requester, { type: MESSAGE_TYPES.release, body: encodeRelease({ manifest: cid, share, audit }) });
    } finally {
      share.value.fill(0);
    }
    this.#options.onEvent?.({ event: 'share-released', requester, manifest: cid.toString(), audit: audit.toString() });
  }

  async #isRetired(cid: CID, node: string): Promise<{ at: number } | undefined> {
    const row = await this.#options.db.get<{ retired_at: SqlValue }>('SELECT retired_at FROM backup_retired WHERE manifest = ? AND node = ?', [cid.toString(), node]);
    return row === undefined ? undefined : { at: Number(row.retired_at) };
  }

  async #refuseIfRetired(cid: CID, node: string): Promise<void> {
    const retired = await this.#isRetired(cid, node);
    if (retired !== undefined) {
      throw new BackupError('RETIRED', `backup ${cid.toString()} was retired by its node on ${new Date(retired.at).toISOString()} (retention): its body is no longer kept; restore a newer backup`);
    }
  }

  async #checkQuota(cid: CID, manifest: SignedManifest): Promise<void> {
    const quota = this.#options.maxBytesPerNode;
    if (quota === undefined) return;
    const held = await this.#options.db.get<{ bytes: SqlValue }>(
      'SELECT COALESCE(SUM(d.size), 0) AS bytes FROM backup_deposits d LEFT JOIN backup_retired r ON r.manifest = d.manifest AND r.node = d.node WHERE d.node = ? AND r.manifest IS NULL AND d.manifest <> ?',
      [manifest.node, cid.toString()],
    );
    const bytes = Number(held?.bytes ?? 0);
    if (bytes + manifest.size > quota) {
      throw new BackupError(
        'QUOTA_EXCEEDED',
        `this fiduciary keeps at most ${quota} bytes of backups per node (backupFiduciary.maxBytesPerNode); it holds ${bytes} of ${manifest.node}'s and this backup has ${manifest.size}: retire old backups (backup.keep) or ask for a higher limit`,
      );
    }
  }

  /**
   * A node's signed request to stop keeping some of its backups. Refused (and the refusal logged in
   * the audit chain) unless signed by the sender for this fiduciary, the sender holds backups here,
   * and none of the named backups is another node's. Named backups not deposited yet are recorded
   * too: their deposit is then refused. Repeating a request changes nothing and is answered the same.
   */
  async #retire(from: string, request: RetireRequest, bytes: Uint8Array): Promise<void> {
    const { db, store } = this.#options;
    const refuse = async (code: 'NOT_AUTHORISED', reason: string): Promise<never> => {
      await this.#serialised(() => this.#appendAudit({ event: 'retire-refused', manifests: request.manifests, requester: from, issued: request.issued, code, reason }));
      throw new BackupError(code, reason);
    };
    let nodeKey: Uint8Array;
    try {
      nodeKey = (await this.#options.resolver.resolve(from, { timeoutMs: this.#options.fetchTimeoutMs ?? 60_000 })).keys.sign;
    } catch (cause) {
      throw new BackupError('NOT_FOUND', `the requester ${from} does not resolve`, { cause });
    }
    if (!verifyRetireClaim(nodeKey, { node: from, fiduciary: this.id, manifests: request.manifests, issued: request.issued }, request.signature)) {
      await refuse('NOT_AUTHORISED', 'the retire request is not signed by its sender for this fiduciary');
    }
    const names = request.manifests.map((cid) => cid.toString());
    const marks = names.map(() => '?').join(', ');
    const named = await db.all<{ manifest: string; node: string }>(`SELECT manifest, node FROM backup_deposits WHERE manifest IN (${marks})`, names);
    const foreign = named.filter((row) => row.node !== from);
    if (foreign.length > 0) await refuse('NOT_AUTHORISED', `only the node a backup is of may retire it: ${foreign.map((row) => row.manifest).join(', ')} belong to another node`);
    const own = await db.get<{ count: SqlValue }>('SELECT COUNT(*) AS count FROM backup_deposits WHERE node = ?', [from]);
    if (Number(own?.count ?? 0) === 0) await refuse('NOT_AUTHORISED', 'this fiduciary holds no backup of the sender');

    // Recording, unpinning and logging in one turn of the audit chain (releases of these wait, then see RETIRED).
    const { unpinned, deletedBlocks, audit, fresh } = await this.#serialised(async () => {
      const already = new Set((await db.all<{ manifest: string }>(`SELECT manifest FROM backup_retired WHERE node = ? AND manifest IN (${marks})`, [from, ...names])).map((row) => row.manifest));
      const fresh = request.manifests.filter((cid) => !already.has(cid.toString()));
      const at = this.#now();
      for (const cid of fresh) await db.run('INSERT INTO backup_retired (manifest, node, retired_at) VALUES (?, ?, ?) ON CONFLICT (manifest, node) DO NOTHING', [cid.toString(), from, at]);
      await this.#convertLegacyPins(from);
      const held = await db.all<{ envelope: string | null }>(`SELECT envelope FROM backup_deposits WHERE node = ? AND manifest IN (${marks})`, [from, ...names]);
      let unpinned = 0;
      let deletedBlocks = 0;
      for (const row of held) {
        if (row.envelope === null) continue;
        await store.unpin(row.envelope);
        unpinned++;
        deletedBlocks += await this.#deleteBody(CID.parse(row.envelope));
      }
      const audit = fresh.length === 0 ? null : await this.#appendAudit({ event: 'retire', manifests: fresh, node: from, issued: request.issued, request: bytes });
      return { unpinned, deletedBlocks, audit, fresh };
    });
    if (fresh.length > 0 || deletedBlocks > 0) {
      this.#options.onEvent?.({ event: 'backup-retired', node: from, manifests: fresh.map((cid) => cid.toString()), unpinned, deletedBlocks, audit: audit?.toString() ?? null });
    }
    await this.#options.messenger.send(from, { type: MESSAGE_TYPES.retired, body: encodeRetiredNotice(request.manifests) });
  }

  /**
   * Deletes an unpinned backup envelope and its body blocks from the local store, when the store can
   * delete (`remove`) and each is held here and no longer pinned (by anything). Returns how many.
   */
  async #deleteBody(envelopeCid: CID): Promise<number> {
    const { store } = this.#options;
    const { remove, isPinned, has } = store;
    if (remove === undefined || isPinned === undefined || has === undefined) return 0;
    const removable = async (cid: CID): Promise<boolean> => (await has.call(store, cid)) && !(await isPinned.call(store, cid));
    if (!(await removable(envelopeCid))) return 0;
    const envelope = await readEnvelope(store, envelopeCid, { timeoutMs: 10_000 });
    let deleted = 0;
    for (const block of 'blocks' in envelope.body ? envelope.body.blocks : []) {
      if (!(await removable(block))) continue;
      await remove.call(store, block);
      deleted++;
    }
    await remove.call(store, envelopeCid);
    return deleted + 1;
  }

  /**
   * Backups deposited before retention were pinned as one recursive pin of their manifest, which
   * holds every earlier backup through `prev`. Re-pins a node's such backups in parts (their blocks
   * are local), the retired ones without their body. Call inside {@link #serialised}.
   */
  async #convertLegacyPins(node: string): Promise<void> {
    const { db, store } = this.#options;
    const legacy = await db.all<{ manifest: string }>('SELECT manifest FROM backup_deposits WHERE node = ? AND envelope IS NULL', [node]);
    if (legacy.length === 0) return;
    const manifests = await Promise.all(legacy.map(async (row) => ({ cid: CID.parse(row.manifest), manifest: await readManifest(store, row.manifest, { timeoutMs: 60_000 }) })));
    // Every such manifest was a recursive root; unpinning all first leaves no stale root holding a retired body.
    for (const { cid } of manifests) await store.unpin(cid).catch(() => undefined);
    for (const { cid, manifest } of manifests) {
      if ((await this.#isRetired(cid, node)) === undefined) await store.pin(manifest.envelope);
      await store.pin(manifest.identity);
      await store.pin(cid, { recursive: false });
      await db.run('UPDATE backup_deposits SET envelope = ?, size = ? WHERE manifest = ?', [manifest.envelope.toString(), manifest.size, cid.toString()]);
    }
  }

  /** Runs `work` after every earlier audit turn (one chain, one head). */
  #serialised<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.#audit.then(work);
    this.#audit = turn.catch(() => undefined);
    return turn;
  }

  /** Seals an audit entry to this fiduciary, linked to the previous one, stores, pins and records it. Call inside {@link #serialised}. */
  async #appendAudit(entry: AuditEntry): Promise<CID> {
    const head = await this.#options.db.get<{ seq: number; cid: string }>('SELECT seq, cid FROM backup_audit ORDER BY seq DESC LIMIT 1');
    const at = this.#now();
    let body: Record<string, unknown>;
    let row: { manifest: string; node: string; requester: string };
    switch (entry.event) {
      case 'release':
      case 'release-refused': {
        const { event, manifest, node, requester, issued } = entry;
        body = event === 'release' ? { v: BACKUP_VERSION, event, manifest, node, requester, issued, index: entry.index, at } : { v: BACKUP_VERSION, event, code: entry.code, manifest, node, requester, issued, at };
        row = { manifest: manifest.toString(), node, requester };
        break;
      }
      case 'retire':
        body = { v: BACKUP_VERSION, event: entry.event, manifests: [...entry.manifests], node: entry.node, issued: entry.issued, request: entry.request, at };
        row = { manifest: entry.manifests.map((cid) => cid.toString()).join(' '), node: entry.node, requester: entry.node };
        break;
      case 'retire-refused':
        body = { v: BACKUP_VERSION, event: entry.event, code: entry.code, reason: entry.reason.slice(0, 512), manifests: [...entry.manifests], requester: entry.requester, issued: entry.issued, at };
        row = { manifest: entry.manifests.map((cid) => cid.toString()).join(' '), node: entry.requester, requester: entry.requester };
        break;
    }
    const envelope = await sealEnvelope({
      from: this.#options.signer,
      to: [{ id: this.id, publicKey: this.#options.recipient.publicKey }],
      type: AUDIT_TYPE,
      ...(head === undefined ? {} : { prev: CID.parse(head.cid) }),
      body: dagCbor.encode(body),
    });
    const cid = await putEnvelopeBytes(this.#options.store, encodeEnvelope(envelope));
    await this.#options.store.pin(cid, { recursive: false });
    await this.#options.db.run('INSERT INTO backup_audit (seq, cid, manifest, requester, at, node, event) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      Number(head?.seq ?? 0) + 1,
      cid.toString(),
      row.manifest,
      row.requester,
      at,
      row.node,
      entry.event,
    ]);
    return cid;
  }

  /** The audit chain, newest first (CIDs of the release entries). */
  async auditLog(): Promise<Array<{ seq: number; cid: string; manifest: string; requester: string; at: number; event: string }>> {
    return this.#options.db.all('SELECT seq, cid, manifest, requester, at, event FROM backup_audit ORDER BY seq DESC');
  }

  /** The manifests this fiduciary holds for `node`, newest first. */
  async deposits(node: string): Promise<string[]> {
    const rows = await this.#options.db.all<{ manifest: string }>('SELECT manifest FROM backup_deposits WHERE node = ? ORDER BY created DESC', [node]);
    return rows.map((row) => row.manifest);
  }

  /** The backups of `node` this fiduciary retired (on the node's request), newest retirement first. */
  async retired(node: string): Promise<string[]> {
    const rows = await this.#options.db.all<{ manifest: string }>('SELECT manifest FROM backup_retired WHERE node = ? ORDER BY retired_at DESC, manifest', [node]);
    return rows.map((row) => row.manifest);
  }

  /** Stops reading the inbox (the caller closes messenger, store and database). */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    // Deposits stop at their next step (fetches are aborted); one still verifying is not waited for long.
    await Promise.race([Promise.allSettled([...this.#deposits]), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    await this.#audit;
  }
}
