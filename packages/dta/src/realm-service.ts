import {
  bytesToHex,
  decodeCommitments,
  decodeDkgMessage,
  decodeResharingMessage,
  decodeScalar,
  DkgParticipant,
  encodeCommitments,
  encodeDkgMessage,
  encodeResharingMessage,
  encodeScalar,
  randomBytes,
  ResharingParticipant,
  type Bls12381Backend,
  type DkgMessage,
  type GroupOps,
  type ResharingMessage,
  type ScalarShare,
} from '@milagro/crypto';
import { isKeyStoreError, type KeyStore } from '@milagro/keystore';
import { DtaError } from './errors.js';
import type { ActiveRealm, MasterShare, RealmDefinition, RealmDirectory } from './realm-directory.js';
import {
  bytesEqual,
  createRealmProposal,
  createReshareProposal,
  decodeRealmConfirmation,
  decodeRealmProposal,
  decodeRealmRoundBundle,
  encodeRealmConfirmation,
  encodeRealmProposal,
  encodeRealmRoundBundle,
  PROPOSAL_NONCE_LENGTH,
  REALM_MESSAGE_TYPES,
  samePrevious,
  validateRealmDefinition,
  type RealmPrevious,
  type RealmProposal,
  type RealmRoundBundle,
} from './realm-protocol.js';
import type { RealmRepository, RealmRunResult, RealmState, SessionState, StoredRealm } from './realm-repository.js';

/**
 * The realm service: creates realms by running the joint-Feldman DKG of `@milagro/crypto` among
 * the member D-TAs over an authenticated, confidential transport (the node wires
 * `@milagro/messaging`), keeps this D-TA's master-secret share in the key store and the public
 * results in the repository, and answers issuance through {@link RealmDirectory}.
 *
 * A run, at every member (see realm-protocol.ts for the messages):
 * 1. The proposer (`createRealm`) sends a proposal; a member accepts it only if it is a member,
 *    the proposer is a member it trusts (`trustedProposers`) and the definition is valid.
 * 2. Round 1: each member deals and sends every other member a bundle with its dealing and that
 *    member's private share. Round 2: complaints; round 3: justifications. A round closes when
 *    every member still taking part sent its bundle for it, or at the round deadline (the DKG
 *    then treats the missing as it specifies: no dealing disqualifies, no share draws a
 *    complaint, an unanswered complaint disqualifies). Members that sent nothing in round 1 are
 *    not waited for in rounds 2 and 3.
 * 3. Each member sends its transcript hash (or null if its DKG failed). The realm becomes
 *    active once every qualified member confirmed the same hash; any other answer is a split
 *    view and fails the run, as does a qualified member's silence until the deadline.
 *
 * Messages for a session this D-TA does not know yet (a dealing that overtook its proposal) are
 * buffered, within limits. Every message may be delivered twice: finished sessions are
 * recognised by id and their messages ignored, and the DKG ignores repeated messages.
 *
 * Resharing (`reshareRealm`, kind `reshare`) moves s to a new member list and threshold with the
 * `ResharingParticipant` of `@milagro/crypto`, over the same rounds, bundles, deadlines and
 * confirmations. The participants are the old members (dealers, at their old index) and the new
 * ones (receivers, at their new index). The proposal carries the current sharing (`previous`):
 * an old member accepts only if it equals its own active epoch; a member that joins takes the
 * old commitments from the proposal, so it trusts the proposer for them (`trustedProposers`),
 * and its transcript, which commits to them, must match every qualified dealer's. A run ends
 * when every new member and every qualified dealer confirmed the same transcript. The realm
 * stays active on the old epoch at the old members until then, so issuance goes on during the
 * run and continues on the old epoch if the run fails.
 *
 * Crash safety: the share is imported into the key store (type `secret`, label
 * `dta/realm/<realmId>/share/<epoch>`) only after the session is recorded `confirmed` with its
 * public result, and the realm is marked active (at the new epoch, with this D-TA's new index)
 * only after that. Only then is the previous epoch's share deleted; a member that a resharing
 * removed marks the realm `retired` and then deletes its share. On open, a confirmed session
 * whose share is in the key store is activated (and the previous epoch's share deleted); every
 * other unfinished session is marked failed and a share it may have imported is deleted, which
 * never touches the current epoch's share (its realm can be proposed again, with a new session).
 * Leftover shares of epochs before an active or retired one are deleted too.
 */

/** Sends one realm message to a member D-TA; sealed to it and authenticated by the transport. */
export type RealmTransport = (peer: string, message: { type: string; body: Uint8Array }) => Promise<unknown>;

/** A realm message as delivered by the transport: `from` is the authenticated sender. */
export interface RealmMessage {
  readonly from: string;
  readonly type: string;
  readonly body: Uint8Array;
}

/** Something the service did not accept, for logs and metrics (never contains secrets). */
export interface RealmProtocolNotice {
  readonly kind: 'proposal-refused' | 'message-ignored' | 'send-failed' | 'session-failed';
  readonly reason: string;
  readonly realmId?: string;
  /** Hex session id. */
  readonly sessionId?: string;
  /** The peer concerned. */
  readonly peer?: string;
}

export interface RealmServiceOptions {
  /** This D-TA's identity (CID string). */
  readonly self: string;
  /** The BLS12-381 backend; the DKG runs in its G1 (never G2: s·Q is the server secret). */
  readonly backend: Bls12381Backend;
  /** Where master-secret shares live. */
  readonly keyStore: KeyStore;
  readonly repository: RealmRepository;
  readonly send: RealmTransport;
  /** Identities allowed to propose realms to this D-TA (each must also be a member of the realm it proposes). */
  readonly trustedProposers: readonly string[];
  /** Deadline of each DKG round and of the confirmation round, in ms (default 60,000). */
  readonly roundTimeoutMs?: number;
  /** Clock for stored timestamps (ms). */
  readonly now?: () => number;
  /** Told about refused proposals, ignored messages and failures. */
  readonly onNotice?: (notice: RealmProtocolNotice) => void;
}

