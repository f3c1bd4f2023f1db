/**
 * The custody service of one operator: creates vaults by running FROST key generation with the
 * vault's other operators, signs spend requests with t of them after checking the policy on its
 * own, and keeps the audit chain. Messages go over an authenticated, confidential transport (the
 * node wires `@milagro/messaging`); see custody-protocol.ts for them.
 *
 * Vault creation: the principal signs the definition and hands it to any operator of the vault
 * (the coordinator), which forwards it. Every operator checks the principal's signature through
 * the PKI on its own, then runs the DKG (frost-dkg.ts). A round waits for every operator until
 * its deadline; a bad package or share names its sender, the operator that caught it tells the
 * others (`confirm` with `accused`), and the run fails everywhere. The vault becomes active when
 * every operator confirmed the same transcript; only then is the share in the key store used.
 *
 * Signing: the principal submits a signed request with approvals to any operator (the
 * coordinator). Every operator checks signatures, approvals and limits on its own, and accepts
 * each request id once, durably, before it commits nonces: a replayed request is refused
 * everywhere and never signs again. The coordinator takes the first t-1 operators that answered
 * with nonce commitments, sends them the signing package, verifies every signature share, and
 * names an operator whose share is invalid; it then retries with operators that have not signed
 * yet. Nonces live in memory only and are used once.
 *
 * Refresh (proactive): every operator deals a sharing of zero; adding the shares gives new
 * shares of the same key (same address); old shares stop combining with new ones.
 */
import { bytesToHex, compositeVerify, hexToBytes, randomBytes, sha256, utf8ToBytes } from '@milagro/crypto';
import { isKeyStoreError, type KeyStore } from '@milagro/keystore';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import * as dagCbor from '@ipld/dag-cbor';
import type { AuditChain, AuditEntry } from './audit-chain.js';
import { checkBlameEvidence, decodeEvidence, dkgEvidenceRules, encodeEvidence, type BlameEvidence, type EnvelopeRevealer, type EvidenceRules, type EvidenceVerdict } from './blame-evidence.js';
import {
  approvalList,
  CUSTODY_MESSAGE_TYPES,
  decodeMessage,
  encodeMessage,
  nonceCommitments,
  optionalIndex,
  optionalText,
  pointList,
  scalarList,
  sessionId as makeSessionId,
} from './custody-protocol.js';
import type { CustodyRepository, SignResult, StoredRequest, StoredVault, VaultState } from './custody-repository.js';
import { CustodyError, isCustodyError } from './errors.js';
import type { EscrowShare } from './escrow.js';
import { BlameError, FrostDkg, operatorIdentifier, type Blame, type VaultKey } from './frost-dkg.js';
import { aggregateSignature, commitNonces, signShares, verifySignatureShare, type FrostPublicPackage, type NonceCommitment, type SecretNonces } from './frost-signing.js';
import { finalisePsbt, planSpend, type SpendPlan } from './spend.js';
import { taprootAddresses, type BitcoinNetwork } from './taproot.js';
import {
  decodeSpendRequest,
  decodeVaultDefinition,
  encodeVaultDefinition,
  MAX_OPERATORS,
  MAX_SATS,
  SIGNATURE_CONTEXTS,
  validateVaultDefinition,
  verifySpendRequest,
  verifyVaultRequest,
  type SignedSpendRequest,
  type SigningKeyLookup,
  type SpendingPolicy,
  type VaultDefinition,
  type VaultRequest,
} from './vault.js';
import { ReshareRun } from './reshare-run.js';
import { bytesEqual, checkMap, isBytes, isIdentityId, isInteger } from './wire.js';

/** Sends one custody message to an operator; sealed to it and authenticated by the transport. */
export type CustodyTransport = (peer: string, message: { type: string; body: Uint8Array }) => Promise<unknown>;

/** A custody message as delivered: `from` is the authenticated sender. */
export interface CustodyMessage {
  readonly from: string;
  readonly type: string;
  readonly body: Uint8Array;
  /** The CID of the envelope it came in, when the transport has one: DKG blame reveals it as evidence. */
  readonly cid?: string;
}

/** Something worth logging (never secrets). */
export interface CustodyNotice {
  /**
   * `policy-conflict`: the other operators signed a request that this operator's own policy check
   * refuses (recorded as refused with the signatures, never adopted silently): alert on it.
   */
  readonly kind: 'message-ignored' | 'send-failed' | 'session-failed' | 'operator-blamed' | 'audit-failed' | 'policy-conflict';
  readonly reason: string;
  readonly vaultId?: string;
  readonly sessionId?: string;
  readonly peer?: string;
}

export interface CustodyServiceOptions {
  /** This operator's identity (CID string). */
  readonly self: string;
  readonly keyStore: KeyStore;
  readonly repository: CustodyRepository;
  readonly send: CustodyTransport;
  /** An identity's current composite signing key, through the PKI. */
  readonly signingKey: SigningKeyLookup;
  /** The audit chain (optional in tests). */
  readonly audit?: AuditChain;
  /** Escrow vaults: seals this operator's share to the principal (an envelope; see escrow.ts). Without it, escrow releases are refused. */
  readonly sealShare?: (principal: string, share: EscrowShare) => Promise<Uint8Array>;
  /**
   * Reveals a received envelope (bytes and content key) as evidence: an operator that receives a
   * DKG share failing `vss_verify` publishes the accused's envelopes so every operator checks the
   * blame itself (blame-evidence.ts). Without it, blame is the receiver's word only.
   */
  readonly revealEnvelope?: EnvelopeRevealer;
  /** Deadline of each protocol round, in ms (default 60,000). */
  readonly roundTimeoutMs?: number;
  /**
   * A signing result this operator cannot check because the PKI does not answer is held and checked
   * again after this many ms, doubling each time up to 5 minutes, for up to 10 tries (default 15,000).
   */
  readonly resultRetryMs?: number;
  readonly now?: () => number;
  readonly onNotice?: (notice: CustodyNotice) => void;
}

/** A vault as this operator sees it. */
export interface VaultStatus {
  readonly definition: VaultDefinition;
  readonly state: VaultState;
  readonly reason?: string;
  readonly epoch: number;
  /** This operator's FROST identifier index (1-based). */
  readonly index: number;
  /** Present when active. */
  readonly key?: {
    /** x-only Taproot output key (hex). */
    readonly outputKey: string;
    /** Untweaked group key, compressed (hex): the Taproot internal key is its x. */
    readonly internalKey: string;
    readonly addresses: Readonly<Record<BitcoinNetwork, string>>;
  };
  readonly auditHead?: string;
}

/** A signing request's outcome as returned to the principal. */
export interface SpendOutcome extends SignResult {
  readonly requestId: string;
}

export const DEFAULT_ROUND_TIMEOUT_MS = 60_000;
const DEFAULT_RESULT_RETRY_MS = 15_000;
const MAX_RESULT_RETRY_DELAY_MS = 5 * 60_000;
const MAX_RESULT_RETRIES = 10;
/** Results held for another check at once (each is one message; more are dropped with a notice, as before). */
const MAX_HELD_RESULTS = 256;
const MAX_BUFFERED_SESSIONS = 64;
const MAX_BUFFERED_MESSAGES = 256;

/** The key-store label of a vault's signing share in one epoch. */
export function vaultShareLabel(vaultId: string, epoch: number): string {
  return `custody/vault/${vaultId}/share/${epoch}`;
}

type RunKind = 'dkg' | 'refresh' | 'reshare';

/** The message types of each kind of key run. */
const RUN_TYPES: Record<RunKind, { commit: string; share: string; confirm: string }> = {
  dkg: { commit: CUSTODY_MESSAGE_TYPES.vaultCommit, share: CUSTODY_MESSAGE_TYPES.vaultShare, confirm: CUSTODY_MESSAGE_TYPES.vaultConfirm },
  refresh: { commit: CUSTODY_MESSAGE_TYPES.refreshCommit, share: CUSTODY_MESSAGE_TYPES.refreshShare, confirm: CUSTODY_MESSAGE_TYPES.refreshConfirm },
  reshare: { commit: CUSTODY_MESSAGE_TYPES.reshareCommit, share: CUSTODY_MESSAGE_TYPES.reshareShare, confirm: CUSTODY_MESSAGE_TYPES.reshareConfirm },
};

interface KeyRun {
  readonly kind: RunKind;
  readonly id: Uint8Array;
  readonly hex: string;
  /** The vault as the run leaves it. */
  readonly vault: VaultDefinition;
  /** Everyone taking part (the vault's operators; for a resharing, old then new); run index = position + 1. */
  readonly participants: readonly string[];
  /** Resharing: the principal's signature on the new definition, stored with it. */
  readonly signature?: Uint8Array;
  readonly index: number;
  readonly epoch: number;
  readonly dkg: KeyGeneration;
  phase: 1 | 2 | 'confirm' | 'done';
  readonly confirmations: Map<number, { transcript: Uint8Array | null; accused: number | null; reason: string | null }>;
  /** The envelope CIDs of each sender's round-1 and round-2 messages (evidence, if it cheats; DKG, refresh, resharing). */
  readonly received: Map<number, { commit?: string; share?: string }>;
  outcome?: { key: VaultKey; signingShare?: Uint8Array };
  timer?: ReturnType<typeof setTimeout>;
}

/** What a DKG, refresh or resharing run needs from its state machine. */
interface KeyGeneration {
  readonly commitment: { readonly commitment: readonly Uint8Array[]; readonly proof?: Uint8Array };
  missing(round: 1 | 2): number[];
  receiveCommitment(sender: number, pkg: { commitment: readonly Uint8Array[]; proof?: Uint8Array }): void;
  shares(): Map<number, Uint8Array>;
  receiveShare(sender: number, share: Uint8Array): void;
  finish(): { key: VaultKey; signingShare?: Uint8Array };
  clean(): void;
  /** DKG: the round-1 commitments received from `sender`. */
  commitmentOf?(sender: number): readonly Uint8Array[] | undefined;
}

