import {
  bytesToHex,
  decodeDkgMessage,
  decodeScalar,
  DkgParticipant,
  encodeCommitments,
  encodeDkgMessage,
  encodeScalar,
  randomBytes,
  type Bls12381Backend,
  type DkgMessage,
  type DkgResult,
} from '@milagro/crypto';
import { isKeyStoreError, type KeyStore } from '@milagro/keystore';
import { DtaError } from './errors.js';
import type { ActiveRealm, MasterShare, RealmDefinition, RealmDirectory } from './realm-directory.js';
import {
  bytesEqual,
  createRealmProposal,
  decodeRealmConfirmation,
  decodeRealmProposal,
  decodeRealmRoundBundle,
  encodeRealmConfirmation,
  encodeRealmProposal,
  encodeRealmRoundBundle,
  PROPOSAL_NONCE_LENGTH,
  REALM_MESSAGE_TYPES,
  validateRealmDefinition,
  type RealmProposal,
  type RealmRoundBundle,
} from './realm-protocol.js';
import type { RealmRepository, RealmRunResult, RealmState, StoredRealm } from './realm-repository.js';

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
 * Crash safety: the share is imported into the key store (type `secret`, label
 * `dta/realm/<realmId>/share/<epoch>`) only after the session is recorded `confirmed` with its
 * public result, and the realm is marked active only after that. On open, a confirmed session
 * whose share is in the key store is activated; every other unfinished session is marked failed
 * (its realm can be proposed again, with a new session).
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
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Default deadline of each round. */
export const DEFAULT_ROUND_TIMEOUT_MS = 60_000;
/** Sessions whose messages are buffered before their proposal arrives, at most. */
const MAX_BUFFERED_SESSIONS = 32;
/** Messages buffered per unknown session, at most. */
const MAX_BUFFERED_MESSAGES = 1024;
const ROUND_TYPES: Record<1 | 2 | 3, ReadonlySet<DkgMessage['type']>> = {
  1: new Set(['dealing', 'private-share']),
  2: new Set(['complaint']),
  3: new Set(['justification']),
};

/** The key-store label of a realm's master-secret share in one epoch. */
export function masterShareLabel(realmId: string, epoch: number): string {
  return `dta/realm/${realmId}/share/${epoch}`;
}

type Phase = 1 | 2 | 3 | 'confirm' | 'done';

/** One DKG run in memory. */
interface Session {
  readonly id: Uint8Array;
  readonly hex: string;
  readonly definition: RealmDefinition;
  readonly epoch: number;
  readonly index: bigint;
  /** Other members → index. */
  readonly peers: ReadonlyMap<string, bigint>;
  readonly participant: DkgParticipant<unknown>;
  phase: Phase;
  /** round → senders whose bundle for it arrived. */
  readonly ended: Record<1 | 2 | 3, Set<bigint>>;
  /** sender → its confirmation (first one kept). */
  readonly confirmations: Map<bigint, Uint8Array | null>;
  result?: DkgResult<unknown>;
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
      this.#start(proposal);
      return this.#status(valid.realmId);
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
    return (await this.#repository.realms()).map(toStatus);
  }