/** A resharing to the next epoch that is running, or whose latest attempt failed. */
export interface ResharingStatus {
  /** Hex. */
  readonly sessionId: string;
  readonly epoch: number;
  readonly state: SessionState;
  /** The members and threshold it moves to. */
  readonly definition: RealmDefinition;
  readonly reason?: string;
}

/** What {@link RealmService.reshareRealm} takes: the realm's new member list and threshold. */
export interface ReshareRequest {
  readonly realmId: string;
  /** The new members; the Shamir index of `members[i]` in the new epoch is `i + 1`. */
  readonly members: readonly string[];
  readonly threshold: number;
}

/** A realm's public status at this D-TA. */
export interface RealmStatus {
  readonly definition: RealmDefinition;
  readonly state: RealmState;
  /** Why the latest run failed. */
  readonly reason?: string;
  /** The latest run's epoch. */
  readonly epoch: number;
  /** The latest run's session id (hex). */
  readonly sessionId: string;
  readonly proposer: string;
  /** Present when active: the public outcome (group public key s·G1, commitments, QUAL, transcript hash, this D-TA's index). */
  readonly result?: RealmRunResult;
  /** A resharing of the active realm that is running here or failed (absent once it succeeded). */
  readonly resharing?: ResharingStatus;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Default deadline of each round. */
export const DEFAULT_ROUND_TIMEOUT_MS = 60_000;
/** Sessions whose messages are buffered before their proposal arrives, at most. */
const MAX_BUFFERED_SESSIONS = 32;
/** Messages buffered per unknown session, at most. */
const MAX_BUFFERED_MESSAGES = 1024;
const DKG_ROUND_TYPES: Record<1 | 2 | 3, ReadonlySet<DkgMessage['type']>> = {
  1: new Set(['dealing', 'private-share']),
  2: new Set(['complaint']),
  3: new Set(['justification']),
};
const RESHARE_ROUND_TYPES: Record<1 | 2 | 3, ReadonlySet<ResharingMessage['type']>> = {
  1: new Set(['reshare-dealing', 'reshare-private-share']),
  2: new Set(['reshare-complaint']),
  3: new Set(['reshare-justification']),
};

/** The key-store label of a realm's master-secret share in one epoch. */
export function masterShareLabel(realmId: string, epoch: number): string {
  return `dta/realm/${realmId}/share/${epoch}`;
}

type Phase = 1 | 2 | 3 | 'confirm' | 'done';

/** What a run (DKG or resharing) produced here. Everything but `share` is public. */
interface RunOutcome {
  /** This D-TA's new share; absent for a member that a resharing removes. */
  readonly share?: ScalarShare;
  readonly groupPublicKey: unknown;
  readonly commitments: unknown[];
  readonly qualified: bigint[];
  readonly transcriptHash: Uint8Array;
  /** The other participants whose confirmations must all equal ours. */
  readonly confirmers: readonly string[];
}

/** A DKG or resharing state machine, addressed by identity (the driver knows no indices). */
interface Run {
  /** Round 1 messages for each other participant (possibly none: the bundle still ends the round). */
  deal(): Map<string, Uint8Array[]>;
  /** @throws when the message is malformed, in the wrong round, or refused by the state machine. */
  apply(from: string, round: 1 | 2 | 3, bytes: Uint8Array): void;
  closeRound1(): Uint8Array[];
  closeRound2(): Uint8Array[];
  /** @throws when the run fails (too few qualified dealers, ...). */
  finish(): RunOutcome;
}

/** One run in memory. */
interface Session {
  readonly id: Uint8Array;
  readonly hex: string;
  readonly kind: RealmProposal['kind'];
  /** The realm as the run leaves it. */
  readonly definition: RealmDefinition;
  readonly epoch: number;
  /** Every other participant (for a resharing: old and new members). */
  readonly peers: ReadonlySet<string>;
  readonly run: Run;
  phase: Phase;
  /** round → senders whose bundle for it arrived. */
  readonly ended: Record<1 | 2 | 3, Set<string>>;
  /** sender → its confirmation (first one kept). */
  readonly confirmations: Map<string, Uint8Array | null>;
  outcome?: RunOutcome;
  timer?: ReturnType<typeof setTimeout>;
}

export class RealmService implements RealmDirectory {
  readonly self: string;
  readonly #options: RealmServiceOptions;
  readonly #repository: RealmRepository;
  readonly #keyStore: KeyStore;
  readonly #roundTimeoutMs: number;
  readonly #now: () => number;
  readonly #trusted: ReadonlySet<string>;
  readonly #sessions = new Map<string, Session>();
  readonly #buffered = new Map<string, RealmMessage[]>();
  readonly #active = new Map<string, ActiveRealm>();
  readonly #shares = new Map<string, MasterShare>();
  readonly #activeListeners = new Set<(realm: ActiveRealm) => void>();
  readonly #changeListeners = new Set<() => void>();
  readonly #sending = new Set<Promise<unknown>>();
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(options: RealmServiceOptions) {
    this.self = options.self;
    this.#options = options;
    this.#repository = options.repository;
    this.#keyStore = options.keyStore;
    this.#roundTimeoutMs = options.roundTimeoutMs ?? DEFAULT_ROUND_TIMEOUT_MS;
    if (!Number.isSafeInteger(this.#roundTimeoutMs) || this.#roundTimeoutMs < 1) throw new DtaError('INVALID_REQUEST', 'roundTimeoutMs must be a positive integer');
    this.#now = options.now ?? Date.now;
    this.#trusted = new Set(options.trustedProposers);
  }

  /**
   * Opens the service: finishes activating sessions that were confirmed and whose share reached
   * the key store before a crash, and marks every other unfinished session failed.
   */
  static async open(options: RealmServiceOptions): Promise<RealmService> {
    const service = new RealmService(options);
    await service.#recover();
    return service;
  }

  // --- RealmDirectory ------------------------------------------------------------------------

  async activeRealm(realmId: string): Promise<ActiveRealm> {
    this.#checkOpen();
    const cached = this.#active.get(realmId);
    if (cached) return cached;
    const stored = await this.#repository.realm(realmId);
    if (!stored) throw new DtaError('NOT_FOUND', 'unknown realm');
    // A retired D-TA issues nothing more for the realm; retrying will not change that.
    if (stored.state === 'retired') throw new DtaError('REALM_RETIRED', 'this D-TA was removed from the realm by a resharing');
    if (stored.state !== 'active' || !stored.result) throw new DtaError('REALM_NOT_READY', `realm is ${stored.state}`);
    const realm = toActiveRealm(stored.definition, stored.result);
    this.#active.set(realmId, realm);
    return realm;
  }

  async masterShare(realmId: string): Promise<MasterShare> {
    const realm = await this.activeRealm(realmId);
    const cached = this.#shares.get(realmId);
    if (cached?.epoch === realm.epoch) return cached;
    let secret: Uint8Array;
    try {
      secret = await this.#keyStore.exportSecret({ label: masterShareLabel(realmId, realm.epoch) });
    } catch (cause) {
      throw new DtaError('REALM_NOT_READY', 'the master-secret share is not available', { cause });
    }
    decodeScalar(secret); // a corrupted share fails here, not in issuance
    const share: MasterShare = { epoch: realm.epoch, index: realm.index, share: secret };
    this.#shares.set(realmId, share);
    return share;
  }

  // --- public API ----------------------------------------------------------------------------

  /**
   * Proposes a new realm to its members and starts the DKG. This D-TA must be a member. A realm
   * that failed may be created again (a new session); a pending or active one is a `CONFLICT`.
   * Resolves once the run has started (see {@link waitForRealm}).
   * @throws DtaError `INVALID_REQUEST`, `CONFLICT`, `CLOSED`.
   */
  async createRealm(definition: RealmDefinition): Promise<RealmStatus> {
    const valid = validateRealmDefinition(definition);
    if (!valid.members.includes(this.self)) throw new DtaError('INVALID_REQUEST', 'this D-TA must be a member of the realms it proposes');
    return this.#serialised(async () => {
      this.#checkOpen();
      const existing = await this.#repository.realm(valid.realmId);
      if (existing && existing.state !== 'failed') throw new DtaError('CONFLICT', `realm is already ${existing.state}`);
      const proposal = createRealmProposal(valid, 0, randomBytes(PROPOSAL_NONCE_LENGTH));
      if (!(await this.#repository.beginDkg({ sessionId: proposal.sessionId, definition: valid, epoch: 0, proposer: this.self, now: this.#now() }))) {
        throw new DtaError('CONFLICT', 'realm changed concurrently');
      }
      this.#changed(valid.realmId);
      const body = encodeRealmProposal(proposal);
      for (const peer of valid.members) if (peer !== this.self) this.#send(peer, REALM_MESSAGE_TYPES.proposal, body, bytesToHex(proposal.sessionId));
      this.#start(proposal, this.#dkgRun(proposal));
      return this.#status(valid.realmId);
    });
  }

  /**
   * Proposes to reshare an active realm to `members` with `threshold` (an admin action at a
   * current member): s and the group public key stay the same, the epoch goes up by one, and
   * each new member's Shamir index is its position in `members` plus one. Every current member
   * deals; members left out end `retired`. The realm stays active on the current epoch here
   * until the run succeeds. Resolves once the run has started (see {@link waitForRealm} with `epoch`).
   * @throws DtaError `INVALID_REQUEST`, `NOT_FOUND` (unknown), `REALM_RETIRED` (this D-TA was removed), `REALM_NOT_READY` (not active here),
   *   `CONFLICT` (a run of the realm is unfinished), `CLOSED`.
   */
  async reshareRealm(request: ReshareRequest): Promise<RealmStatus> {
    return this.#serialised(async () => {
      this.#checkOpen();
      const stored = await this.#repository.realm(request.realmId);
      if (!stored) throw new DtaError('NOT_FOUND', 'unknown realm');
      if (stored.state === 'retired') throw new DtaError('REALM_RETIRED', 'this D-TA was removed from the realm by a resharing');
      if (stored.state !== 'active' || !stored.result) throw new DtaError('REALM_NOT_READY', `realm is ${stored.state}`);
      const definition = validateRealmDefinition({ ...stored.definition, members: request.members, threshold: request.threshold });
      if (await this.#repository.hasOpenSession(definition.realmId)) throw new DtaError('CONFLICT', 'a run of the realm is in progress');
      const previous: RealmPrevious = {
        members: stored.definition.members,
        threshold: stored.definition.threshold,
        commitments: stored.result.commitments,
        transcriptHash: stored.result.transcriptHash,
      };
      const proposal = createReshareProposal(definition, previous, stored.epoch + 1, randomBytes(PROPOSAL_NONCE_LENGTH));
      const run = await this.#reshareRun(proposal);
      if (!(await this.#repository.beginReshare({ sessionId: proposal.sessionId, definition, epoch: proposal.epoch, proposer: this.self, now: this.#now() }))) {
        throw new DtaError('CONFLICT', 'realm changed concurrently');
      }
      this.#changed(definition.realmId);
      const body = encodeRealmProposal(proposal);
      for (const peer of participantsOf(proposal)) if (peer !== this.self) this.#send(peer, REALM_MESSAGE_TYPES.proposal, body, bytesToHex(proposal.sessionId));
      this.#start(proposal, run);
      return this.#status(definition.realmId);
    });
  }

  /** The realm's public status here. @throws DtaError `NOT_FOUND`. */
  async realm(realmId: string): Promise<RealmStatus> {
    this.#checkOpen();
    return this.#status(realmId);
  }

  /** Every realm known here, by id. */
  async listRealms(): Promise<RealmStatus[]> {
    this.#checkOpen();
    return Promise.all((await this.#repository.realms()).map((stored) => this.#toStatus(stored)));
  }

  /**
   * Resolves with the realm once it is active here (at `epoch` or later, default 0: after a
   * resharing, pass its epoch); rejects `PROTOCOL_FAILED` (with the reason) as soon as a run
   * fails while waiting, and `REALM_RETIRED` if this D-TA is retired from the realm. A realm whose
   * latest run had already failed when the call began is waited for (a new proposal may be on its
   * way) and rejects `PROTOCOL_FAILED` at the timeout if no new run succeeded; an unknown or
   * pending one rejects `REALM_NOT_READY` then. `timeoutMs` defaults to five round deadlines.
   */
  async waitForRealm(realmId: string, options: { timeoutMs?: number; epoch?: number } = {}): Promise<ActiveRealm> {
    this.#checkOpen();
    const epoch = options.epoch ?? 0;
    const timeoutMs = options.timeoutMs ?? 5 * this.#roundTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    let wake: () => void = () => undefined;
    const listener = (): void => wake();
    this.#changeListeners.add(listener);
    let timer: ReturnType<typeof setTimeout> | undefined;
    /** The session id of the run that had already failed when the call began ('' if none). */
    let failedBefore: string | undefined;
    try {
      for (;;) {
        // Subscribed before reading, so a change between the read and the wait is not missed.
        const changed = new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        });
        const stored = await this.#repository.realm(realmId);
        if (stored?.state === 'active' && stored.epoch >= epoch) return await this.activeRealm(realmId);
        if (stored?.state === 'retired' && stored.epoch >= epoch) throw new DtaError('REALM_RETIRED', 'this D-TA was removed from the realm by a resharing');
        // The run waited for: the realm's own (DKG, or a resharing this D-TA joins), else the newest session of the epoch.
        const latest = stored?.state === 'failed' || options.epoch === undefined ? undefined : await this.#repository.latestSession(realmId);
        const failed =
          stored?.state === 'failed'
            ? { id: stored.sessionId, reason: stored.reason }
            : latest?.state === 'failed' && latest.epoch >= epoch
              ? { id: latest.sessionId, reason: latest.reason }
              : undefined;
        if (failed) {
          failedBefore ??= failed.id;
          // A run that failed before the call is history: wait for the next one, unless time is up.
          if (failed.id !== failedBefore || Date.now() >= deadline) throw new DtaError('PROTOCOL_FAILED', failed.reason ?? 'the realm run failed');
        } else if (failedBefore === undefined) {
          failedBefore = '';
        }
        if (this.#closed) throw new DtaError('CLOSED', 'the realm service is closed');
        if (Date.now() >= deadline) throw new DtaError('REALM_NOT_READY', `realm is ${stored?.state ?? 'unknown'} after ${timeoutMs} ms`);
        await changed;
        clearTimeout(timer);
      }
    } finally {
      clearTimeout(timer);
      this.#changeListeners.delete(listener);
    }
  }

  /** Calls `listener` each time a realm becomes active here (after its share is stored). Returns an unsubscribe function. */
  onRealmActive(listener: (realm: ActiveRealm) => void): () => void {
    this.#activeListeners.add(listener);
    return () => this.#activeListeners.delete(listener);
  }

  /**
   * Handles one realm message (types under `milagro/dta/realm/`). Idempotent: a redelivered
   * message changes nothing. Peer-caused problems (malformed, unauthorised, stale messages) are
   * reported through `onNotice` and never thrown.
   * @throws DtaError `CLOSED`.
   */
  async handleMessage(message: RealmMessage): Promise<void> {
    this.#checkOpen();
    await this.#serialised(() => this.#handle(message));
  }

  /** Stops timers and waits for work in progress. Running sessions stay pending in the repository and are failed on the next open. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    for (const session of this.#sessions.values()) clearTimeout(session.timer);
    this.#sessions.clear();
    this.#buffered.clear();
    await Promise.allSettled([...this.#sending]);
    for (const listener of [...this.#changeListeners]) listener();
  }

  // --- message handling ----------------------------------------------------------------------

  async #handle(message: RealmMessage): Promise<void> {
    if (this.#closed) return;
    switch (message.type) {
      case REALM_MESSAGE_TYPES.proposal:
        return this.#onProposal(message);
      case REALM_MESSAGE_TYPES.dkg:
      case REALM_MESSAGE_TYPES.confirm:
        return this.#onSessionMessage(message);
      default:
        this.#notice({ kind: 'message-ignored', reason: `unknown message type ${message.type.slice(0, 64)}`, peer: message.from });
    }
  }

  async #onProposal(message: RealmMessage): Promise<void> {
    let proposal: RealmProposal;
    try {
      proposal = decodeRealmProposal(message.body);
    } catch (error) {
      this.#notice({ kind: 'proposal-refused', reason: `malformed proposal: ${(error as Error).message}`, peer: message.from });
      return;
    }
    const hex = bytesToHex(proposal.sessionId);
    if (this.#sessions.has(hex) || (await this.#repository.session(hex))) return; // redelivered
    const { definition } = proposal;
    const record = { sessionId: proposal.sessionId, definition, epoch: proposal.epoch, proposer: message.from, now: this.#now(), kind: proposal.kind };
    const refuse = async (reason: string): Promise<void> => {
      await this.#repository.recordRefusal({ ...record, reason });
      this.#buffered.delete(hex);
      this.#notice({ kind: 'proposal-refused', reason, realmId: definition.realmId, sessionId: hex, peer: message.from });
    };
    let run: Run;
    try {
      const refusal = proposal.kind === 'dkg' ? await this.#dkgRefusalReason(message.from, proposal) : await this.#reshareRefusalReason(message.from, proposal);
      if (refusal) return await refuse(refusal);
      run = proposal.kind === 'dkg' ? this.#dkgRun(proposal) : await this.#reshareRun(proposal);
    } catch (error) {
      return await refuse(`cannot take part: ${(error as Error).message}`);
    }
    const begun = proposal.kind === 'dkg' ? await this.#repository.beginDkg(record) : await this.#repository.beginReshare(record);
    if (!begun) {
      await this.#repository.recordRefusal({ ...record, reason: 'the realm changed concurrently' });
      return;
    }
    this.#changed(definition.realmId);
    this.#start(proposal, run);
  }

  async #dkgRefusalReason(from: string, proposal: RealmProposal): Promise<string | undefined> {
    const { definition } = proposal;
    if (proposal.epoch !== 0) return 'a DKG proposal must be for epoch 0';
    if (!definition.members.includes(this.self)) return 'this D-TA is not a member of the realm';
    if (!definition.members.includes(from)) return 'the proposer is not a member of the realm';
    if (from === this.self) return 'a proposal from this D-TA itself';
    if (!this.#trusted.has(from)) return 'the proposer is not trusted to propose realms';
    const existing = await this.#repository.realm(definition.realmId);
    if (existing?.state === 'active') return 'the realm is already active';
    if (existing?.state === 'pending') return 'the realm already has a DKG in progress';
    if (existing?.state === 'retired') return 'this D-TA was removed from the realm by a resharing';
    return undefined;
  }

  async #reshareRefusalReason(from: string, proposal: RealmProposal): Promise<string | undefined> {
    const { definition } = proposal;
    const previous = proposal.previous as RealmPrevious;
    const wasMember = previous.members.includes(this.self);
    if (!wasMember && !definition.members.includes(this.self)) return 'this D-TA is not a member of the realm';
    if (!previous.members.includes(from)) return 'the proposer is not a current member of the realm';
    if (from === this.self) return 'a proposal from this D-TA itself';
    if (!this.#trusted.has(from)) return 'the proposer is not trusted to propose realms';
    const existing = await this.#repository.realm(definition.realmId);
    if (await this.#repository.hasOpenSession(definition.realmId)) return 'a run of the realm is already in progress';
    if (!wasMember) {
      // Joining: the old commitments come from the proposer; they must at least be valid points.
      if (existing?.state === 'active' || existing?.state === 'pending') return `the realm is already ${existing.state} here`;
      try {
        decodeCommitments(this.#options.backend.g1, previous.commitments, { threshold: previous.threshold });
      } catch {
        return 'the previous commitments are not valid G1 points';
      }
      return undefined;
    }
    if (existing?.state !== 'active' || !existing.result) return `the realm is ${existing?.state ?? 'unknown'} here`;
    if (proposal.epoch !== existing.epoch + 1) return `a resharing must be for epoch ${existing.epoch + 1}`;
    const mine: RealmPrevious = {
      members: existing.definition.members,
      threshold: existing.definition.threshold,
      commitments: existing.result.commitments,
      transcriptHash: existing.result.transcriptHash,
    };
    if (!samePrevious(previous, mine)) return 'the previous sharing does not match this D-TA\'s realm';
    const current = existing.definition;
    if (
      definition.mfaService !== current.mfaService ||
      definition.permitHorizonDays !== current.permitHorizonDays ||
      definition.grantMaxLifetimeMinutes !== current.grantMaxLifetimeMinutes
    ) {
      return 'a resharing changes only members and threshold';
    }
    return undefined;
  }

  async #onSessionMessage(message: RealmMessage): Promise<void> {
    let sessionId: Uint8Array;
    let bundle: RealmRoundBundle | undefined;
    let confirmation: Uint8Array | null = null;
    try {
      if (message.type === REALM_MESSAGE_TYPES.dkg) {
        bundle = decodeRealmRoundBundle(message.body);
        sessionId = bundle.sessionId;
      } else {
        const decoded = decodeRealmConfirmation(message.body);
        sessionId = decoded.sessionId;
        confirmation = decoded.transcriptHash;
      }
    } catch (error) {
      this.#notice({ kind: 'message-ignored', reason: `malformed: ${(error as Error).message}`, peer: message.from });
      return;
    }
    const hex = bytesToHex(sessionId);
    const session = this.#sessions.get(hex);
    if (!session) {
      if (await this.#repository.session(hex)) return; // a finished, failed or refused session: a late or redelivered message
      this.#buffer(hex, message);
      return;
    }
    const from = message.from;
    if (!session.peers.has(from)) {
      this.#notice({ kind: 'message-ignored', reason: 'sender is not another member of the session', sessionId: hex, peer: message.from });
      return;
    }
    if (bundle) this.#applyBundle(session, from, bundle);
    else if (!session.confirmations.has(from)) session.confirmations.set(from, confirmation);
    await this.#advance(session);
  }

  #buffer(hex: string, message: RealmMessage): void {
    let queue = this.#buffered.get(hex);
    if (!queue) {
      if (this.#buffered.size >= MAX_BUFFERED_SESSIONS) {
        const oldest = this.#buffered.keys().next().value as string;
        this.#buffered.delete(oldest);
        this.#notice({ kind: 'message-ignored', reason: 'too many unknown sessions: dropped the oldest buffer', sessionId: oldest });
      }
      this.#buffered.set(hex, (queue = []));
    }
    if (queue.length >= MAX_BUFFERED_MESSAGES) {
      this.#notice({ kind: 'message-ignored', reason: 'buffer of an unknown session is full', sessionId: hex, peer: message.from });
      return;
    }
    queue.push({ from: message.from, type: message.type, body: message.body.slice() });
  }

  #applyBundle(session: Session, from: string, bundle: RealmRoundBundle): void {
    for (const bytes of bundle.messages) {
      try {
        session.run.apply(from, bundle.round, bytes);
      } catch (error) {
        // Late (round closed), misaddressed or malformed: the protocol's rules decide what its absence means.
        this.#notice({ kind: 'message-ignored', reason: `${session.kind} message refused: ${(error as Error).message}`, realmId: session.definition.realmId, sessionId: session.hex });
      }
    }
    session.ended[bundle.round].add(from);
  }

  // --- the run -------------------------------------------------------------------------------

  /** The DKG among the definition's members (index of `members[i]` is i + 1). */
  #dkgRun(proposal: RealmProposal): Run {
    const { definition, sessionId } = proposal;
    const self = this.self;
    const indices = indexMap(definition.members);
    const participant = new DkgParticipant<unknown>(this.#g1(), { sessionId, threshold: definition.threshold, participants: definition.members.length }, indices.get(self) as bigint);
    return {
      deal() {
        const { dealing, privateShares } = participant.deal();
        const encodedDealing = encodeDkgMessage(dealing);
        const out = new Map<string, Uint8Array[]>();
        for (const [peer, index] of indices) {
          if (peer === self) continue;
          const share = privateShares.find((s) => s.recipient === index);
          out.set(peer, share ? [encodedDealing, encodeDkgMessage(share)] : [encodedDealing]);
        }
        return out;
      },
      apply(from, round, bytes) {
        const message = decodeDkgMessage(bytes);
        if (!DKG_ROUND_TYPES[round].has(message.type)) throw new Error(`a ${message.type} in a round ${round} bundle`);
        participant.receive(indices.get(from) as bigint, message);
      },
      closeRound1: () => participant.closeRound1().map(encodeDkgMessage),
      closeRound2: () => participant.closeRound2().map(encodeDkgMessage),
      finish() {
        const result = participant.finish();
        return {
          share: result.share,
          groupPublicKey: result.groupPublicKey,
          commitments: result.commitments,
          qualified: result.qualified,
          transcriptHash: result.transcriptHash,
          confirmers: result.qualified.map((q) => definition.members[Number(q) - 1] as string).filter((m) => m !== self),
        };
      },
    };
  }

  /**
   * The resharing from `previous` to the definition: old members deal at their old index (with
   * their share of the current epoch, read from the key store), new members receive at their new
   * index. @throws DtaError `REALM_NOT_READY` when this old member's share is not available.
   */
  async #reshareRun(proposal: RealmProposal): Promise<Run> {
    const { definition, sessionId } = proposal;
    const previous = proposal.previous as RealmPrevious;
    const self = this.self;
    const g1 = this.#g1();
    const oldIndices = indexMap(previous.members);
    const newIndices = indexMap(definition.members);
    let oldShare: ScalarShare | undefined;
    const oldIndex = oldIndices.get(self);
    if (oldIndex !== undefined) {
      let secret: Uint8Array;
      try {
        secret = await this.#keyStore.exportSecret({ label: masterShareLabel(definition.realmId, proposal.epoch - 1) });
      } catch (cause) {
        throw new DtaError('REALM_NOT_READY', 'the master-secret share of the current epoch is not available', { cause });
      }
      oldShare = { index: oldIndex, value: decodeScalar(secret) };
    }
    const participant = new ResharingParticipant<unknown>(
      g1,
      {
        sessionId,
        oldCommitments: decodeCommitments(g1, previous.commitments, { threshold: previous.threshold }),
        dealers: [...oldIndices.values()],
        newThreshold: definition.threshold,
        newHolders: definition.members.length,
      },
      { ...(oldShare ? { oldShare } : {}), ...(newIndices.has(self) ? { newIndex: newIndices.get(self) as bigint } : {}) },
    );
    const peers = participantsOf(proposal).filter((p) => p !== self);
    return {
      deal() {
        const out = new Map<string, Uint8Array[]>(peers.map((peer) => [peer, []]));
        if (participant.dealerIndex === undefined) return out; // a joining member deals nothing; its empty bundle ends round 1
        const { dealing, privateShares } = participant.deal();
        const encodedDealing = encodeResharingMessage(dealing);
        for (const peer of peers) {
          const share = privateShares.find((s) => s.recipient === newIndices.get(peer));
          out.set(peer, share ? [encodedDealing, encodeResharingMessage(share)] : [encodedDealing]);
        }
        return out;
      },
      apply(from, round, bytes) {
        const message = decodeResharingMessage(bytes);
        if (!RESHARE_ROUND_TYPES[round].has(message.type)) throw new Error(`a ${message.type} in a round ${round} bundle`);
        // Complaints come from new holders (new index); everything else from dealers (old index).
        const index = message.type === 'reshare-complaint' ? newIndices.get(from) : oldIndices.get(from);
        if (index === undefined) throw new Error(`the sender has no ${message.type === 'reshare-complaint' ? 'new' : 'old'} index`);
        participant.receive(index, message);
      },
      closeRound1: () => participant.closeRound1().map(encodeResharingMessage),
      closeRound2: () => participant.closeRound2().map(encodeResharingMessage),
      finish() {
        const result = participant.finish();
        const confirmers = new Set([...definition.members, ...result.qualified.map((q) => previous.members[Number(q) - 1] as string)]);
        confirmers.delete(self);
        return {
          ...(result.share ? { share: result.share } : {}),
          groupPublicKey: result.groupPublicKey,
          commitments: result.commitments,
          qualified: result.qualified,
          transcriptHash: result.transcriptHash,
          confirmers: [...confirmers],
        };
      },
    };
  }

  /** Starts the local participant: deal, send round 1, apply buffered messages. */
  #start(proposal: RealmProposal, run: Run): void {
    const { definition, sessionId } = proposal;
    const hex = bytesToHex(sessionId);
    const session: Session = {
      id: sessionId,
      hex,
      kind: proposal.kind,
      definition,
      epoch: proposal.epoch,
      peers: new Set(participantsOf(proposal).filter((p) => p !== this.self)),
      run,
      phase: 1,
      ended: { 1: new Set(), 2: new Set(), 3: new Set() },
      confirmations: new Map(),
    };
    this.#sessions.set(hex, session);
    for (const [peer, messages] of run.deal()) this.#sendBundle(session, peer, 1, messages);
    this.#arm(session);
    const buffered = this.#buffered.get(hex) ?? [];
    this.#buffered.delete(hex);
    // Buffered messages go through the queue again, after this start.
    for (const message of buffered) void this.#serialised(() => this.#handle(message)).catch(() => undefined);
    if (buffered.length === 0) void this.#serialised(() => this.#advance(session)).catch(() => undefined); // n = 1, or nothing to wait for
  }