/** A signing result held for another check (the PKI did not answer). */
interface HeldResult {
  readonly message: CustodyMessage;
  attempt: number;
  /** Set when a check of it found the PKI still not answering. */
  unavailable: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

interface Coordination {
  readonly id: Uint8Array;
  readonly hex: string;
  readonly vault: StoredVault;
  readonly index: number;
  readonly requestId: string;
  readonly signed: SignedSpendRequest;
  readonly plan: SpendPlan;
  readonly payload: ReturnType<typeof decodeSpendRequest>['payload'];
  readonly committed: Map<number, NonceCommitment[]>;
  readonly refusals: Map<number, string>;
  /** Operators that were sent a package (they sign at most once). */
  readonly used: Set<number>;
  readonly blamed: Blame[];
  /** Escrow releases: sealed shares collected so far, by operator index. */
  readonly sealed: Map<number, Uint8Array>;
  attempt: number;
  chosen?: readonly number[];
  ownNonces?: SecretNonces[];
  readonly shares: Map<number, Uint8Array[]>;
  done: boolean;
  timer?: ReturnType<typeof setTimeout>;
  resolve(outcome: SpendOutcome): void;
  reject(error: unknown): void;
}

interface Participation {
  readonly hex: string;
  readonly vault: StoredVault;
  readonly index: number;
  readonly coordinator: string;
  readonly requestId: string;
  readonly plan: SpendPlan;
  nonces?: SecretNonces[];
  readonly commitments: NonceCommitment[];
  timer?: ReturnType<typeof setTimeout>;
}

const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class CustodyService {
  readonly self: string;
  readonly #options: CustodyServiceOptions;
  readonly #repository: CustodyRepository;
  readonly #keyStore: KeyStore;
  readonly #roundTimeoutMs: number;
  readonly #now: () => number;
  readonly #runs = new Map<string, KeyRun>();
  readonly #coordinations = new Map<string, Coordination>();
  readonly #participations = new Map<string, Participation>();
  readonly #buffered = new Map<string, CustodyMessage[]>();
  /** Signing results that could not be checked (the PKI did not answer), by session and sender: checked again later. */
  readonly #heldResults = new Map<string, HeldResult>();
  readonly #resultRetryMs: number;
  readonly #listeners = new Set<() => void>();
  readonly #auditQueues = new Map<string, Promise<void>>();
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(options: CustodyServiceOptions) {
    this.self = options.self;
    this.#options = options;
    this.#repository = options.repository;
    this.#keyStore = options.keyStore;
    this.#roundTimeoutMs = options.roundTimeoutMs ?? DEFAULT_ROUND_TIMEOUT_MS;
    if (!Number.isSafeInteger(this.#roundTimeoutMs) || this.#roundTimeoutMs < 1) throw new CustodyError('INVALID_REQUEST', 'roundTimeoutMs must be a positive integer');
    this.#now = options.now ?? Date.now;
    this.#resultRetryMs = options.resultRetryMs ?? DEFAULT_RESULT_RETRY_MS;
    if (!Number.isSafeInteger(this.#resultRetryMs) || this.#resultRetryMs < 1) throw new CustodyError('INVALID_REQUEST', 'resultRetryMs must be a positive integer');
  }

  /** Opens the service: runs left unfinished by a crash fail (their secrets were in memory only). */
  static async open(options: CustodyServiceOptions): Promise<CustodyService> {
    const service = new CustodyService(options);
    const now = service.#now();
    for (const run of await options.repository.runningSessions()) {
      if (run.kind === 'dkg') await options.repository.failVault(run.vaultId, run.sessionId, 'interrupted by a restart', now);
      else await options.repository.endSession(run.sessionId, 'failed');
    }
    await options.repository.failRunningRequests(now);
    return service;
  }

  // --- vaults ---------------------------------------------------------------------------------

  /**
   * Creates a vault from the principal's signed definition: this operator must be one of its
   * operators; it forwards the request to the others and starts the DKG. Resolves once started
   * (see {@link waitForVault}).
   * @throws CustodyError `INVALID_REQUEST`, `NOT_AUTHORISED`, `CONFLICT`, `DEPENDENCY_UNAVAILABLE`, `CLOSED`.
   */
  async createVault(request: VaultRequest): Promise<VaultStatus> {
    this.#checkOpen();
    const definition = await verifyVaultRequest(request, this.#options.signingKey);
    if (!definition.operators.includes(this.self)) throw new CustodyError('INVALID_REQUEST', 'this operator is not one of the vault operators');
    const nonce = randomBytes(16);
    const id = dkgSessionId(definition, nonce);
    return this.#serialised(async () => {
      this.#checkOpen();
      const existing = await this.#repository.vault(definition.vaultId);
      if (existing && existing.state !== 'failed') throw new CustodyError('CONFLICT', `vault is already ${existing.state}`);
      if (!(await this.#repository.beginVault({ definition, signature: request.signature, sessionId: bytesToHex(id), coordinator: this.self, now: this.#now() }))) {
        throw new CustodyError('CONFLICT', 'vault changed concurrently');
      }
      const body = encodeMessage({ session: id, definition: encodeVaultDefinition(definition), signature: request.signature, nonce });
      for (const peer of definition.operators) if (peer !== this.self) this.#send(peer, CUSTODY_MESSAGE_TYPES.vaultProposal, body, definition.vaultId);
      this.#audit(definition, { kind: 'vault-proposed', vaultId: definition.vaultId, session: bytesToHex(id), coordinator: this.self, definition: encodeVaultDefinition(definition) });
      this.#startKeyRun('dkg', definition, id, 0, new DkgAdapter(new FrostDkg(definition.operators.indexOf(this.self) + 1, definition.operators.length, definition.threshold)));
      this.#changed();
      return this.vault(definition.vaultId);
    });
  }

  /** @throws CustodyError `NOT_FOUND`. */
  async vault(vaultId: string): Promise<VaultStatus> {
    const stored = await this.#repository.vault(vaultId);
    if (!stored) throw new CustodyError('NOT_FOUND', 'unknown vault');
    return toStatus(stored, this.self);
  }

  async listVaults(): Promise<VaultStatus[]> {
    return (await this.#repository.vaults()).map((v) => toStatus(v, this.self));
  }

  /** Resolves once the vault is active here; rejects once it failed or after `timeoutMs`. */
  async waitForVault(vaultId: string, options: { timeoutMs?: number; epoch?: number } = {}): Promise<VaultStatus> {
    const deadline = Date.now() + (options.timeoutMs ?? 120_000);
    for (;;) {
      const stored = await this.#repository.vault(vaultId);
      if (stored?.state === 'active' && stored.epoch >= (options.epoch ?? 0)) return toStatus(stored, this.self);
      if (stored?.state === 'failed') throw new CustodyError('PROTOCOL_FAILED', stored.reason ?? 'the DKG failed');
      if (Date.now() >= deadline) throw new CustodyError('PROTOCOL_FAILED', 'timed out waiting for the vault');
      this.#checkOpen();
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.#listeners.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(1000, Math.max(1, deadline - Date.now())));
        this.#listeners.add(wake);
      });
    }
  }

  // --- signing --------------------------------------------------------------------------------

  /**
   * Signs a spend request with t operators of its vault, this one coordinating. Checks the
   * principal's signature, the approvals and the limits first, and accepts the request id once.
   * @throws CustodyError `INVALID_REQUEST`, `NOT_AUTHORISED`, `POLICY_REFUSED`, `REQUEST_REPLAYED`,
   *   `NOT_FOUND`, `VAULT_NOT_READY`, `PROTOCOL_FAILED` (too few operators, naming cheaters), `CLOSED`.
   */
  async sign(signed: SignedSpendRequest): Promise<SpendOutcome> {
    this.#checkOpen();
    const vaultId = decodeSpendRequest(signed.request).vaultId;
    const vault = await this.#activeVault(vaultId);
    const request = await verifySpendRequest(signed, vault.definition, this.#options.signingKey);
    const plan = planSpend(request.payload, vault.definition.policy, (vault.key as VaultKey).outputKey);
    if (!(await this.#repository.consumeRequest(vaultId, request.requestId, this.#now()))) {
      throw new CustodyError('REQUEST_REPLAYED', 'this request id was already used: it is never signed twice');
    }
    this.#audit(vault.definition, { kind: 'spend-request', vaultId, requestId: request.requestId, request: signed.request, approvals: signed.approvals.map((a) => a.approver), coordinator: this.self });
    const index = vault.definition.operators.indexOf(this.self) + 1;
    const id = makeSessionId('sign', vaultId, hexToBytes(request.requestId));
    return new Promise<SpendOutcome>((resolve, reject) => {
      void this.#serialised(async () => {
        const escrow = request.payload.kind === 'escrow-release';
        const own = escrow ? { nonces: [], commitments: [] } : commitNonces(index, await this.#share(vault), plan.messages.length);
        const coordination: Coordination = {
          id,
          hex: bytesToHex(id),
          vault,
          index,
          requestId: request.requestId,
          signed,
          plan,
          payload: request.payload,
          committed: new Map([[index, own.commitments]]),
          refusals: new Map(),
          used: new Set(),
          blamed: [],
          sealed: new Map(),
          attempt: 0,
          ownNonces: own.nonces,
          shares: new Map(),
          done: false,
          resolve,
          reject,
        };
        this.#coordinations.set(coordination.hex, coordination);
        if (escrow) coordination.sealed.set(index, await this.#sealShare(vault, request.requestId, index));
        const body = encodeMessage({
          session: id,
          request: signed.request,
          signature: signed.signature,
          approvals: signed.approvals.map((a) => ({ approver: a.approver, signature: a.signature })),
        });
        for (const peer of vault.definition.operators) if (peer !== this.self) this.#send(peer, CUSTODY_MESSAGE_TYPES.signRequest, body, vaultId);
        coordination.timer = setTimeout(() => {
          void this.#serialised(() => this.#failCoordination(coordination, new CustodyError('PROTOCOL_FAILED', this.#shortfall(coordination)))).catch(() => undefined);
        }, this.#roundTimeoutMs * 2);
        if (escrow) await this.#tryRelease(coordination);
        else await this.#tryAttempt(coordination);
      }).catch(reject);
    });
  }

  /** A request's state here. @throws CustodyError `NOT_FOUND`. */
  async request(vaultId: string, requestId: string): Promise<StoredRequest> {
    const stored = await this.#repository.request(vaultId, requestId);
    if (!stored) throw new CustodyError('NOT_FOUND', 'unknown request');
    return stored;
  }

  // --- refresh --------------------------------------------------------------------------------

  /**
   * Proactively refreshes a vault's shares (same key, same address), on the principal's signed
   * request: `signature` is the principal's composite signature over `refreshMessage(vaultId, epoch)`
   * where `epoch` is the vault's current epoch. Resolves once started (see {@link waitForVault} with `epoch`).
   */
  async refreshVault(vaultId: string, signature: Uint8Array): Promise<VaultStatus> {
    this.#checkOpen();
    const vault = await this.#activeVault(vaultId);
    await this.#verifyRefresh(vault, signature);
    const nonce = randomBytes(16);
    const id = makeSessionId('refresh', vaultId, concatNonce(nonce, vault.epoch + 1));
    return this.#serialised(async () => {
      if (!(await this.#repository.beginRefresh(vaultId, bytesToHex(id), this.#now()))) throw new CustodyError('CONFLICT', 'refresh already running');
      const body = encodeMessage({ session: id, vaultId, epoch: vault.epoch + 1, signature, nonce });
      for (const peer of vault.definition.operators) if (peer !== this.self) this.#send(peer, CUSTODY_MESSAGE_TYPES.refreshProposal, body, vaultId);
      this.#audit(vault.definition, { kind: 'refresh-proposed', vaultId, session: bytesToHex(id), epoch: vault.epoch + 1 });
      const index = vault.definition.operators.indexOf(this.self) + 1;
      this.#startKeyRun('refresh', vault.definition, id, vault.epoch + 1, new RefreshRun(index, vault, await this.#share(vault)));
      return toStatus(vault, this.self);
    });
  }

  /**
   * Moves a vault to a new operator set and threshold, keeping its key and address, on the
   * principal's signature over `reshareMessage(definition, epoch)` (`definition`: the same vault id,
   * principal and any policy, new `operators` and `threshold`; `epoch`: the current one). This
   * operator must be a current operator; every current operator must take part. Resolves once
   * started (see {@link waitForVault} with `epoch`; operators left out end `retired`).
   */
  async reshareVault(request: VaultRequest): Promise<VaultStatus> {
    this.#checkOpen();
    const definition = validateVaultDefinition(request.definition);
    const vault = await this.#activeVault(definition.vaultId);
    await this.#verifyReshare(vault, definition, request.signature, vault.epoch);
    const nonce = randomBytes(16);
    const epoch = vault.epoch + 1;
    const id = makeSessionId('reshare', definition.vaultId, new Uint8Array([...nonce, ...encodeVaultDefinition(definition), ...new TextEncoder().encode(`/${epoch}`)]));
    return this.#serialised(async () => {
      if (!(await this.#repository.beginRefresh(definition.vaultId, bytesToHex(id), this.#now(), 'reshare'))) throw new CustodyError('CONFLICT', 'resharing already running');
      const key = vault.key as VaultKey;
      const previous = {
        operators: [...vault.definition.operators],
        threshold: vault.definition.threshold,
        commitments: [...key.publicPackage.commitments],
        verifyingShares: { ...key.publicPackage.verifyingShares },
        internalKey: key.internalKey,
        outputKey: key.outputKey,
      };
      const body = encodeMessage({ session: id, definition: encodeVaultDefinition(definition), signature: request.signature, epoch, nonce, previous });
      const run = new ReshareRun(this.self, { operators: vault.definition.operators, threshold: vault.definition.threshold, key }, definition, await this.#share(vault));
      for (const peer of run.participants) if (peer !== this.self) this.#send(peer, CUSTODY_MESSAGE_TYPES.reshareProposal, body, definition.vaultId);
      this.#audit(vault.definition, { kind: 'reshare-proposed', vaultId: definition.vaultId, session: bytesToHex(id), epoch, operators: [...definition.operators], threshold: definition.threshold });
      this.#startKeyRun('reshare', definition, id, epoch, run, run.participants, request.signature);
      return toStatus(vault, this.self);
    });
  }

  async #onReshareProposal(message: CustodyMessage): Promise<void> {
    const m = decodeMessage(message.body, ['definition', 'signature', 'epoch', 'nonce', 'previous'], 'reshare proposal');
    if (!isBytes(m['definition']) || !isBytes(m['signature']) || !isInteger(m['epoch'], 1, 0xffffffff) || !isBytes(m['nonce'], 16)) throw new CustodyError('INVALID_REQUEST', 'reshare proposal: bad fields');
    const definition = decodeVaultDefinition(m['definition']);
    const epoch = m['epoch'];
    const id = m['session'] as Uint8Array;
    if (!bytesEqual(id, makeSessionId('reshare', definition.vaultId, new Uint8Array([...m['nonce'], ...m['definition'], ...new TextEncoder().encode(`/${epoch}`)])))) {
      throw new CustodyError('INVALID_REQUEST', 'the session id does not match the proposal');
    }
    if (await this.#repository.knowsSession(bytesToHex(id))) return;
    const previous = decodePrevious(m['previous']);
    if (!previous.operators.includes(message.from)) throw new CustodyError('NOT_AUTHORISED', 'the coordinator is not a current operator of the vault');
    const stored = await this.#repository.vault(definition.vaultId);
    let share: Uint8Array | undefined;
    let key: VaultKey;
    if (previous.operators.includes(this.self)) {
      // A current operator checks the proposal's starting point against its own vault.
      const vault = await this.#activeVault(definition.vaultId);
      if (vault.epoch + 1 !== epoch) throw new CustodyError('CONFLICT', `the resharing is for epoch ${epoch}, this vault is at ${vault.epoch}`);
      const own = vault.key as VaultKey;
      if (
        vault.definition.threshold !== previous.threshold ||
        vault.definition.operators.join() !== previous.operators.join() ||
        !bytesEqual(dagCbor.encode([...own.publicPackage.commitments]), dagCbor.encode(previous.commitments)) ||
        !bytesEqual(dagCbor.encode({ ...own.publicPackage.verifyingShares }), dagCbor.encode(previous.verifyingShares))
      ) {
        throw new CustodyError('CONFLICT', 'the resharing does not start from this vault’s current sharing');
      }
      await this.#verifyReshare(vault, definition, m['signature'], vault.epoch);
      share = await this.#share(vault);
      key = own;
    } else {
      // A joining operator takes the current sharing from the proposal; every dealer confirms it in the transcript.
      if (!definition.operators.includes(this.self)) throw new CustodyError('NOT_AUTHORISED', 'this operator is neither a current nor a new operator of the vault');
      if (stored !== undefined && stored.state !== 'retired' && stored.state !== 'failed') throw new CustodyError('CONFLICT', 'the vault exists here already');
      const principalKey = await this.#options.signingKey(definition.principal).catch((cause: unknown) => {
        throw new CustodyError('DEPENDENCY_UNAVAILABLE', 'the principal could not be resolved through the PKI', { cause });
      });
      if (!verifyComposite(principalKey, reshareMessage(definition, epoch - 1), m['signature'], SIGNATURE_CONTEXTS.reshare)) {
        throw new CustodyError('NOT_AUTHORISED', "the principal's resharing signature does not verify");
      }
      key = { publicPackage: { commitments: previous.commitments, verifyingShares: previous.verifyingShares }, internalKey: previous.internalKey, outputKey: previous.outputKey, transcriptHash: new Uint8Array(32) };
    }
    if (!(await this.#repository.beginRefresh(definition.vaultId, bytesToHex(id), this.#now(), 'reshare'))) return;
    const run = new ReshareRun(this.self, { operators: previous.operators, threshold: previous.threshold, key }, definition, share);
    this.#audit(definition, { kind: 'reshare-proposed', vaultId: definition.vaultId, session: bytesToHex(id), epoch, operators: [...definition.operators], threshold: definition.threshold, coordinator: message.from });
    this.#startKeyRun('reshare', definition, id, epoch, run, run.participants, m['signature']);
  }

  async #verifyReshare(vault: StoredVault, definition: VaultDefinition, signature: Uint8Array, epoch: number): Promise<void> {
    if (definition.vaultId !== vault.definition.vaultId || definition.principal !== vault.definition.principal) throw new CustodyError('INVALID_REQUEST', 'a resharing keeps the vault id and the principal');
    const key = await this.#options.signingKey(vault.definition.principal).catch((cause: unknown) => {
      throw new CustodyError('DEPENDENCY_UNAVAILABLE', 'the principal could not be resolved through the PKI', { cause });
    });
    if (!verifyComposite(key, reshareMessage(definition, epoch), signature, SIGNATURE_CONTEXTS.reshare)) throw new CustodyError('NOT_AUTHORISED', "the principal's resharing signature does not verify");
  }

  // --- messages -------------------------------------------------------------------------------

  /**
   * Handles one message from another operator. Refusals and malformed messages are reported
   * through `onNotice`, not thrown; only storage failures throw (the caller retries).
   */
  async handleMessage(message: CustodyMessage): Promise<void> {
    await this.#serialised(() => this.#handle(message));
  }

  async #handle(message: CustodyMessage): Promise<void> {
    if (this.#closed) return;
    try {
      switch (message.type) {
        case CUSTODY_MESSAGE_TYPES.vaultProposal:
          return await this.#onVaultProposal(message);
        case CUSTODY_MESSAGE_TYPES.refreshProposal:
          return await this.#onRefreshProposal(message);
        case CUSTODY_MESSAGE_TYPES.reshareProposal:
          return await this.#onReshareProposal(message);
        case CUSTODY_MESSAGE_TYPES.reshareCommit:
        case CUSTODY_MESSAGE_TYPES.reshareShare:
        case CUSTODY_MESSAGE_TYPES.reshareConfirm:
        case CUSTODY_MESSAGE_TYPES.vaultCommit:
        case CUSTODY_MESSAGE_TYPES.vaultShare:
        case CUSTODY_MESSAGE_TYPES.vaultConfirm:
        case CUSTODY_MESSAGE_TYPES.refreshCommit:
        case CUSTODY_MESSAGE_TYPES.refreshShare:
        case CUSTODY_MESSAGE_TYPES.refreshConfirm:
          return await this.#onRunMessage(message);
        case CUSTODY_MESSAGE_TYPES.signRequest:
          return await this.#onSignRequest(message);
        case CUSTODY_MESSAGE_TYPES.signNonces:
          return await this.#onSignNonces(message);
        case CUSTODY_MESSAGE_TYPES.signPackage:
          return await this.#onSignPackage(message);
        case CUSTODY_MESSAGE_TYPES.signShares:
          return await this.#onSignShares(message);
        case CUSTODY_MESSAGE_TYPES.signResult:
          return await this.#onSignResult(message);
        case CUSTODY_MESSAGE_TYPES.escrowShare:
          return await this.#onEscrowShare(message);
        default:
          this.#notice({ kind: 'message-ignored', reason: `unknown type ${message.type}`, peer: message.from });
      }
    } catch (error) {
      if (isCustodyError(error) || error instanceof BlameError) {
        this.#notice({ kind: 'message-ignored', reason: `${message.type}: ${errorMessage(error)}`, peer: message.from });
        return;
      }
      throw error;
    }
  }

  async #onVaultProposal(message: CustodyMessage): Promise<void> {
    const m = decodeMessage(message.body, ['definition', 'signature', 'nonce'], 'vault proposal');
    if (!isBytes(m['definition']) || !isBytes(m['signature']) || !isBytes(m['nonce'], 16)) throw new CustodyError('INVALID_REQUEST', 'vault proposal: bad fields');
    const definition = decodeVaultDefinition(m['definition']);
    const id = m['session'] as Uint8Array;
    if (!bytesEqual(id, dkgSessionId(definition, m['nonce']))) throw new CustodyError('INVALID_REQUEST', 'the session id does not match the proposal');
    if (await this.#repository.knowsSession(bytesToHex(id))) return; // redelivered
    if (!definition.operators.includes(message.from)) throw new CustodyError('NOT_AUTHORISED', 'the coordinator is not an operator of the vault');
    if (!definition.operators.includes(this.self)) throw new CustodyError('NOT_AUTHORISED', 'this operator is not an operator of the vault');
    await verifyVaultRequest({ definition, signature: m['signature'] }, this.#options.signingKey);
    if (!(await this.#repository.beginVault({ definition, signature: m['signature'], sessionId: bytesToHex(id), coordinator: message.from, now: this.#now() }))) {
      throw new CustodyError('CONFLICT', 'the vault exists here already');
    }
    this.#audit(definition, { kind: 'vault-proposed', vaultId: definition.vaultId, session: bytesToHex(id), coordinator: message.from, definition: m['definition'] });
    this.#startKeyRun('dkg', definition, id, 0, new DkgAdapter(new FrostDkg(definition.operators.indexOf(this.self) + 1, definition.operators.length, definition.threshold)));
    this.#changed();
  }

  async #onRefreshProposal(message: CustodyMessage): Promise<void> {
    const m = decodeMessage(message.body, ['vaultId', 'epoch', 'signature', 'nonce'], 'refresh proposal');
    if (typeof m['vaultId'] !== 'string' || !isInteger(m['epoch'], 1, 0xffffffff) || !isBytes(m['signature']) || !isBytes(m['nonce'], 16)) throw new CustodyError('INVALID_REQUEST', 'refresh proposal: bad fields');
    const id = m['session'] as Uint8Array;
    if (!bytesEqual(id, makeSessionId('refresh', m['vaultId'], concatNonce(m['nonce'], m['epoch'])))) throw new CustodyError('INVALID_REQUEST', 'the session id does not match the proposal');
    if (await this.#repository.knowsSession(bytesToHex(id))) return;
    const vault = await this.#activeVault(m['vaultId']);
    if (!vault.definition.operators.includes(message.from)) throw new CustodyError('NOT_AUTHORISED', 'the coordinator is not an operator of the vault');
    if (m['epoch'] !== vault.epoch + 1) throw new CustodyError('CONFLICT', `the refresh is for epoch ${m['epoch']}, this vault is at ${vault.epoch}`);
    await this.#verifyRefresh(vault, m['signature']);
    if (!(await this.#repository.beginRefresh(vault.definition.vaultId, bytesToHex(id), this.#now()))) return;
    this.#audit(vault.definition, { kind: 'refresh-proposed', vaultId: vault.definition.vaultId, session: bytesToHex(id), epoch: m['epoch'] });
    const index = vault.definition.operators.indexOf(this.self) + 1;
    this.#startKeyRun('refresh', vault.definition, id, m['epoch'], new RefreshRun(index, vault, await this.#share(vault)));
  }

  async #verifyRefresh(vault: StoredVault, signature: Uint8Array): Promise<void> {
    const key = await this.#options.signingKey(vault.definition.principal).catch((cause: unknown) => {
      throw new CustodyError('DEPENDENCY_UNAVAILABLE', 'the principal could not be resolved through the PKI', { cause });
    });
    let ok: boolean;
    try {
      ok = compositeVerify(key, refreshMessage(vault.definition.vaultId, vault.epoch), signature, utf8ToBytes(SIGNATURE_CONTEXTS.refresh));
    } catch {
      ok = false;
    }
    if (!ok) throw new CustodyError('NOT_AUTHORISED', "the principal's refresh signature does not verify");
  }

  // --- key runs (DKG and refresh) -------------------------------------------------------------

  #startKeyRun(kind: RunKind, vault: VaultDefinition, id: Uint8Array, epoch: number, dkg: KeyGeneration, participants: readonly string[] = vault.operators, signature?: Uint8Array): void {
    const run: KeyRun = {
      kind,
      id,
      hex: bytesToHex(id),
      vault,
      participants,
      ...(signature === undefined ? {} : { signature }),
      index: participants.indexOf(this.self) + 1,
      epoch,
      dkg,
      phase: 1,
      confirmations: new Map(),
      received: new Map(),
    };
    this.#runs.set(run.hex, run);
    const own = dkg.commitment;
    if (own.commitment.length > 0) {
      const body = encodeMessage({ session: id, commitment: [...own.commitment], ...(own.proof === undefined ? {} : { proof: own.proof }) });
      for (const peer of participants) if (peer !== this.self) this.#send(peer, RUN_TYPES[kind].commit, body, vault.vaultId);
    }
    this.#arm(run);
    const buffered = this.#buffered.get(run.hex) ?? [];
    this.#buffered.delete(run.hex);
    for (const message of buffered) void this.#serialised(() => this.#handle(message)).catch(() => undefined);
    // A receiver-only participant may have nothing to wait for in round 1 already buffered: advance once.
    void this.#serialised(() => this.#advance(run, false)).catch(() => undefined);
  }

  async #onRunMessage(message: CustodyMessage): Promise<void> {
    const kind: RunKind = message.type.startsWith('milagro/custody/refresh/') ? 'refresh' : message.type.startsWith('milagro/custody/reshare/') ? 'reshare' : 'dkg';
    const types = RUN_TYPES[kind];
    const session = sessionField(message.body);
    const hex = bytesToHex(session);
    const run = this.#runs.get(hex);
    if (run === undefined) {
      if (!(await this.#repository.knowsSession(hex))) this.#buffer(hex, message);
      return;
    }
    if (run.kind !== kind) throw new CustodyError('INVALID_REQUEST', 'a message of another kind of run');
    const sender = run.participants.indexOf(message.from) + 1;
    if (sender === 0 || sender === run.index) throw new CustodyError('NOT_AUTHORISED', 'the sender is not another participant of the run');
    if (run.phase === 'done') return;
    if (message.cid !== undefined && (message.type === types.commit || message.type === types.share)) {
      const cids = run.received.get(sender) ?? {};
      const slot = message.type === types.commit ? 'commit' : 'share';
      if (cids[slot] === undefined) run.received.set(sender, { ...cids, [slot]: message.cid });
    }
    try {
      if (message.type === types.commit) {
        const m = decodeMessage(message.body, kind === 'dkg' ? ['commitment', 'proof'] : ['commitment'], 'commitments');
        const count = kind === 'refresh' ? run.vault.threshold - 1 : run.vault.threshold;
        const commitment = pointList(m['commitment'], count, 'commitments');
        if (kind === 'dkg' && !isBytes(m['proof'], 64) && !isBytes(m['proof'], 65)) throw new BlameError({ operator: sender, reason: 'sent a malformed proof of knowledge' });
        run.dkg.receiveCommitment(sender, { commitment, ...(kind === 'dkg' ? { proof: m['proof'] as Uint8Array } : {}) });
      } else if (message.type === types.share) {
        const m = decodeMessage(message.body, ['share'], 'share');
        if (!isBytes(m['share'], 32)) throw new BlameError({ operator: sender, reason: 'sent a malformed share' });
        run.dkg.receiveShare(sender, m['share']);
      } else {
        const m = decodeConfirmation(message.body);
        const transcript = m['transcript'];
        if (transcript !== null && !isBytes(transcript, 32)) throw new CustodyError('INVALID_REQUEST', 'confirmation: transcript must be 32 bytes or null');
        const confirmation = { transcript, accused: optionalIndex(m['accused'], 'accused'), reason: optionalText(m['reason'], 'reason') };
        if (!run.confirmations.has(sender)) run.confirmations.set(sender, confirmation);
        // A blame or a failed run elsewhere ends the run here too, whatever round it is in.
        if (confirmation.accused !== null) {
          if (m['evidence'] !== undefined) return this.#judge(run, sender, confirmation.accused, m['evidence']);
          return this.#failRun(run, `operator ${confirmation.accused} was blamed by operator ${sender}: ${confirmation.reason ?? 'no reason given'}`, undefined, false);
        }
        if (transcript === null) return this.#failRun(run, `operator ${sender} failed its run: ${confirmation.reason ?? 'no reason given'}`, undefined, false);
      }
    } catch (error) {
      if (error instanceof BlameError) {
        // A bad private share or round-1 package is provable: the accused's own envelopes, revealed, show it to everyone.
        const provable = error.blame.operator === sender && (message.type === types.share || message.type === types.commit);
        const evidence = provable ? await this.#evidence(run, sender, message.type === types.share) : undefined;
        return this.#failRun(run, error.blame.reason, error.blame, true, evidence);
      }
      throw error;
    }
    await this.#advance(run, false);
  }

  /** The accused's round-1 (and share) envelopes, revealed; undefined when they cannot be (no revealer, a CID or block missing). */
  async #evidence(run: KeyRun, accused: number, withShare: boolean): Promise<BlameEvidence | undefined> {
    const reveal = this.#options.revealEnvelope;
    const cids = run.received.get(accused);
    if (reveal === undefined || cids?.commit === undefined || (withShare && cids.share === undefined)) return undefined;
    const peer = run.participants[accused - 1] as string;
    try {
      return { commit: await reveal(cids.commit, peer), ...(withShare ? { share: await reveal(cids.share as string, peer) } : {}) };
    } catch (error) {
      this.#notice({ kind: 'message-ignored', reason: `could not reveal the evidence against operator ${accused}: ${errorMessage(error)}`, vaultId: run.vault.vaultId, sessionId: run.hex, peer });
      return undefined;
    }
  }

  /**
   * Operator `accuser` blamed operator `accused` with evidence: this operator checks it itself and
   * names the accused (verified) or the accuser (the evidence does not show a bad share). The run
   * fails either way.
   */
  async #judge(run: KeyRun, accuser: number, accused: number, rawEvidence: unknown): Promise<void> {
    const accuserId = run.participants[accuser - 1] as string;
    const accusedId = run.participants[accused - 1];
    let verdict: EvidenceVerdict;
    try {
      if (accusedId === undefined || accused === accuser) throw new CustodyError('INVALID_REQUEST', 'it names no other operator of the run');
      const evidence = decodeEvidence(rawEvidence);
      let signingKey: Uint8Array;
      try {
        signingKey = await this.#options.signingKey(accusedId);
      } catch (error) {
        // Not a verdict: the PKI did not answer. The accusation stands as the accuser's word.
        return this.#failRun(run, `operator ${accused} was blamed by operator ${accuser} (its evidence could not be checked: ${errorMessage(error)})`, undefined, false, undefined, 'unchecked');
      }
      // (A resharing's receiver-only operator sent no commitments: nothing of its own to compare.)
      const ownCommitment = accused === run.index && run.dkg.commitment.commitment.length > 0 ? run.dkg.commitment.commitment : run.dkg.commitmentOf?.(accused);
      verdict = await checkBlameEvidence({
        evidence,
        session: run.id,
        accuser: { id: accuserId, index: accuser },
        accused: { id: accusedId, index: accused, signingKey },
        rules: run.kind === 'dkg' ? dkgEvidenceRules(run.participants.length, run.vault.threshold) : run.kind === 'refresh' ? refreshEvidenceRules(run.vault.threshold) : (run.dkg as ReshareRun).evidenceRules(),
        ...(ownCommitment === undefined ? {} : { ownCommitment }),
      });
    } catch (error) {
      if (!isCustodyError(error)) throw error;
      verdict = { verified: false, reason: `its evidence is malformed: ${error.message}` };
    }
    if (verdict.verified) return this.#failRun(run, verdict.reason, { operator: accused, reason: verdict.reason }, false, undefined, 'verified');
    const reason = `accused operator ${accused} falsely: ${verdict.reason}`;
    return this.#failRun(run, reason, { operator: accuser, reason }, false, undefined, 'refuted');
  }

  async #advance(run: KeyRun, deadline: boolean): Promise<void> {
    if (run.phase === 1) {
      const missing = run.dkg.missing(1);
      if (missing.length > 0) {
        if (deadline) await this.#failRun(run, `no round-1 commitments from operator(s) ${missing.join(', ')} before the deadline`);
        return;
      }
      for (const [recipient, share] of run.dkg.shares()) this.#send(run.participants[recipient - 1] as string, RUN_TYPES[run.kind].share, encodeMessage({ session: run.id, share }), run.vault.vaultId);
      run.phase = 2;
      this.#arm(run);
      this.#audit(run.vault, { kind: 'dkg-round', vaultId: run.vault.vaultId, session: run.hex, run: run.kind, round: 1 });
    }
    if (run.phase === 2) {
      const missing = run.dkg.missing(2);
      if (missing.length > 0) {
        if (deadline) await this.#failRun(run, `no round-2 share from operator(s) ${missing.join(', ')} before the deadline`);
        return;
      }
      try {
        run.outcome = run.dkg.finish();
      } catch (error) {
        return this.#failRun(run, `key generation failed: ${errorMessage(error)}`);
      }
      this.#broadcastConfirm(run, run.outcome.key.transcriptHash, null, null);
      run.phase = 'confirm';
      this.#arm(run);
    }
    if (run.phase === 'confirm') {
      const outcome = run.outcome as { key: VaultKey; signingShare?: Uint8Array };
      const missing: number[] = [];
      for (let i = 1; i <= run.participants.length; i++) {
        if (i === run.index) continue;
        const theirs = run.confirmations.get(i);
        if (theirs === undefined) {
          missing.push(i);
          continue;
        }
        if (theirs.accused !== null) return this.#failRun(run, `operator ${theirs.accused} was blamed by operator ${i}: ${theirs.reason ?? 'no reason given'}`, undefined, false);
        if (theirs.transcript === null) return this.#failRun(run, `operator ${i} failed its run: ${theirs.reason ?? 'no reason given'}`, undefined, false);
        if (!bytesEqual(theirs.transcript, outcome.key.transcriptHash)) return this.#failRun(run, `split view: operator ${i} confirmed another transcript`);
      }
      if (missing.length > 0) {
        if (deadline) await this.#failRun(run, `no confirmation from operator(s) ${missing.join(', ')} before the deadline`);
        return;
      }
      await this.#complete(run, outcome);
    }
  }

  async #complete(run: KeyRun, outcome: { key: VaultKey; signingShare?: Uint8Array }): Promise<void> {
    run.phase = 'done';
    clearTimeout(run.timer);
    this.#runs.delete(run.hex);
    const vaultId = run.vault.vaultId;
    const share = outcome.signingShare;
    try {
      if (share === undefined) {
        // A resharing left this operator out: it retires the vault, then forgets its share.
        await this.#repository.retire(vaultId, run.hex, run.epoch, this.#now());
      } else if (run.kind === 'reshare') {
        await this.#storeShare(vaultShareLabel(vaultId, run.epoch), share);
        await this.#repository.installReshared(run.vault, run.signature as Uint8Array, run.hex, run.epoch, outcome.key, this.#now());
      } else {
        // The share goes into the key store before the vault (or its new epoch) becomes active.
        await this.#storeShare(vaultShareLabel(vaultId, run.epoch), share);
        await this.#repository.activate(vaultId, run.hex, run.epoch, outcome.key, this.#now());
      }
    } catch (error) {
      await this.#failRun(run, `could not store the result: ${errorMessage(error)}`);
      return;
    } finally {
      share?.fill(0);
      run.dkg.clean();
    }
    if (run.epoch > 0) await this.#deleteKey(vaultShareLabel(vaultId, run.epoch - 1)).catch(() => undefined);
    this.#audit(run.vault, {
      kind: run.kind === 'dkg' ? 'vault-active' : run.kind === 'refresh' ? 'refresh-done' : share === undefined ? 'reshare-retired' : 'reshare-done',
      vaultId,
      session: run.hex,
      epoch: run.epoch,
      operators: [...run.vault.operators],
      threshold: run.vault.threshold,
      outputKey: outcome.key.outputKey,
      transcript: outcome.key.transcriptHash,
    });
    this.#changed();
  }