  /**
   * Resolves with the realm once it is active here; rejects `PROTOCOL_FAILED` (with the reason)
   * as soon as a run fails while waiting. A realm whose latest run had already failed when the
   * call began is waited for (a new proposal may be on its way) and rejects `PROTOCOL_FAILED` at
   * the timeout if no new run succeeded; an unknown or pending one rejects `REALM_NOT_READY` then.
   * `timeoutMs` defaults to five round deadlines.
   */
  async waitForRealm(realmId: string, options: { timeoutMs?: number } = {}): Promise<ActiveRealm> {
    this.#checkOpen();
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
        if (stored?.state === 'active') return await this.activeRealm(realmId);
        if (stored?.state === 'failed') {
          failedBefore ??= stored.sessionId;
          // A run that failed before the call is history: wait for the next one, unless time is up.
          if (stored.sessionId !== failedBefore || Date.now() >= deadline) throw new DtaError('PROTOCOL_FAILED', stored.reason ?? 'the realm DKG failed');
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
    const refusal = await this.#refusalReason(message.from, proposal);
    const record = { sessionId: proposal.sessionId, definition, epoch: proposal.epoch, proposer: message.from, now: this.#now() };
    if (refusal) {
      await this.#repository.recordRefusal({ ...record, reason: refusal });
      this.#buffered.delete(hex);
      this.#notice({ kind: 'proposal-refused', reason: refusal, realmId: definition.realmId, sessionId: hex, peer: message.from });
      return;
    }
    if (!(await this.#repository.beginDkg(record))) {
      await this.#repository.recordRefusal({ ...record, reason: 'the realm changed concurrently' });
      return;
    }
    this.#changed(definition.realmId);
    this.#start(proposal);
  }

  async #refusalReason(from: string, proposal: RealmProposal): Promise<string | undefined> {
    const { definition } = proposal;
    if (proposal.epoch !== 0) return 'a DKG proposal must be for epoch 0';
    if (!definition.members.includes(this.self)) return 'this D-TA is not a member of the realm';
    if (!definition.members.includes(from)) return 'the proposer is not a member of the realm';
    if (from === this.self) return 'a proposal from this D-TA itself';
    if (!this.#trusted.has(from)) return 'the proposer is not trusted to propose realms';
    const existing = await this.#repository.realm(definition.realmId);
    if (existing?.state === 'active') return 'the realm is already active';
    if (existing?.state === 'pending') return 'the realm already has a DKG in progress';
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
    const from = session.peers.get(message.from);
    if (from === undefined) {
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

  #applyBundle(session: Session, from: bigint, bundle: RealmRoundBundle): void {
    for (const bytes of bundle.messages) {
      try {
        const dkg = decodeDkgMessage(bytes);
        if (!ROUND_TYPES[bundle.round].has(dkg.type)) throw new Error(`a ${dkg.type} in a round ${bundle.round} bundle`);
        session.participant.receive(from, dkg);
      } catch (error) {
        // Late (round closed), misaddressed or malformed: the DKG's rules decide what its absence means.
        this.#notice({ kind: 'message-ignored', reason: `DKG message refused: ${(error as Error).message}`, realmId: session.definition.realmId, sessionId: session.hex });
      }
    }
    session.ended[bundle.round].add(from);
  }

  // --- the run -------------------------------------------------------------------------------

  /** Starts the local participant: deal, send round 1, apply buffered messages. */
  #start(proposal: RealmProposal): void {
    const { definition, sessionId } = proposal;
    const hex = bytesToHex(sessionId);
    const index = BigInt(definition.members.indexOf(this.self) + 1);
    const peers = new Map<string, bigint>();
    definition.members.forEach((member, i) => {
      if (member !== this.self) peers.set(member, BigInt(i + 1));
    });
    const participant = new DkgParticipant<unknown>(this.#options.backend.g1, { sessionId, threshold: definition.threshold, participants: definition.members.length }, index);
    const session: Session = {
      id: sessionId,
      hex,
      definition,
      epoch: proposal.epoch,
      index,
      peers,
      participant,
      phase: 1,
      ended: { 1: new Set(), 2: new Set(), 3: new Set() },
      confirmations: new Map(),
    };
    this.#sessions.set(hex, session);
    const { dealing, privateShares } = participant.deal();
    const encodedDealing = encodeDkgMessage(dealing);
    for (const [peer, peerIndex] of peers) {
      const share = privateShares.find((s) => s.recipient === peerIndex);
      const messages = share ? [encodedDealing, encodeDkgMessage(share)] : [encodedDealing];
      this.#sendBundle(session, peer, 1, messages);
    }
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
      const expected = round === 1 ? [...session.peers.values()] : [...session.ended[1]];
      if (!deadline && !expected.every((i) => session.ended[round].has(i))) return;
      deadline = false;
      if (!(await this.#closeRound(session, round))) return;
    }
  }

  /** Ends `round`, sends the next round's bundle (or the confirmation); false if the run failed. */
  async #closeRound(session: Session, round: 1 | 2 | 3): Promise<boolean> {
    if (round === 1) {
      const complaints = session.participant.closeRound1().map(encodeDkgMessage);
      for (const peer of session.peers.keys()) this.#sendBundle(session, peer, 2, complaints);
      session.phase = 2;
    } else if (round === 2) {
      const justifications = session.participant.closeRound2().map(encodeDkgMessage);
      for (const peer of session.peers.keys()) this.#sendBundle(session, peer, 3, justifications);
      session.phase = 3;
    } else {
      let result: DkgResult<unknown> | undefined;
      let failure: string | undefined;
      try {
        result = session.participant.finish();
      } catch (error) {
        failure = `DKG failed: ${(error as Error).message}`;
      }
      const body = encodeRealmConfirmation({ sessionId: session.id, transcriptHash: result?.transcriptHash ?? null });
      for (const peer of session.peers.keys()) this.#send(peer, REALM_MESSAGE_TYPES.confirm, body, session.hex);
      if (!result) {
        await this.#fail(session, failure as string);
        return false;
      }
      session.result = result;
      session.phase = 'confirm';
    }
    this.#arm(session);
    return true;
  }

  /** Activates when every qualified member confirmed our transcript; fails on any disagreement, or at the deadline. */
  async #decide(session: Session, deadline: boolean): Promise<void> {
    const result = session.result as DkgResult<unknown>;
    const missing: bigint[] = [];
    for (const q of result.qualified) {
      if (q === session.index) continue;
      if (!session.confirmations.has(q)) {
        missing.push(q);
        continue;
      }
      const theirs = session.confirmations.get(q);
      if (!theirs || !bytesEqual(theirs, result.transcriptHash)) {
        return this.#fail(session, `split view: qualified member ${q} ${theirs ? 'confirmed another transcript' : 'failed its DKG'}`);
      }
    }
    if (missing.length > 0) {
      if (deadline) await this.#fail(session, `no confirmation from qualified member(s) ${missing.join(', ')} before the deadline`);
      return;
    }
    await this.#activate(session, result);
  }

  async #activate(session: Session, dkg: DkgResult<unknown>): Promise<void> {
    session.phase = 'done';
    clearTimeout(session.timer);
    const g1 = this.#options.backend.g1;
    const result: RealmRunResult = {
      epoch: session.epoch,
      index: session.index,
      groupPublicKey: g1.encode(dkg.groupPublicKey, { compressed: true }),
      commitments: encodeCommitments(g1, dkg.commitments),
      qualified: dkg.qualified,
      transcriptHash: dkg.transcriptHash,
    };
    const realmId = session.definition.realmId;
    try {
      // Order matters for crash safety: confirmed (public result) → share in the key store → active.
      await this.#repository.confirmSession(session.id, result, this.#now());
      await this.#storeShare(realmId, session.epoch, encodeScalar(dkg.share.value));
      await this.#repository.activate(session.id, result, this.#now());
    } catch (error) {
      await this.#fail(session, `could not store the result: ${(error as Error).message}`);
      return;
    }
    this.#sessions.delete(session.hex);
    this.#becameActive(realmId, toActiveRealm(session.definition, result));
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
        await this.#repository.activate(session.sessionId, session.result, this.#now());
        continue;
      }
      const realm = await this.#repository.realm(session.realmId);
      // A share imported just before the crash, of a run that never became active, is removed.
      if (!(realm?.state === 'active' && realm.epoch === session.epoch)) await this.#deleteKey(label);
      await this.#repository.fail(session.sessionId, 'interrupted by a restart', this.#now());
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
    return toStatus(stored);
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