  /** Closes every round whose bundles are all in, then decides once the confirmations are. */
  async #advance(session: Session, deadline = false): Promise<void> {
    for (;;) {
      if (session.phase === 'done') return;
      if (session.phase === 'confirm') {
        await this.#decide(session, deadline);
        return;
      }
      const round = session.phase;
      // Rounds 2 and 3 wait only for members that took part in round 1.
      const expected = round === 1 ? [...session.peers] : [...session.ended[1]];
      if (!deadline && !expected.every((i) => session.ended[round].has(i))) return;
      deadline = false;
      if (!(await this.#closeRound(session, round))) return;
    }
  }

  /** Ends `round`, sends the next round's bundle (or the confirmation); false if the run failed. */
  async #closeRound(session: Session, round: 1 | 2 | 3): Promise<boolean> {
    if (round === 1) {
      const complaints = session.run.closeRound1();
      for (const peer of session.peers) this.#sendBundle(session, peer, 2, complaints);
      session.phase = 2;
    } else if (round === 2) {
      const justifications = session.run.closeRound2();
      for (const peer of session.peers) this.#sendBundle(session, peer, 3, justifications);
      session.phase = 3;
    } else {
      let outcome: RunOutcome | undefined;
      let failure: string | undefined;
      try {
        outcome = session.run.finish();
      } catch (error) {
        failure = `${session.kind === 'dkg' ? 'DKG' : 'resharing'} failed: ${(error as Error).message}`;
      }
      const body = encodeRealmConfirmation({ sessionId: session.id, transcriptHash: outcome?.transcriptHash ?? null });
      for (const peer of session.peers) this.#send(peer, REALM_MESSAGE_TYPES.confirm, body, session.hex);
      if (!outcome) {
        await this.#fail(session, failure as string);
        return false;
      }
      session.outcome = outcome;
      session.phase = 'confirm';
    }
    this.#arm(session);
    return true;
  }