  /** Fails a run here; `blame` (caught here) and failures found here are told to the other operators. */
  async #failRun(run: KeyRun, reason: string, blame?: Blame, tell = true, evidence?: BlameEvidence, judged?: 'verified' | 'refuted' | 'unchecked'): Promise<void> {
    if (run.phase === 'done') return;
    run.phase = 'done';
    clearTimeout(run.timer);
    this.#runs.delete(run.hex);
    run.dkg.clean();
    if (tell) this.#broadcastConfirm(run, null, blame?.operator ?? null, blame ? `operator ${blame.operator} ${blame.reason}` : reason, evidence);
    const full = blame ? `operator ${blame.operator} (${run.participants[blame.operator - 1] ?? '?'}) ${blame.reason}` : reason;
    if (blame) this.#notice({ kind: 'operator-blamed', reason: full, vaultId: run.vault.vaultId, sessionId: run.hex, peer: run.participants[blame.operator - 1] as string });
    if (run.kind === 'dkg') await this.#repository.failVault(run.vault.vaultId, run.hex, full, this.#now());
    else await this.#repository.endSession(run.hex, 'failed');
    this.#notice({ kind: 'session-failed', reason: full, vaultId: run.vault.vaultId, sessionId: run.hex });
    this.#audit(run.vault, {
      kind: run.kind === 'dkg' ? 'vault-failed' : run.kind === 'refresh' ? 'refresh-failed' : 'reshare-failed',
      vaultId: run.vault.vaultId,
      session: run.hex,
      reason: full,
      accused: blame?.operator ?? null,
      // How the blame stands: published with evidence (here), checked from another operator's evidence, or the receiver's word.
      evidence: evidence !== undefined ? 'published' : (judged ?? null),
    });
    this.#changed();
  }

  #broadcastConfirm(run: KeyRun, transcript: Uint8Array | null, accused: number | null, reason: string | null, evidence?: BlameEvidence): void {
    const body = encodeMessage({ session: run.id, transcript, accused, reason, ...(evidence === undefined ? {} : { evidence: encodeEvidence(evidence) }) });
    for (const peer of run.participants) if (peer !== this.self) this.#send(peer, RUN_TYPES[run.kind].confirm, body, run.vault.vaultId);
  }

  #arm(run: KeyRun): void {
    clearTimeout(run.timer);
    run.timer = setTimeout(() => {
      void this.#serialised(async () => {
        if (this.#closed || run.phase === 'done') return;
        await this.#advance(run, true);
      }).catch(() => undefined);
    }, this.#roundTimeoutMs);
  }

  // --- signing: the operator side -------------------------------------------------------------

  async #onSignRequest(message: CustodyMessage): Promise<void> {
    const m = decodeMessage(message.body, ['request', 'signature', 'approvals'], 'sign request');
    if (!isBytes(m['request']) || !isBytes(m['signature'])) throw new CustodyError('INVALID_REQUEST', 'sign request: bad fields');
    const id = m['session'] as Uint8Array;
    const hex = bytesToHex(id);
    if (this.#participations.has(hex)) return; // redelivered while running
    const signed: SignedSpendRequest = { request: m['request'], signature: m['signature'], approvals: approvalList(m['approvals']) };
    const decoded = decodeSpendRequest(signed.request);
    if (!bytesEqual(id, makeSessionId('sign', decoded.vaultId, hexToBytes(decoded.requestId)))) throw new CustodyError('INVALID_REQUEST', 'the session id does not match the request');
    const vault = await this.#activeVault(decoded.vaultId);
    if (!vault.definition.operators.includes(message.from)) throw new CustodyError('NOT_AUTHORISED', 'the coordinator is not an operator of the vault');
    const refuse = (code: string, reason: string): void => {
      this.#audit(vault.definition, { kind: 'spend-refused', vaultId: decoded.vaultId, requestId: decoded.requestId, coordinator: message.from, code, reason });
      this.#send(message.from, CUSTODY_MESSAGE_TYPES.signNonces, encodeMessage({ session: id, commitments: null, refusal: `${code}: ${reason}` }), decoded.vaultId);
    };
    let plan: SpendPlan;
    try {
      // Every operator checks the principal, the approvals and the limits on its own.
      const request = await verifySpendRequest(signed, vault.definition, this.#options.signingKey);
      plan = planSpend(request.payload, vault.definition.policy, (vault.key as VaultKey).outputKey);
    } catch (error) {
      if (!isCustodyError(error)) throw error;
      return refuse(error.code, error.message);
    }
    const known = await this.#repository.request(decoded.vaultId, decoded.requestId);
    if (known !== undefined || !(await this.#repository.consumeRequest(decoded.vaultId, decoded.requestId, this.#now()))) {
      return refuse('REQUEST_REPLAYED', 'this request id was already used here');
    }
    this.#audit(vault.definition, { kind: 'spend-request', vaultId: decoded.vaultId, requestId: decoded.requestId, request: signed.request, approvals: signed.approvals.map((a) => a.approver), coordinator: message.from });
    const index = vault.definition.operators.indexOf(this.self) + 1;
    if (decoded.payload.kind === 'escrow-release') {
      let envelope: Uint8Array;
      try {
        envelope = await this.#sealShare(vault, decoded.requestId, index);
      } catch (error) {
        if (!isCustodyError(error)) throw error;
        await this.#repository.finishRequest(decoded.vaultId, decoded.requestId, { state: 'refused', reason: error.message }, this.#now());
        return refuse(error.code, error.message);
      }
      await this.#repository.finishRequest(decoded.vaultId, decoded.requestId, { state: 'signed', result: { signatures: [], signers: [index], blamed: [] } }, this.#now());
      this.#audit(vault.definition, { kind: 'escrow-released', vaultId: decoded.vaultId, requestId: decoded.requestId, operator: index, coordinator: message.from });
      this.#send(message.from, CUSTODY_MESSAGE_TYPES.escrowShare, encodeMessage({ session: id, envelope }), decoded.vaultId);
      return;
    }
    const own = commitNonces(index, await this.#share(vault), plan.messages.length);
    const participation: Participation = { hex, vault, index, coordinator: message.from, requestId: decoded.requestId, plan, nonces: own.nonces, commitments: own.commitments };
    this.#participations.set(hex, participation);
    // Unused nonces are dropped after a while; the request id stays consumed.
    participation.timer = setTimeout(() => {
      void this.#serialised(async () => {
        if (!this.#participations.has(hex)) return;
        this.#participations.delete(hex);
        if ((await this.#repository.request(decoded.vaultId, decoded.requestId))?.state === 'signing') {
          await this.#repository.finishRequest(decoded.vaultId, decoded.requestId, { state: 'failed', reason: 'not asked to sign before the deadline' }, this.#now());
        }
      }).catch(() => undefined);
    }, this.#roundTimeoutMs * 3);
    this.#send(message.from, CUSTODY_MESSAGE_TYPES.signNonces, encodeMessage({ session: id, commitments: own.commitments.map((c) => ({ hiding: c.hiding, binding: c.binding })), refusal: null }), decoded.vaultId);
  }

  async #onSignPackage(message: CustodyMessage): Promise<void> {
    const m = decodeMessage(message.body, ['attempt', 'signers'], 'sign package');
    const participation = this.#participations.get(bytesToHex(m['session'] as Uint8Array));
    if (participation === undefined || participation.nonces === undefined) return; // unknown, or already signed once: never again
    if (message.from !== participation.coordinator) throw new CustodyError('NOT_AUTHORISED', 'only the coordinator sends the signing package');
    if (!isInteger(m['attempt'], 1, 1000)) throw new CustodyError('INVALID_REQUEST', 'bad attempt');
    const lists = signerLists(m['signers'], participation.vault.definition, participation.plan.messages.length);
    const mine = lists.map((list) => list.get(participation.index));
    if (!mine.every((c, i) => c !== undefined && bytesEqual(c.hiding, (participation.commitments[i] as NonceCommitment).hiding) && bytesEqual(c.binding, (participation.commitments[i] as NonceCommitment).binding))) {
      throw new CustodyError('INVALID_REQUEST', 'the package does not carry this operator’s commitments');
    }
    const nonces = participation.nonces;
    delete participation.nonces; // used once, whatever happens next
    const shares = signShares(participation.index, await this.#share(participation.vault), frostPackage(participation.vault), nonces, lists, participation.plan.messages);
    this.#audit(participation.vault.definition, { kind: 'sign-round', vaultId: participation.vault.definition.vaultId, requestId: participation.requestId, attempt: m['attempt'], signers: [...(lists[0] as Map<number, NonceCommitment>).keys()] });
    this.#send(message.from, CUSTODY_MESSAGE_TYPES.signShares, encodeMessage({ session: m['session'], attempt: m['attempt'], shares }), participation.vault.definition.vaultId);
  }

  /**
   * A signing outcome from the coordinator of a request. It reaches every operator of the vault,
   * not only the signers, so an operator that was cut off, refused, or lost a split brain records
   * the signature the others made. Recorded as signed here only after this operator checked, on
   * its own: the principal's signature on the request (carried in the result), that the request
   * id is the session's, the vault's policy, and every signature under the vault's Taproot output
   * key over the messages it derives itself from the request. A valid signature that its own
   * policy check refuses is recorded as refused, with the signatures, and raised loudly.
   */
  async #onSignResult(message: CustodyMessage): Promise<void> {
    const m = decodeSignResult(message.body);
    const hex = bytesToHex(m.session);
    const participation = this.#participations.get(hex);
    const fromCoordinator = participation !== undefined && message.from === participation.coordinator;
    if (m.signatures === null) {
      // A failure elsewhere changes nothing here, except for the request this operator took part in.
      if (!fromCoordinator) return;
      clearTimeout(participation.timer);
      this.#participations.delete(hex);
      const vaultId = participation.vault.definition.vaultId;
      await this.#repository.finishRequest(vaultId, participation.requestId, { state: 'failed', reason: m.reason ?? 'no valid signature' }, this.#now());
      this.#audit(participation.vault.definition, { kind: 'spend-failed', vaultId, requestId: participation.requestId, reason: m.reason });
      return;
    }
    if (m.spend === null) {
      // An older coordinator: its result counts only for the request this operator took part in.
      if (!fromCoordinator) throw new CustodyError('INVALID_REQUEST', 'a sign result without the signed request');
      return this.#recordResult(participation.vault, participation.requestId, participation.plan, m, message.from, undefined, participation);
    }
    const decoded = decodeSpendRequest(m.spend.request);
    if (decoded.requestId !== m.requestId || !bytesEqual(m.session, makeSessionId('sign', decoded.vaultId, hexToBytes(decoded.requestId)))) {
      throw new CustodyError('INVALID_REQUEST', 'the sign result does not match its request');
    }
    const vault = await this.#activeVault(decoded.vaultId);
    if (!vault.definition.operators.includes(message.from) || message.from === this.self) throw new CustodyError('NOT_AUTHORISED', 'the sign result is not from another operator of the vault');
    const known = await this.#repository.request(decoded.vaultId, decoded.requestId);
    if (known?.state === 'signed') return; // taken part, coordinated, or learnt already
    // What was signed, derived here from the request itself (the policy is checked below).
    let messages: readonly Uint8Array[];
    try {
      messages = planSpend(decoded.payload, UNLIMITED_POLICY, (vault.key as VaultKey).outputKey).messages;
    } catch (error) {
      if (!isCustodyError(error)) throw error;
      throw new CustodyError('INVALID_REQUEST', `the sign result's request names nothing this vault can sign: ${error.message}`);
    }
    if (!signaturesVerify(m.signatures, messages, (vault.key as VaultKey).outputKey)) throw new CustodyError('INVALID_REQUEST', 'the sign result carries signatures that do not verify under the vault key');
    // This operator's own check: the principal, the approvals and the limits, as for a request it is asked to sign
    // (done already when it took part).
    let refusal: string | undefined;
    if (!fromCoordinator) {
      try {
        const request = await verifySpendRequest({ request: m.spend.request, signature: m.spend.signature, approvals: m.spend.approvals }, vault.definition, this.#options.signingKey);
        planSpend(request.payload, vault.definition.policy, (vault.key as VaultKey).outputKey);
      } catch (error) {
        if (!isCustodyError(error)) throw error;
        // Not a verdict: the PKI did not answer. Nothing is recorded yet: held and checked again later (spec §5, §12).
        if (error.code === 'DEPENDENCY_UNAVAILABLE') {
          const held = this.#holdResult(message);
          throw new CustodyError('DEPENDENCY_UNAVAILABLE', `the sign result cannot be checked now: ${error.message}${held ? ' (held: it is checked again later)' : ''}`);
        }
        refusal = `${error.code}: ${error.message}`;
      }
    }
    return this.#recordResult(vault, decoded.requestId, { messages }, m, message.from, refusal, fromCoordinator ? participation : undefined, decoded.payload);
  }

  /**
   * Holds a signing result that could not be checked because the PKI did not answer, to check it
   * again later (spec §12): false when it is not held (too many held already, or out of tries).
   */
  #holdResult(message: CustodyMessage): boolean {
    const key = `${bytesToHex(sessionField(message.body))}/${message.from}`;
    const held = this.#heldResults.get(key);
    if (held !== undefined) {
      // A retry (or a redelivery) that still cannot be checked: the retry schedules the next one.
      held.unavailable = true;
      return held.attempt + 1 < MAX_RESULT_RETRIES;
    }
    if (this.#closed || this.#heldResults.size >= MAX_HELD_RESULTS) return false;
    const entry: HeldResult = { message, attempt: 0, unavailable: false };
    this.#heldResults.set(key, entry);
    this.#scheduleHeld(key, entry);
    return true;
  }

  #scheduleHeld(key: string, entry: HeldResult): void {
    const delay = Math.min(this.#resultRetryMs * 2 ** entry.attempt, MAX_RESULT_RETRY_DELAY_MS);
    entry.timer = setTimeout(() => void this.#retryHeld(key, entry), delay);
  }

  async #retryHeld(key: string, entry: HeldResult): Promise<void> {
    if (this.#closed || this.#heldResults.get(key) !== entry) return;
    entry.unavailable = false;
    await this.#serialised(() => this.#handle(entry.message)).catch(() => undefined);
    if (this.#closed || this.#heldResults.get(key) !== entry) return;
    if (!entry.unavailable) {
      // Checked: recorded, or refused on a verdict (the notice says which).
      this.#heldResults.delete(key);
      return;
    }
    entry.attempt += 1;
    if (entry.attempt >= MAX_RESULT_RETRIES) {
      this.#heldResults.delete(key);
      this.#notice({ kind: 'message-ignored', reason: `gave up checking a sign result after ${MAX_RESULT_RETRIES} tries: the PKI did not answer`, sessionId: key.split('/')[0] as string, peer: entry.message.from });
      return;
    }
    this.#scheduleHeld(key, entry);
  }

  /** Records a checked result of another operator's coordination (see {@link #onSignResult}). */
  async #recordResult(
    vault: StoredVault,
    requestId: string,
    plan: Pick<SpendPlan, 'messages'>,
    m: SignResultMessage,
    coordinator: string,
    refusal: string | undefined,
    participation: Participation | undefined,
    payload?: ReturnType<typeof decodeSpendRequest>['payload'],
  ): Promise<void> {
    const vaultId = vault.definition.vaultId;
    const signatures = m.signatures as Uint8Array[];
    const outputKey = (vault.key as VaultKey).outputKey;
    if (!signaturesVerify(signatures, plan.messages, outputKey)) {
      if (participation !== undefined) {
        clearTimeout(participation.timer);
        this.#participations.delete(participation.hex);
        await this.#repository.finishRequest(vaultId, requestId, { state: 'failed', reason: 'the coordinator reported signatures that do not verify' }, this.#now());
        this.#audit(vault.definition, { kind: 'spend-failed', vaultId, requestId, reason: 'the coordinator reported signatures that do not verify' });
      }
      throw new CustodyError('INVALID_REQUEST', 'the sign result carries signatures that do not verify under the vault key');
    }
    if (participation !== undefined) {
      clearTimeout(participation.timer);
      this.#participations.delete(participation.hex);
    }
    let finalised: { psbt: Uint8Array; transaction: Uint8Array; txid: string } | undefined;
    if (payload?.kind === 'psbt') {
      try {
        finalised = finalisePsbt(payload.psbt, signatures);
      } catch {
        finalised = undefined; // the signatures verified; the transaction is the coordinator's to build
      }
    }
    const result: SignResult = {
      signatures,
      ...(finalised ?? {}),
      signers: m.signers,
      blamed: [],
      ...(participation === undefined ? { learnedFrom: coordinator } : {}),
      ...(refusal === undefined ? {} : { policyConflict: refusal }),
    };
    const txid = finalised?.txid ?? m.txid;
    if (refusal !== undefined) {
      // Signed by others, refused by this operator's own check: recorded as refused, with the evidence, and raised.
      const reason = `policy conflict: operators ${m.signers.join(', ') || '?'} signed (result from ${coordinator}), this operator refuses: ${refusal}`;
      if (!(await this.#repository.recordLearned(vaultId, requestId, { state: 'refused', reason, result }, this.#now()))) return;
      this.#notice({ kind: 'policy-conflict', reason, vaultId, sessionId: bytesToHex(m.session), peer: coordinator });
      this.#audit(vault.definition, { kind: 'spend-signed-against-policy', vaultId, requestId, signatures, txid, signers: m.signers, coordinator, refusal });
      return;
    }
    if (participation === undefined) {
      if (!(await this.#repository.recordLearned(vaultId, requestId, { state: 'signed', result }, this.#now()))) return;
    } else {
      await this.#repository.finishRequest(vaultId, requestId, { state: 'signed', result }, this.#now());
    }
    this.#audit(vault.definition, { kind: 'spend-signed', vaultId, requestId, signatures, txid, signers: m.signers, ...(participation === undefined ? { learnedFrom: coordinator } : {}) });
    // A split brain: this operator coordinates the same request and finds no second signer; it is signed now.
    const coordination = this.#coordinations.get(bytesToHex(m.session));
    if (coordination !== undefined && !coordination.done) {
      coordination.done = true;
      clearTimeout(coordination.timer);
      this.#coordinations.delete(coordination.hex);
      delete coordination.ownNonces;
      coordination.resolve({ requestId, ...result });
    }
  }

  // --- signing: the coordinator side ----------------------------------------------------------

  async #onSignNonces(message: CustodyMessage): Promise<void> {
    const m = decodeMessage(message.body, ['commitments', 'refusal'], 'nonces');
    const coordination = this.#coordinations.get(bytesToHex(m['session'] as Uint8Array));
    if (coordination === undefined || coordination.done) return;
    const sender = coordination.vault.definition.operators.indexOf(message.from) + 1;
    if (sender === 0 || sender === coordination.index) throw new CustodyError('NOT_AUTHORISED', 'not another operator of the vault');
    if (coordination.committed.has(sender) || coordination.refusals.has(sender)) return;
    if (m['commitments'] === null) {
      coordination.refusals.set(sender, optionalText(m['refusal'], 'refusal') ?? 'refused');
    } else {
      const commitments = nonceCommitments(m['commitments'], 'nonces');
      if (commitments.length !== coordination.plan.messages.length) throw new CustodyError('INVALID_REQUEST', 'one nonce commitment per message');
      coordination.committed.set(sender, commitments);
    }
    if (coordination.payload.kind === 'escrow-release') await this.#tryRelease(coordination);
    else await this.#tryAttempt(coordination);
  }

  async #onEscrowShare(message: CustodyMessage): Promise<void> {
    const m = decodeMessage(message.body, ['envelope'], 'escrow share');
    const c = this.#coordinations.get(bytesToHex(m['session'] as Uint8Array));
    if (c === undefined || c.done || c.payload.kind !== 'escrow-release') return;
    const sender = c.vault.definition.operators.indexOf(message.from) + 1;
    if (sender === 0 || sender === c.index || c.sealed.has(sender) || c.refusals.has(sender)) return;
    if (!isBytes(m['envelope']) || m['envelope'].length > 64 * 1024) throw new CustodyError('INVALID_REQUEST', 'escrow share: bad envelope');
    // Sealed to the principal: the coordinator cannot check it; the principal does (recoverEscrowKey).
    c.sealed.set(sender, m['envelope']);
    await this.#tryRelease(c);
  }

  /** Escrow releases: done once t operators (this one included) sealed their share; failed when t can no longer be reached. */
  async #tryRelease(c: Coordination): Promise<void> {
    if (c.done) return;
    const { threshold, operators } = c.vault.definition;
    if (c.sealed.size >= threshold) {
      const sealedShares = [...c.sealed].sort(([a], [b]) => a - b).map(([operator, envelope]) => ({ operator, envelope }));
      const result: SignResult = { signatures: [], signers: sealedShares.map((s) => s.operator), blamed: [], sealedShares };
      c.done = true;
      clearTimeout(c.timer);
      this.#coordinations.delete(c.hex);
      await this.#repository.finishRequest(c.vault.definition.vaultId, c.requestId, { state: 'signed', result }, this.#now());
      this.#audit(c.vault.definition, { kind: 'escrow-released', vaultId: c.vault.definition.vaultId, requestId: c.requestId, operators: result.signers });
      c.resolve({ requestId: c.requestId, ...result });
      return;
    }
    if (operators.length - c.refusals.size < threshold) await this.#failCoordination(c, this.#refusalError(c));
  }

  async #sealShare(vault: StoredVault, requestId: string, index: number): Promise<Uint8Array> {
    if (vault.definition.mode !== 'escrow') throw new CustodyError('POLICY_REFUSED', 'only escrow vaults release key shares');
    if (this.#options.sealShare === undefined) throw new CustodyError('POLICY_REFUSED', 'this operator does not release escrow shares');
    const share = await this.#share(vault);
    try {
      return await this.#options.sealShare(vault.definition.principal, { vaultId: vault.definition.vaultId, requestId, operator: index, share });
    } catch (cause) {
      if (isCustodyError(cause)) throw cause;
      throw new CustodyError('DEPENDENCY_UNAVAILABLE', "the share could not be sealed to the principal's key", { cause });
    } finally {
      share.fill(0);
    }
  }

  /** Starts an attempt when enough operators committed and none is running; fails when t can no longer be reached. */
  async #tryAttempt(c: Coordination): Promise<void> {
    if (c.done || c.chosen !== undefined) return;
    const { threshold, operators } = c.vault.definition;
    const blamed = new Set(c.blamed.map((b) => b.operator));
    const available = [...c.committed.keys()].filter((i) => i !== c.index && !c.used.has(i) && !blamed.has(i));
    const pending = operators.length - 1 - c.committed.size + 1 - c.refusals.size; // not yet answered
    if (available.length + 1 < threshold) {
      if (available.length + pending + 1 < threshold) await this.#failCoordination(c, this.#refusalError(c));
      return;
    }
    const chosen = [c.index, ...available.slice(0, threshold - 1)].sort((a, b) => a - b);
    c.attempt += 1;
    c.chosen = chosen;
    c.shares.clear();
    if (c.ownNonces === undefined) {
      // A retry: this operator's earlier nonces were used, so it commits afresh.
      const own = commitNonces(c.index, await this.#share(c.vault), c.plan.messages.length);
      c.ownNonces = own.nonces;
      c.committed.set(c.index, own.commitments);
    }
    for (const i of chosen) if (i !== c.index) c.used.add(i);
    const lists = this.#lists(c, chosen);
    const body = encodeMessage({
      session: c.id,
      attempt: c.attempt,
      signers: chosen.map((i) => ({ index: i, commitments: (c.committed.get(i) as NonceCommitment[]).map((x) => ({ hiding: x.hiding, binding: x.binding })) })),
    });
    for (const i of chosen) if (i !== c.index) this.#send(operators[i - 1] as string, CUSTODY_MESSAGE_TYPES.signPackage, body, c.vault.definition.vaultId);
    const nonces = c.ownNonces;
    delete c.ownNonces;
    c.shares.set(c.index, signShares(c.index, await this.#share(c.vault), frostPackage(c.vault), nonces, lists, c.plan.messages));
    this.#audit(c.vault.definition, { kind: 'sign-round', vaultId: c.vault.definition.vaultId, requestId: c.requestId, attempt: c.attempt, signers: chosen });
  }

  async #onSignShares(message: CustodyMessage): Promise<void> {
    const m = decodeMessage(message.body, ['attempt', 'shares'], 'shares');
    const c = this.#coordinations.get(bytesToHex(m['session'] as Uint8Array));
    if (c === undefined || c.done || m['attempt'] !== c.attempt || c.chosen === undefined) return;
    const sender = c.vault.definition.operators.indexOf(message.from) + 1;
    if (!c.chosen.includes(sender) || sender === c.index || c.shares.has(sender)) return;
    const shares = scalarList(m['shares'], 'shares');
    const lists = this.#lists(c, c.chosen);
    const pkg = frostPackage(c.vault);
    const valid = shares.length === c.plan.messages.length && shares.every((share, i) => share.length === 32 && verifySignatureShare(pkg, lists[i] as Map<number, NonceCommitment>, c.plan.messages[i] as Uint8Array, sender, share));
    if (!valid) {
      const blame = { operator: sender, reason: 'sent a signature share that does not verify' };
      c.blamed.push(blame);
      this.#notice({ kind: 'operator-blamed', reason: `operator ${sender} (${message.from}) ${blame.reason}`, vaultId: c.vault.definition.vaultId, sessionId: c.hex, peer: message.from });
      delete c.chosen;
      await this.#tryAttempt(c);
      return;
    }
    c.shares.set(sender, shares);
    if (c.shares.size < c.chosen.length) return;
    await this.#finishCoordination(c, lists);
  }

  async #finishCoordination(c: Coordination, lists: Map<number, NonceCommitment>[]): Promise<void> {
    const pkg = frostPackage(c.vault);
    let result: SignResult;
    try {
      const signatures = c.plan.messages.map((message, i) =>
        aggregateSignature(pkg, lists[i] as Map<number, NonceCommitment>, message, new Map([...c.shares].map(([index, shares]) => [index, shares[i] as Uint8Array]))),
      );
      const finalised = c.payload.kind === 'psbt' ? finalisePsbt(c.payload.psbt, signatures) : undefined;
      result = { signatures, ...(finalised ?? {}), signers: [...(c.chosen as number[])], blamed: [...c.blamed] };
    } catch (error) {
      await this.#failCoordination(c, new CustodyError('PROTOCOL_FAILED', `aggregation failed: ${errorMessage(error)}`));
      return;
    }
    c.done = true;
    clearTimeout(c.timer);
    this.#coordinations.delete(c.hex);
    await this.#repository.finishRequest(c.vault.definition.vaultId, c.requestId, { state: 'signed', result }, this.#now());
    const body = encodeMessage({ session: c.id, requestId: c.requestId, signatures: [...result.signatures], txid: result.txid ?? null, reason: null, signers: [...result.signers], spend: spendOf(c.signed) });
    for (const peer of c.vault.definition.operators) if (peer !== this.self) this.#send(peer, CUSTODY_MESSAGE_TYPES.signResult, body, c.vault.definition.vaultId);
    this.#audit(c.vault.definition, { kind: 'spend-signed', vaultId: c.vault.definition.vaultId, requestId: c.requestId, signatures: [...result.signatures], txid: result.txid ?? null, signers: result.signers, blamed: result.blamed.map((b) => b.operator) });
    c.resolve({ requestId: c.requestId, ...result });
  }

  async #failCoordination(c: Coordination, error: CustodyError): Promise<void> {
    if (c.done) return;
    c.done = true;
    clearTimeout(c.timer);
    this.#coordinations.delete(c.hex);
    delete c.ownNonces;
    const state = error.code === 'POLICY_REFUSED' || error.code === 'REQUEST_REPLAYED' ? 'refused' : 'failed';
    await this.#repository.finishRequest(c.vault.definition.vaultId, c.requestId, { state, reason: error.message }, this.#now());
    const body = encodeMessage({ session: c.id, requestId: c.requestId, signatures: null, txid: null, reason: error.message.slice(0, 500), signers: [], spend: null });
    for (const peer of c.vault.definition.operators) if (peer !== this.self) this.#send(peer, CUSTODY_MESSAGE_TYPES.signResult, body, c.vault.definition.vaultId);
    this.#audit(c.vault.definition, { kind: 'spend-failed', vaultId: c.vault.definition.vaultId, requestId: c.requestId, reason: error.message, blamed: c.blamed.map((b) => b.operator) });
    c.reject(error);
  }

  #refusalError(c: Coordination): CustodyError {
    const reasons = [...c.refusals].map(([i, r]) => `operator ${i}: ${r}`);
    const blamed = c.blamed.map((b) => `operator ${b.operator} (${c.vault.definition.operators[b.operator - 1]}) ${b.reason}`);
    const replays = [...c.refusals.values()].filter((r) => r.startsWith('REQUEST_REPLAYED')).length;
    if (c.blamed.length > 0) return new CustodyError('PROTOCOL_FAILED', `too few honest operators: ${[...blamed, ...reasons].join('; ')}`);
    if (replays > 0 && replays === c.refusals.size) return new CustodyError('REQUEST_REPLAYED', `refused by the operators: ${reasons.join('; ')}`);
    return new CustodyError('POLICY_REFUSED', `refused by the operators: ${reasons.join('; ')}`);
  }

  #shortfall(c: Coordination): string {
    const missing = c.vault.definition.operators.map((_, i) => i + 1).filter((i) => i !== c.index && !c.committed.has(i) && !c.refusals.has(i));
    const blamed = c.blamed.map((b) => `operator ${b.operator} ${b.reason}`);
    return `too few operators signed before the deadline (no answer from ${missing.join(', ') || 'none'}${blamed.length > 0 ? `; ${blamed.join('; ')}` : ''})`;
  }

  #lists(c: Coordination, chosen: readonly number[]): Map<number, NonceCommitment>[] {
    return c.plan.messages.map((_, m) => new Map(chosen.map((i) => [i, (c.committed.get(i) as NonceCommitment[])[m] as NonceCommitment])));
  }

  // --- plumbing -------------------------------------------------------------------------------

  async #activeVault(vaultId: string): Promise<StoredVault> {
    const vault = await this.#repository.vault(vaultId);
    if (!vault) throw new CustodyError('NOT_FOUND', 'unknown vault');
    if (vault.state !== 'active' || vault.key === undefined) throw new CustodyError('VAULT_NOT_READY', `vault is ${vault.state}`);
    if (!vault.definition.operators.includes(this.self)) throw new CustodyError('NOT_AUTHORISED', 'this operator is not an operator of the vault');
    return vault;
  }

  async #share(vault: StoredVault): Promise<Uint8Array> {
    try {
      return await this.#keyStore.exportSecret({ label: vaultShareLabel(vault.definition.vaultId, vault.epoch) });
    } catch (cause) {
      throw new CustodyError('VAULT_NOT_READY', 'the key share is not available', { cause });
    }
  }

  async #storeShare(label: string, share: Uint8Array): Promise<void> {
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

  #buffer(hex: string, message: CustodyMessage): void {
    const list = this.#buffered.get(hex);
    if (list) {
      if (list.length < MAX_BUFFERED_MESSAGES) list.push(message);
      return;
    }
    if (this.#buffered.size >= MAX_BUFFERED_SESSIONS) return;
    this.#buffered.set(hex, [message]);
  }

  /** Appends to the vault's audit chain, in order per vault, without holding up the protocol. */
  #audit(vault: VaultDefinition, entry: AuditEntry): void {
    const chain = this.#options.audit;
    if (chain === undefined) return;
    const vaultId = vault.vaultId;
    const previous = this.#auditQueues.get(vaultId) ?? Promise.resolve();
    const next = previous.then(async () => {
      try {
        const head = (await this.#repository.vault(vaultId))?.auditHead;
        const cid = await chain.append(entry, head, vault.principal);
        await this.#repository.setAuditHead(vaultId, cid);
      } catch (error) {
        this.#notice({ kind: 'audit-failed', reason: `${entry.kind}: ${errorMessage(error)}`, vaultId });
      }
    });
    this.#auditQueues.set(vaultId, next);
  }

  /** Resolves once every queued audit entry is written (tests, shutdown). */
  async auditSettled(): Promise<void> {
    await Promise.all([...this.#auditQueues.values()]);
  }

  /** Sends without waiting: the transport keeps per-recipient order and retries; deadlines cover losses. */
  #send(peer: string, type: string, body: Uint8Array, vaultId: string): void {
    void Promise.resolve()
      .then(() => this.#options.send(peer, { type, body }))
      .catch((error: unknown) => this.#notice({ kind: 'send-failed', reason: errorMessage(error), vaultId, peer }));
  }

  #serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  #changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #notice(notice: CustodyNotice): void {
    try {
      this.#options.onNotice?.(notice);
    } catch {
      // logging must not break the protocol
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new CustodyError('CLOSED', 'the custody service is closed');
  }

  /** Stops timers and fails what is running in memory (the caller closes the store and database). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    for (const run of this.#runs.values()) {
      clearTimeout(run.timer);
      run.dkg.clean();
    }
    this.#runs.clear();
    for (const c of this.#coordinations.values()) {
      clearTimeout(c.timer);
      c.reject(new CustodyError('CLOSED', 'the custody service is closed'));
    }
    this.#coordinations.clear();
    for (const p of this.#participations.values()) clearTimeout(p.timer);
    this.#participations.clear();
    for (const held of this.#heldResults.values()) clearTimeout(held.timer);
    this.#heldResults.clear();
    await this.auditSettled();
    this.#changed();
  }
}

/** What the principal signs to refresh a vault's shares at `epoch` (the current one). */
export function refreshMessage(vaultId: string, epoch: number): Uint8Array {
  return dagCbor.encode({ refresh: vaultId, epoch });
}

/** What the principal signs to move a vault to `definition`'s operators and threshold from `epoch` (the current one). */
export function reshareMessage(definition: VaultDefinition, epoch: number): Uint8Array {
  return dagCbor.encode({ reshare: encodeVaultDefinition(definition), epoch });
}

/** A run's confirmation: `evidence` (DKG blame of a private share, blame-evidence.ts) is optional. */
function decodeConfirmation(body: Uint8Array): Record<string, unknown> {
  try {
    return decodeMessage(body, ['transcript', 'accused', 'reason', 'evidence'], 'confirmation');
  } catch {
    return decodeMessage(body, ['transcript', 'accused', 'reason'], 'confirmation');
  }
}

/** A policy that refuses nothing: to derive what a request signs before checking it against the vault's own. */
const UNLIMITED_POLICY: SpendingPolicy = { approvers: [], approvals: 0, maxAmountSats: MAX_SATS, destinations: [], allowMessages: true };

/** A `sign/result` body. `spend` (the principal-signed request) lets an operator that did not take part check it. */
interface SignResultMessage {
  readonly session: Uint8Array;
  readonly requestId: string;
  readonly signatures: Uint8Array[] | null;
  readonly txid: string | null;
  readonly reason: string | null;
  readonly signers: number[];
  readonly spend: SignedSpendRequest | null;
}

function decodeSignResult(body: Uint8Array): SignResultMessage {
  let m: Record<string, unknown>;
  try {
    m = decodeMessage(body, ['requestId', 'signatures', 'txid', 'reason', 'signers', 'spend'], 'sign result');
  } catch {
    m = { ...decodeMessage(body, ['requestId', 'signatures', 'txid', 'reason'], 'sign result'), signers: [], spend: null };
  }
  if (typeof m['requestId'] !== 'string' || !/^[0-9a-f]{32}$/.test(m['requestId'])) throw new CustodyError('INVALID_REQUEST', 'sign result: bad request id');
  const signatures = m['signatures'] === null ? null : scalarList(m['signatures'], 'signatures');
  const txid = m['txid'];
  if (txid !== null && (typeof txid !== 'string' || !/^[0-9a-f]{64}$/.test(txid))) throw new CustodyError('INVALID_REQUEST', 'sign result: bad txid');
  const signers = m['signers'];
  if (!Array.isArray(signers) || signers.length > MAX_OPERATORS || !signers.every((i) => isInteger(i, 1, MAX_OPERATORS))) throw new CustodyError('INVALID_REQUEST', 'sign result: bad signers');
  let spend: SignedSpendRequest | null = null;
  if (m['spend'] !== null) {
    const s = checkMap(m['spend'], ['request', 'signature', 'approvals'], 'sign result request');
    if (!isBytes(s['request']) || !isBytes(s['signature'])) throw new CustodyError('INVALID_REQUEST', 'sign result: bad request');
    spend = { request: s['request'], signature: s['signature'], approvals: approvalList(s['approvals']) };
  }
  return { session: m['session'] as Uint8Array, requestId: m['requestId'], signatures, txid, reason: optionalText(m['reason'], 'reason'), signers: signers as number[], spend };
}

function spendOf(signed: SignedSpendRequest): Record<string, unknown> {
  return { request: signed.request, signature: signed.signature, approvals: signed.approvals.map((a) => ({ approver: a.approver, signature: a.signature })) };
}

function signaturesVerify(signatures: readonly Uint8Array[], messages: readonly Uint8Array[], outputKey: Uint8Array): boolean {
  return messages.length > 0 && signatures.length === messages.length && signatures.every((s, i) => s.length === 64 && secp256k1Schnorr(s, messages[i] as Uint8Array, outputKey));
}

function verifyComposite(key: Uint8Array, message: Uint8Array, signature: Uint8Array, context: string): boolean {
  try {
    return compositeVerify(key, message, signature, utf8ToBytes(context));
  } catch {
    return false;
  }
}

/** The `previous` field of a resharing proposal. */
function decodePrevious(value: unknown): { operators: string[]; threshold: number; commitments: Uint8Array[]; verifyingShares: Record<string, Uint8Array>; internalKey: Uint8Array; outputKey: Uint8Array } {
  const p = checkMap(value, ['operators', 'threshold', 'commitments', 'verifyingShares', 'internalKey', 'outputKey'], 'previous');
  const operators = p['operators'];
  if (!Array.isArray(operators) || operators.length < 2 || !operators.every(isIdentityId)) throw new CustodyError('INVALID_REQUEST', 'previous: bad operators');
  if (!isInteger(p['threshold'], 2, operators.length)) throw new CustodyError('INVALID_REQUEST', 'previous: bad threshold');
  const commitments = pointList(p['commitments'], p['threshold'], 'previous commitments');
  const shares = checkMap(p['verifyingShares'], operators.map((_, i) => operatorIdentifier(i + 1)), 'previous verifying shares');
  for (const v of Object.values(shares)) if (!isBytes(v, 33)) throw new CustodyError('INVALID_REQUEST', 'previous: verifying shares are compressed points');
  if (!isBytes(p['internalKey'], 33) || !isBytes(p['outputKey'], 32)) throw new CustodyError('INVALID_REQUEST', 'previous: bad keys');
  return { operators: operators as string[], threshold: p['threshold'], commitments, verifyingShares: shares as Record<string, Uint8Array>, internalKey: p['internalKey'], outputKey: p['outputKey'] };
}

function dkgSessionId(definition: VaultDefinition, nonce: Uint8Array): Uint8Array {
  return makeSessionId('dkg', definition.vaultId, new Uint8Array([...nonce, ...encodeVaultDefinition(definition)]));
}

function concatNonce(nonce: Uint8Array, epoch: number): Uint8Array {
  return new Uint8Array([...nonce, ...new TextEncoder().encode(`/${epoch}`)]);
}

function sessionField(body: Uint8Array): Uint8Array {
  let value: unknown;
  try {
    value = dagCbor.decode(body);
  } catch {
    throw new CustodyError('INVALID_REQUEST', 'not DAG-CBOR');
  }
  const session = (value as Record<string, unknown> | null)?.['session'];
  if (!isBytes(session, 32)) throw new CustodyError('INVALID_REQUEST', 'no session id');
  return session;
}

function frostPackage(vault: StoredVault): FrostPublicPackage {
  const key = vault.key as VaultKey;
  return { threshold: vault.definition.threshold, operators: vault.definition.operators.length, commitments: key.publicPackage.commitments, verifyingShares: key.publicPackage.verifyingShares };
}

function signerLists(value: unknown, vault: VaultDefinition, count: number): Map<number, NonceCommitment>[] {
  if (!Array.isArray(value) || value.length !== vault.threshold) throw new CustodyError('INVALID_REQUEST', `the package must name ${vault.threshold} signers`);
  const lists = Array.from({ length: count }, () => new Map<number, NonceCommitment>());
  for (const entry of value) {
    const e = entry as Record<string, unknown>;
    if (!isInteger(e['index'], 1, vault.operators.length)) throw new CustodyError('INVALID_REQUEST', 'bad signer index');
    const commitments = nonceCommitments(e['commitments'], 'package');
    if (commitments.length !== count) throw new CustodyError('INVALID_REQUEST', 'one commitment per message');
    commitments.forEach((c, i) => (lists[i] as Map<number, NonceCommitment>).set(e['index'] as number, c));
  }
  if ((lists[0] as Map<number, NonceCommitment>).size !== vault.threshold) throw new CustodyError('INVALID_REQUEST', 'signers must be distinct');
  return lists;
}

function secp256k1Schnorr(signature: Uint8Array, message: Uint8Array, outputKey: Uint8Array): boolean {
  try {
    return schnorr.verify(signature, message, outputKey);
  } catch {
    return false;
  }
}

function toStatus(stored: StoredVault, self: string): VaultStatus {
  return {
    definition: stored.definition,
    state: stored.state,
    ...(stored.reason === undefined ? {} : { reason: stored.reason }),
    epoch: stored.epoch,
    index: stored.definition.operators.indexOf(self) + 1,
    ...(stored.key === undefined
      ? {}
      : {
          key: {
            outputKey: bytesToHex(stored.key.outputKey),
            internalKey: bytesToHex(stored.key.internalKey),
            addresses: taprootAddresses(stored.key.outputKey),
          },
        }),
    ...(stored.auditHead === undefined ? {} : { auditHead: stored.auditHead }),
  };
}

/** Adapts {@link FrostDkg} to a key run. */
class DkgAdapter implements KeyGeneration {
  readonly dkg: FrostDkg;

  constructor(dkg: FrostDkg) {
    this.dkg = dkg;
  }

  get commitment() {
    return this.dkg.commitment;
  }
  missing(round: 1 | 2) {
    return this.dkg.missing(round);
  }
  receiveCommitment(sender: number, pkg: { commitment: readonly Uint8Array[]; proof?: Uint8Array }) {
    this.dkg.receiveCommitment(sender, { commitment: pkg.commitment, proof: pkg.proof ?? new Uint8Array(64) });
  }
  shares() {
    return this.dkg.shares();
  }
  receiveShare(sender: number, share: Uint8Array) {
    this.dkg.receiveShare(sender, share);
  }
  finish() {
    return this.dkg.finish();
  }
  commitmentOf(sender: number) {
    return this.dkg.commitmentOf(sender);
  }
  clean() {
    this.dkg.clean();
  }
}

/**
 * Proactive refresh: each operator deals a random polynomial with constant term zero (it sends
 * commitments to the other t-1 coefficients: the constant term's would be the identity point)
 * and adds the shares it receives to its own share. The group key, and so the address, stay the
 * same; each operator's verifying share moves by the sum of the zero-sharings' evaluations.
 */
class RefreshRun implements KeyGeneration {
  readonly #index: number;
  readonly #n: number;
  readonly #t: number;
  readonly #coefficients: bigint[];
  readonly #own: { commitment: Uint8Array[] };
  readonly #commitments = new Map<number, Uint8Array[]>();
  readonly #shares = new Map<number, bigint>();
  readonly #oldShare: bigint;
  readonly #vault: StoredVault;

  constructor(index: number, vault: StoredVault, share: Uint8Array) {
    const Fn = secp256k1.Point.Fn;
    this.#index = index;
    this.#vault = vault;
    this.#n = vault.definition.operators.length;
    this.#t = vault.definition.threshold;
    this.#oldShare = Fn.fromBytes(share);
    // Coefficients a_1..a_{t-1} (a_0 = 0); commitments a_k·G for k ≥ 1.
    this.#coefficients = Array.from({ length: this.#t - 1 }, () => Fn.fromBytes(secp256k1.utils.randomSecretKey()));
    // The constant term's commitment would be the identity point (not encodable): it is left out.
    this.#own = { commitment: this.#coefficients.map((a) => secp256k1.Point.BASE.multiply(a).toBytes(true)) };
    this.#commitments.set(index, this.#own.commitment);
  }

  get commitment() {
    return this.#own;
  }

  commitmentOf(sender: number): readonly Uint8Array[] | undefined {
    return this.#commitments.get(sender);
  }

  missing(round: 1 | 2): number[] {
    const have = round === 1 ? this.#commitments : this.#shares;
    const out: number[] = [];
    for (let i = 1; i <= this.#n; i++) if (i !== this.#index && !have.has(i)) out.push(i);
    return out;
  }

  receiveCommitment(sender: number, pkg: { commitment: readonly Uint8Array[] }): void {
    if (this.#commitments.has(sender)) return;
    const rest = [...pkg.commitment];
    try {
      for (const c of rest) secp256k1.Point.fromBytes(c).assertValidity();
    } catch {
      throw new BlameError({ operator: sender, reason: 'sent refresh commitments that are not points' });
    }
    this.#commitments.set(sender, rest.map((c) => c.slice()));
  }

  shares(): Map<number, Uint8Array> {
    const Fn = secp256k1.Point.Fn;
    const out = new Map<number, Uint8Array>();
    for (let i = 1; i <= this.#n; i++) if (i !== this.#index) out.set(i, Fn.toBytes(this.#evaluate(BigInt(i))));
    return out;
  }

  receiveShare(sender: number, share: Uint8Array): void {
    if (this.#shares.has(sender)) return;
    const Fn = secp256k1.Point.Fn;
    const commitments = this.#commitments.get(sender);
    if (commitments === undefined) throw new BlameError({ operator: sender, reason: 'sent a refresh share before its commitments' });
    let value: bigint;
    try {
      value = Fn.fromBytes(share);
    } catch {
      throw new BlameError({ operator: sender, reason: 'sent a malformed refresh share' });
    }
    if (!pointOf(value).equals(evaluateCommitments(commitments, BigInt(this.#index)))) {
      throw new BlameError({ operator: sender, reason: 'sent a refresh share that does not match its commitments' });
    }
    this.#shares.set(sender, value);
  }

  finish(): { key: VaultKey; signingShare: Uint8Array } {
    const Fn = secp256k1.Point.Fn;
    let share = Fn.add(this.#oldShare, this.#evaluate(BigInt(this.#index)));
    for (const value of this.#shares.values()) share = Fn.add(share, value);
    const old = this.#vault.key as VaultKey;
    // New verifying shares: old ones plus every zero-sharing's evaluation at that index.
    const all = [...this.#commitments].sort(([a], [b]) => a - b);
    const verifyingShares: Record<string, Uint8Array> = {};
    for (let i = 1; i <= this.#n; i++) {
      const id = operatorIdentifier(i);
      let point = secp256k1.Point.fromBytes(old.publicPackage.verifyingShares[id] as Uint8Array);
      for (const [, commitments] of all) point = point.add(evaluateCommitments(commitments, BigInt(i)));
      verifyingShares[id] = point.toBytes(true);
    }
    if (!pointOf(share).equals(secp256k1.Point.fromBytes(verifyingShares[operatorIdentifier(this.#index)] as Uint8Array))) {
      throw new Error('the refreshed share does not match its verifying share');
    }
    // Higher commitments move too; the constant term (the group key) does not.
    const commitments = old.publicPackage.commitments.map((c, k) => {
      if (k === 0) return c;
      let point = secp256k1.Point.fromBytes(c);
      for (const [, list] of all) point = point.add(secp256k1.Point.fromBytes(list[k - 1] as Uint8Array));
      return point.toBytes(true);
    });
    const transcriptHash = sha256(dagCbor.encode(all.map(([i, list]) => ({ i, list }))));
    return { key: { publicPackage: { commitments, verifyingShares }, internalKey: old.internalKey, outputKey: old.outputKey, transcriptHash }, signingShare: Fn.toBytes(share) };
  }

  clean(): void {
    this.#coefficients.fill(0n);
  }

  #evaluate(x: bigint): bigint {
    const Fn = secp256k1.Point.Fn;
    // a_1 x + a_2 x² + ... (a_0 = 0)
    let result = 0n;
    let power = x;
    for (const a of this.#coefficients) {
      result = Fn.add(result, Fn.mul(a, power));
      power = Fn.mul(power, x);
    }
    return result;
  }
}

/** A refresh's checks: commitments to the t − 1 non-constant coefficients of a zero-sharing, shares against them. */
function refreshEvidenceRules(t: number): EvidenceRules {
  return {
    commitType: CUSTODY_MESSAGE_TYPES.refreshCommit,
    shareType: CUSTODY_MESSAGE_TYPES.refreshShare,
    commitments: t - 1,
    commitValid: (_sender, commitment) => {
      try {
        for (const c of commitment) secp256k1.Point.fromBytes(c).assertValidity();
        return true;
      } catch {
        return false;
      }
    },
    shareMatches: (recipient, commitment, share) => {
      try {
        return pointOf(secp256k1.Point.Fn.fromBytes(share)).equals(evaluateCommitments(commitment, BigInt(recipient)));
      } catch {
        return false;
      }
    },
    badCommit: 'refresh commitments that are not points',
    badShare: 'a refresh share that does not match its commitments',
  };
}

function pointOf(scalar: bigint) {
  return scalar === 0n ? secp256k1.Point.ZERO : secp256k1.Point.BASE.multiply(scalar);
}

/** Σ_k C_k · x^k for commitments to a_1..a_{t-1}. */
function evaluateCommitments(commitments: readonly Uint8Array[], x: bigint) {
  const Fn = secp256k1.Point.Fn;
  let result = secp256k1.Point.ZERO;
  let power = x;
  for (const c of commitments) {
    result = result.add(secp256k1.Point.fromBytes(c).multiply(power));
    power = Fn.mul(power, x);
  }
  return result;
}