  /**
   * Activates when every member that must confirm (DKG: every qualified member; resharing: every
   * new member and every qualified dealer) confirmed our transcript; fails on any disagreement,
   * or at the deadline.
   */
  async #decide(session: Session, deadline: boolean): Promise<void> {
    const outcome = session.outcome as RunOutcome;
    const missing: string[] = [];
    for (const member of outcome.confirmers) {
      if (!session.confirmations.has(member)) {
        missing.push(member);
        continue;
      }
      const theirs = session.confirmations.get(member);
      if (!theirs || !bytesEqual(theirs, outcome.transcriptHash)) {
        return this.#fail(session, `split view: member ${this.#memberName(session, member)} ${theirs ? 'confirmed another transcript' : 'failed its run'}`);
      }
    }
    if (missing.length > 0) {
      if (deadline) await this.#fail(session, `no confirmation from member(s) ${missing.map((m) => this.#memberName(session, m)).join(', ')} before the deadline`);
      return;
    }
    if (outcome.share) await this.#activate(session, outcome, outcome.share);
    else await this.#retire(session);
  }

  /** A member's index for messages: its new index, else (removed) its old one marked `old`. */
  #memberName(session: Session, member: string): string {
    const i = session.definition.members.indexOf(member);
    return i >= 0 ? String(i + 1) : `${member.slice(0, 16)}… (old)`;
  }

  async #activate(session: Session, outcome: RunOutcome, share: ScalarShare): Promise<void> {
    session.phase = 'done';
    clearTimeout(session.timer);
    const g1 = this.#g1();
    const result: RealmRunResult = {
      epoch: session.epoch,
      index: share.index,
      groupPublicKey: g1.encode(outcome.groupPublicKey, { compressed: true }),
      commitments: encodeCommitments(g1, outcome.commitments),
      qualified: outcome.qualified,
      transcriptHash: outcome.transcriptHash,
    };
    const realmId = session.definition.realmId;
    try {
      // Order matters for crash safety: confirmed (public result) → share in the key store → active.
      await this.#repository.confirmSession(session.id, result, this.#now());
      await this.#storeShare(realmId, session.epoch, encodeScalar(share.value));
      await this.#repository.activate(session.id, session.definition, result, this.#now());
    } catch (error) {
      await this.#fail(session, `could not store the result: ${(error as Error).message}`);
      return;
    }
    this.#sessions.delete(session.hex);
    if (session.kind === 'reshare') {
      this.#forget(realmId); // issuance moves to the new epoch now
      // Every new member confirmed the new epoch: the previous share only helps an attacker now.
      await this.#deletePreviousShare(realmId, session.epoch);
    }
    this.#becameActive(realmId, toActiveRealm(session.definition, result));
  }

  /** A resharing removed this D-TA: retired first (it issues nothing more), then its share is deleted. */
  async #retire(session: Session): Promise<void> {
    session.phase = 'done';
    clearTimeout(session.timer);
    const realmId = session.definition.realmId;
    try {
      await this.#repository.retire(session.id, session.definition, session.epoch, this.#now());
    } catch (error) {
      await this.#fail(session, `could not record the retirement: ${(error as Error).message}`);
      return;
    }
    this.#sessions.delete(session.hex);
    this.#forget(realmId);
    await this.#deletePreviousShare(realmId, session.epoch);
    this.#changed(realmId);
  }

  /** Drops the cached realm and share, so the next issuance reads the repository. */
  #forget(realmId: string): void {
    this.#active.delete(realmId);
    this.#shares.delete(realmId);
  }

  /** Deletes the share of the epoch before `epoch`; a failure is reported and retried on the next open. */
  async #deletePreviousShare(realmId: string, epoch: number): Promise<void> {
    try {
      await this.#deleteKey(masterShareLabel(realmId, epoch - 1));
    } catch (error) {
      this.#notice({ kind: 'session-failed', reason: `could not delete the share of epoch ${epoch - 1}: ${(error as Error).message}`, realmId });
    }
  }

  #becameActive(realmId: string, realm: ActiveRealm): void {
    this.#changed(realmId);
    this.#active.set(realmId, realm);
    this.#shares.delete(realmId);
    for (const listener of this.#activeListeners) {
      try {
        listener(realm);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** Imports the share, replacing a leftover of an earlier, unfinished run of the same epoch. */
  async #storeShare(realmId: string, epoch: number, share: Uint8Array): Promise<void> {
    const label = masterShareLabel(realmId, epoch);
    await this.#deleteKey(label);
    await this.#keyStore.import('secret', share, { label });
  }

  async #deleteKey(label: string): Promise<void> {
    try {
      await this.#keyStore.delete({ label });
    } catch (error) {
      if (!isKeyStoreError(error, 'NOT_FOUND')) throw error;
    }
  }

  async #fail(session: Session, reason: string): Promise<void> {
    session.phase = 'done';
    clearTimeout(session.timer);
    this.#sessions.delete(session.hex);
    await this.#repository.fail(session.id, reason, this.#now());
    this.#notice({ kind: 'session-failed', reason, realmId: session.definition.realmId, sessionId: session.hex });
    this.#changed(session.definition.realmId);
  }

  /** (Re)starts the current round's deadline. */
  #arm(session: Session): void {
    clearTimeout(session.timer);
    session.timer = setTimeout(() => {
      void this.#serialised(async () => {
        if (this.#closed || session.phase === 'done') return;
        await this.#advance(session, true);
      }).catch(() => undefined);
    }, this.#roundTimeoutMs);
  }

  // --- recovery ------------------------------------------------------------------------------

  async #recover(): Promise<void> {
    for (const session of await this.#repository.sessions(['pending', 'confirmed'])) {
      const label = masterShareLabel(session.realmId, session.epoch);
      if (session.state === 'confirmed' && session.result && (await this.#hasKey(label))) {
        await this.#repository.activate(session.sessionId, session.definition, session.result, this.#now());
        continue;
      }
      const realm = await this.#repository.realm(session.realmId);
      // A share imported just before the crash, of a run that never became active, is removed;
      // the current epoch's share (another label) stays, and so does the realm's active state.
      if (!(realm?.state === 'active' && realm.epoch === session.epoch)) await this.#deleteKey(label);
      await this.#repository.fail(session.sessionId, 'interrupted by a restart', this.#now());
    }
    // A crash between activating (or retiring) and deleting the previous epoch's share leaves it behind.
    for (const realm of await this.#repository.realms()) {
      if ((realm.state === 'active' || realm.state === 'retired') && realm.epoch > 0) await this.#deleteKey(masterShareLabel(realm.definition.realmId, realm.epoch - 1));
    }
  }

  async #hasKey(label: string): Promise<boolean> {
    try {
      await this.#keyStore.describe({ label });
      return true;
    } catch (error) {
      if (isKeyStoreError(error, 'NOT_FOUND')) return false;
      throw error;
    }
  }

  // --- plumbing ------------------------------------------------------------------------------

  async #status(realmId: string): Promise<RealmStatus> {
    const stored = await this.#repository.realm(realmId);
    if (!stored) throw new DtaError('NOT_FOUND', 'unknown realm');
    return this.#toStatus(stored);
  }

  async #toStatus(stored: StoredRealm): Promise<RealmStatus> {
    const status = toStatus(stored);
    if (stored.state !== 'active') return status;
    const latest = await this.#repository.latestSession(stored.definition.realmId);
    if (latest?.kind !== 'reshare' || latest.epoch <= stored.epoch) return status;
    const resharing: ResharingStatus = {
      sessionId: latest.sessionId,
      epoch: latest.epoch,
      state: latest.state,
      definition: latest.definition,
      ...(latest.reason === undefined ? {} : { reason: latest.reason }),
    };
    return { ...status, resharing };
  }

  #g1(): GroupOps<unknown> {
    return this.#options.backend.g1 as GroupOps<unknown>;
  }

  #sendBundle(session: Session, peer: string, round: 1 | 2 | 3, messages: Uint8Array[]): void {
    this.#send(peer, REALM_MESSAGE_TYPES.dkg, encodeRealmRoundBundle({ sessionId: session.id, round, messages }), session.hex);
  }

  /** Sends without waiting: the transport keeps per-recipient order and retries; deadlines cover losses. */
  #send(peer: string, type: string, body: Uint8Array, sessionId: string): void {
    const sending = Promise.resolve()
      .then(() => this.#options.send(peer, { type, body }))
      .catch((error: unknown) => this.#notice({ kind: 'send-failed', reason: (error as Error)?.message ?? String(error), sessionId, peer }));
    this.#sending.add(sending);
    void sending.finally(() => this.#sending.delete(sending));
  }

  #serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #changed(realmId: string): void {
    this.#active.delete(realmId);
    for (const listener of [...this.#changeListeners]) listener();
  }

  #notice(notice: RealmProtocolNotice): void {
    try {
      this.#options.onNotice?.(notice);
    } catch {
      // logging must not break the protocol
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new DtaError('CLOSED', 'the realm service is closed');
  }
}

/** Identity → Shamir index (position + 1). */
function indexMap(members: readonly string[]): Map<string, bigint> {
  return new Map(members.map((member, i) => [member, BigInt(i + 1)]));
}

/** Everyone taking part in a run: the members, and for a resharing the old members too (old first). */
function participantsOf(proposal: RealmProposal): string[] {
  return [...new Set([...(proposal.previous?.members ?? []), ...proposal.definition.members])];
}

function toActiveRealm(definition: RealmDefinition, result: RealmRunResult): ActiveRealm {
  return Object.freeze({ ...definition, epoch: result.epoch, index: result.index, groupPublicKey: result.groupPublicKey });
}

function toStatus(stored: StoredRealm): RealmStatus {
  return {
    definition: stored.definition,
    state: stored.state,
    ...(stored.reason === undefined ? {} : { reason: stored.reason }),
    epoch: stored.epoch,
    sessionId: stored.sessionId,
    proposer: stored.proposer,
    ...(stored.result === undefined ? {} : { result: stored.result }),
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
}
