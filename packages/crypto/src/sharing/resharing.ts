import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from '../errors.js';
import type { GroupOps } from '../bls12-381/backend.js';
import { dealShares, decodeCommitments, encodeCommitments, publicShare, verifyShare } from './feldman.js';
import { isScalar, lagrangeCoefficients, type ScalarShare } from './lagrange.js';
import {
  assertSessionId,
  MAX_DKG_PARTICIPANTS,
  type ResharingComplaint,
  type ResharingDealing,
  type ResharingJustification,
  type ResharingMessage,
  type ResharingPrivateShare,
} from './dkg-messages.js';
import type { DkgPhase } from './dkg.js';

/**
 * Resharing: move a Shamir-shared secret s from one set of holders (threshold t) to another
 * (threshold t', n' holders) without ever reconstructing it and without changing it, so the
 * group public key s·G stays the same and everything issued under s (M-Pin client secrets
 * s·H(ID), time permits) stays valid. This is verifiable secret redistribution (Desmedt–Jajodia
 * 1997; Wong, Wang, Wing 2002) with Feldman commitments and the DKG's complaint round, as a pure
 * message-passing state machine like `DkgParticipant`. No I/O.
 *
 * Public inputs, identical everywhere: the old joint commitments A_0..A_{t−1} of the current
 * sharing (`commitments` of its `DkgResult` or `ResharingResult`; A_0 = s·G, and old holder i's
 * verification key is X_i = Σ_k A_k·i^k, see `publicShare`), the old holders taking part as
 * dealers, and t', n'. New holders are indexed 1..n'; the old and new index spaces are unrelated
 * (a D-TA may be old holder 3 and new holder 1).
 *
 * Rounds:
 * 1. `deal()` (old holders only): dealer i picks a random polynomial g_i of degree t'−1 with
 *    g_i(0) = x_i, its old share, broadcasts a {@link ResharingDealing} (commitments C_{i,k})
 *    and sends each new holder j a {@link ResharingPrivateShare} g_i(j). Everyone `receive`s
 *    the dealings and their shares, then calls `closeRound1()`.
 * 2. `closeRound1()` (new holders) returns a {@link ResharingComplaint} for each dealer whose
 *    share is missing or does not match its commitments. Everyone `receive`s them, then calls
 *    `closeRound2()`.
 * 3. `closeRound2()` (dealers) returns a {@link ResharingJustification} for each complaint
 *    against this dealer, revealing the disputed share publicly. Everyone `receive`s them.
 * 4. `finish()` disqualifies every dealer that sent no or an invalid dealing, whose dealing does
 *    not reshare its old share (C_{i,0} ≠ X_i, visible to everyone, so no complaint is needed),
 *    or that left a complaint unanswered or answered it wrongly. Of the rest (QUAL, at least t
 *    or the resharing fails) everyone takes the same t smallest indices S and, with Lagrange
 *    coefficients λ_i at 0 over S, computes: new holder j's share x'_j = Σ_{i∈S} λ_i·g_i(j), the
 *    new commitments A'_k = Σ_{i∈S} λ_i·C_{i,k}, and checks A'_0 = A_0.
 *
 * A participant plays one or both roles, given explicitly: an old holder that deals (its old
 * share), a new holder that receives (its new index), or both (a D-TA that stays).
 *
 * What the transport (a higher layer) must provide, as for the DKG: private shares **encrypted
 * and authenticated** to their recipient; every message authenticated (`receive(from, ...)`
 * takes the authenticated sender's index in the role it sends in: its old index for dealings,
 * private shares and justifications, its new index for complaints); consistent broadcasts
 * (every participant sees the same dealings, complaints and justifications before closing a
 * round); a session id unique to this run that commits to the realm, the epoch, both holder
 * lists and (t, t', n'). Comparing `transcriptHash` detects a split view.
 *
 * Security notes.
 * - Secrecy: an adversary holding fewer than t old shares and corrupting fewer than t' new holders
 *   learns nothing about s beyond s·G, nor about honest holders' new shares beyond their
 *   verification keys. It sees all public commitments, the g_i(j) of the new holders it
 *   corrupts, and the shares revealed in justifications (a complaint only makes public what
 *   the accused dealer already knew). S has t members, so it holds at least one honest dealer,
 *   whose fresh polynomial makes the new sharing independent of the old one.
 * - Correctness: a dealer cannot reshare a value other than its old share (checked against
 *   X_i), so s cannot change; any t qualified dealers give the same s. The old commitments are
 *   the anchor of that check, so they must be the authentic, confirmed ones of the current epoch.
 * - **Old shares must be deleted.** Resharing does not take knowledge away: until every old
 *   holder erases its old share, t old holders (including ones being removed) can still
 *   reconstruct s, and old shares combined across epochs are what a mobile adversary collects.
 *   This class drops its references to the old share after `closeRound2()`, but erasing the
 *   stored copy is **the caller's job**, and only once the new epoch is confirmed (every new
 *   holder reported the same `transcriptHash`, and ideally a test issuance combined): if the
 *   resharing fails, the old shares are still the only ones.
 */

const Fr = bls12_381.fields.Fr;

/** Parameters every participant of one resharing run must agree on. */
export interface ResharingParameters<P> {
  /** Unique id of this run (1..255 bytes), bound into every message. */
  readonly sessionId: Uint8Array;
  /**
   * The current sharing's joint commitments A_0..A_{t−1} (validated points, e.g. from
   * `decodeCommitments`); their count is the old threshold t, A_0 the group public key.
   */
  readonly oldCommitments: readonly P[];
  /** The old holders' indices taking part as dealers (distinct, each 1..65535, at least t of them). */
  readonly dealers: readonly bigint[];
  /** t': shares needed after resharing; each dealer's new polynomial has degree t'−1. */
  readonly newThreshold: number;
  /** n': number of new holders, indexed 1..n' (n' <= 65535). */
  readonly newHolders: number;
}

/** What this participant does in the run. At least one of the two must be given. */
export interface ResharingRole {
  /** This participant's current share, if it deals; `oldShare.index` must be among `dealers`. Secret. */
  readonly oldShare?: ScalarShare;
  /** This participant's index among the new holders (1..n'), if it receives a new share. */
  readonly newIndex?: bigint;
}

/** Why a dealer was left out of QUAL. */
export type ResharingDisqualificationReason =
  /** No dealing was received in round 1. */
  | 'missing-dealing'
  /** The dealing's commitments did not decode (bad points, count ≠ t') or the dealer sent two different dealings. */
  | 'invalid-dealing'
  /** The dealing commits to a value other than the dealer's old share: C_{i,0} ≠ X_i. */
  | 'wrong-secret'
  /** A complaint against the dealer got no justification. */
  | 'unanswered-complaint'
  /** A justification revealed a share that does not match the dealer's commitments. */
  | 'invalid-justification';

/** A dealer excluded from QUAL, and the first reason found. */
export interface ResharingDisqualification {
  readonly dealer: bigint;
  readonly reason: ResharingDisqualificationReason;
}

/** The outcome of a resharing run for one participant. Everything but `share` is public. */
export interface ResharingResult<P> {
  /** This participant's new share x'_j (index = its new index), or `undefined` if it is not a new holder. Secret. */
  readonly share: ScalarShare | undefined;
  /** A'_0 = A_0: the group public key, unchanged. */
  readonly groupPublicKey: P;
  /** The new joint commitments A'_0..A'_{t'−1}; the next resharing's `oldCommitments`. */
  readonly commitments: P[];
  /** QUAL, ascending (old indices). */
  readonly qualified: bigint[];
  /** The t smallest of QUAL, whose dealings make the new sharing. */
  readonly combined: bigint[];
  /** Every dealer not in QUAL, ascending, with the reason. */
  readonly disqualified: ResharingDisqualification[];
  /**
   * SHA-256 over the session id, t, t', n', the dealers, QUAL, and the old and new commitments;
   * equal for all honest participants (old and new).
   */
  readonly transcriptHash: Uint8Array;
}

/** What `deal()` returns: one broadcast and one private message per other new holder. */
export interface ResharingRound1Output {
  readonly dealing: ResharingDealing;
  /** Ascending by recipient (new index); send each encrypted to its recipient. */
  readonly privateShares: ResharingPrivateShare[];
}

/** The round a {@link ResharingParticipant} is in; `'done'` after `finish()`. Same rounds as the DKG. */
export type ResharingPhase = DkgPhase;

const PHASE_ORDER: Record<ResharingPhase, number> = { round1: 1, round2: 2, round3: 3, done: 4 };
/** The last phase in which each message type is still accepted (later rounds' messages may arrive early). */
const ACCEPTED_UNTIL: Record<ResharingMessage['type'], ResharingPhase> = {
  'reshare-dealing': 'round1',
  'reshare-private-share': 'round1',
  'reshare-complaint': 'round2',
  'reshare-justification': 'round3',
};

/** A dealing as seen by this participant. `commitments` is undefined when they were invalid. */
interface ReceivedDealing<P> {
  readonly bytes: Uint8Array;
  readonly commitments: P[] | undefined;
  conflicting: boolean;
}

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((byte, i) => byte === b[i]);

const ascending = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);

const isWireIndex = (index: unknown): index is bigint =>
  typeof index === 'bigint' && index >= 1n && index <= BigInt(MAX_DKG_PARTICIPANTS);

/**
 * One participant of a resharing run (see the module notes for the rounds, the roles and what
 * the transport must guarantee). Deterministic given the same received messages, apart from a
 * dealer's own random polynomial.
 */
export class ResharingParticipant<P> {
  /** This participant's old index if it deals, else `undefined`. */
  readonly dealerIndex: bigint | undefined;
  /** This participant's new index if it receives a new share, else `undefined`. */
  readonly newIndex: bigint | undefined;
  readonly #group: GroupOps<P>;
  readonly #sessionId: Uint8Array;
  readonly #oldCommitments: readonly P[];
  /** Ascending. */
  readonly #dealers: readonly bigint[];
  readonly #dealerSet: ReadonlySet<bigint>;
  readonly #newThreshold: number;
  readonly #newHolders: number;
  #phase: ResharingPhase = 'round1';
  /** x_i, until the dealing is made. */
  #oldShare: bigint | undefined;
  /** g_self(1..n'); kept only until complaints are answered. */
  #dealtShares: ScalarShare[] | undefined;
  /** g_self(newIndex), when this participant deals and receives. */
  #ownShare: bigint | undefined;
  /** X_i = x_i·G, computed on demand from the old commitments. */
  readonly #oldKeys = new Map<bigint, P>();
  readonly #dealings = new Map<bigint, ReceivedDealing<P>>();
  /** Share received from each dealer; `undefined` marks two different shares (treated as invalid). */
  readonly #received = new Map<bigint, bigint | undefined>();
  /** Dealers whose share to this participant verified in `closeRound1`. */
  readonly #verified = new Set<bigint>();
  /** dealer (old index) → complainers (new indices). */
  readonly #complaints = new Map<bigint, Set<bigint>>();
  /** `${dealer}:${recipient}` → distinct revealed values. */
  readonly #justifications = new Map<string, Set<bigint>>();

  /**
   * @param group - the group of the commitments (G1 for the D-TA master secret).
   * @param parameters - session id, old commitments, dealers, t' and n', identical at every participant.
   * @param role - this participant's old share (if it deals) and new index (if it receives).
   * @throws CryptoError `INVALID_ARGUMENT` for bad parameters or roles, `SHARE_INVALID` when
   *   `role.oldShare` does not match the old commitments.
   */
  constructor(group: GroupOps<P>, parameters: ResharingParameters<P>, role: ResharingRole) {
    const invalid = (why: string): never => {
      throw new CryptoError('INVALID_ARGUMENT', why);
    };
    assertSessionId(parameters.sessionId);
    const { oldCommitments, dealers, newThreshold: t2, newHolders: n2 } = parameters;
    if (!Array.isArray(oldCommitments) || oldCommitments.length === 0) invalid('oldCommitments must be a non-empty array');
    if (group.isZero(oldCommitments[0] as P)) invalid('the old group public key is the point at infinity');
    if (!Array.isArray(dealers) || !dealers.every(isWireIndex)) {
      invalid(`dealers must be bigints in [1, ${MAX_DKG_PARTICIPANTS}]`);
    }
    const sorted = [...dealers].sort(ascending);
    if (new Set(sorted).size !== sorted.length) invalid('dealers must be distinct');
    if (sorted.length < oldCommitments.length) invalid(`need at least t = ${oldCommitments.length} dealers`);
    if (!Number.isSafeInteger(t2) || !Number.isSafeInteger(n2) || t2 < 1 || t2 > n2 || n2 > MAX_DKG_PARTICIPANTS) {
      invalid(`need 1 <= newThreshold <= newHolders <= ${MAX_DKG_PARTICIPANTS}`);
    }
    this.#group = group;
    this.#sessionId = parameters.sessionId.slice();
    this.#oldCommitments = [...oldCommitments];
    this.#dealers = sorted;
    this.#dealerSet = new Set(sorted);
    this.#newThreshold = t2;
    this.#newHolders = n2;

    const { oldShare, newIndex } = role;
    if (oldShare === undefined && newIndex === undefined) invalid('a participant deals, receives, or both');
    if (newIndex !== undefined && !this.#isNewHolder(newIndex)) invalid('newIndex must be a bigint in [1, newHolders]');
    if (oldShare !== undefined) {
      if (!this.#dealerSet.has(oldShare.index)) invalid('oldShare.index must be one of the dealers');
      if (!isScalar(oldShare.value)) throw new CryptoError('INVALID_SCALAR', 'oldShare.value must be a scalar in [0, r)');
      // Dealing a share that does not match X_i would only get this participant disqualified.
      if (!verifyShare(group, this.#oldCommitments, oldShare)) {
        throw new CryptoError('SHARE_INVALID', 'oldShare does not match the old commitments');
      }
      this.#oldShare = oldShare.value;
    }
    this.dealerIndex = oldShare?.index;
    this.newIndex = newIndex;
  }

  /** The current round: `'round1'`, `'round2'`, `'round3'` or `'done'`. */
  get phase(): ResharingPhase {
    return this.#phase;
  }

  /**
   * Round 1, dealers only: reshare the old share and produce this dealer's messages. Call once.
   * @throws CryptoError `DKG_FAILED` if this participant does not deal, or if called twice or after round 1.
   */
  deal(): ResharingRound1Output {
    this.#expectPhase('round1', 'deal');
    const dealer = this.dealerIndex;
    if (dealer === undefined) throw new CryptoError('DKG_FAILED', 'this participant is not a dealer');
    if (this.#dealtShares) throw new CryptoError('DKG_FAILED', 'already dealt');
    const { shares, commitments } = dealShares(
      this.#oldShare as bigint,
      { threshold: this.#newThreshold, shares: this.#newHolders },
      this.#group,
    );
    this.#oldShare = undefined; // g_self(0) is in the dealing now; nothing else needs x_i
    const bytes = encodeCommitments(this.#group, commitments);
    this.#dealings.set(dealer, { bytes, commitments, conflicting: false });
    this.#dealtShares = shares;
    if (this.newIndex !== undefined) this.#ownShare = (shares[Number(this.newIndex) - 1] as ScalarShare).value;
    const sessionId = this.#sessionId;
    return {
      dealing: { type: 'reshare-dealing', sessionId, dealer, commitments: bytes },
      privateShares: shares
        .filter((s) => s.index !== this.newIndex)
        .map((s) => ({ type: 'reshare-private-share', sessionId, dealer, recipient: s.index, value: s.value })),
    };
  }

  /**
   * Apply a message from the authenticated sender `from`: its old index for dealings, private
   * shares and justifications, its new index for complaints. Messages of a later round may
   * arrive early and are kept; repeated identical messages are harmless. A dealer that
   * broadcasts two different dealings is disqualified; two different private shares from one
   * dealer count as an invalid share (and draw a complaint).
   *
   * @throws CryptoError `DKG_MESSAGE_REJECTED` when the message belongs to another session, its
   *   claimed sender is not `from`, it is addressed to someone else, names an index that is not
   *   a dealer or new holder, carries a malformed field, or its round is already closed.
   *   Nothing is applied then.
   */
  receive(from: bigint, message: ResharingMessage): void {
    const reject = (why: string): never => {
      throw new CryptoError('DKG_MESSAGE_REJECTED', why);
    };
    if (typeof message !== 'object' || message === null || !Object.hasOwn(ACCEPTED_UNTIL, message.type)) {
      reject('not a resharing message');
    }
    if (!(message.sessionId instanceof Uint8Array) || !bytesEqual(message.sessionId, this.#sessionId)) {
      reject('message belongs to another session');
    }
    if (PHASE_ORDER[this.#phase] > PHASE_ORDER[ACCEPTED_UNTIL[message.type]]) {
      reject(`${message.type} arrived after its round closed`);
    }
    if (message.type === 'reshare-complaint') {
      if (!this.#isNewHolder(from)) reject('sender is not a new holder');
    } else if (!this.#dealerSet.has(from)) {
      reject('sender is not a dealer');
    }
    switch (message.type) {
      case 'reshare-dealing': {
        if (message.dealer !== from) reject('dealing claims another sender');
        if (!(message.commitments instanceof Uint8Array)) reject('commitments must be a Uint8Array');
        const known = this.#dealings.get(from);
        if (known) {
          if (!bytesEqual(known.bytes, message.commitments)) known.conflicting = true;
          return;
        }
        let commitments: P[] | undefined;
        try {
          commitments = decodeCommitments(this.#group, message.commitments, { threshold: this.#newThreshold });
        } catch {
          commitments = undefined; // a bad dealing disqualifies its dealer; it is not an error here
        }
        this.#dealings.set(from, { bytes: message.commitments.slice(), commitments, conflicting: false });
        return;
      }
      case 'reshare-private-share': {
        if (message.dealer !== from) reject('share claims another sender');
        if (this.newIndex === undefined || message.recipient !== this.newIndex) {
          reject('share is addressed to another new holder');
        }
        if (from === this.dealerIndex) reject('own share is not received');
        if (!isScalar(message.value)) reject('share value must be a scalar in [0, r)');
        if (this.#received.has(from) && this.#received.get(from) !== message.value) {
          this.#received.set(from, undefined);
        } else if (!this.#received.has(from)) {
          this.#received.set(from, message.value);
        }
        return;
      }
      case 'reshare-complaint': {
        if (message.complainer !== from) reject('complaint claims another sender');
        if (!this.#dealerSet.has(message.dealer)) reject('complaint names someone who is not a dealer');
        this.#complaintsAgainst(message.dealer).add(from);
        return;
      }
      case 'reshare-justification': {
        if (message.dealer !== from) reject('justification claims another sender');
        if (!this.#isNewHolder(message.recipient)) reject('justification names an invalid recipient');
        if (!isScalar(message.value)) reject('revealed value must be a scalar in [0, r)');
        const key = `${from}:${message.recipient}`;
        const values = this.#justifications.get(key) ?? new Set<bigint>();
        values.add(message.value);
        this.#justifications.set(key, values);
        return;
      }
    }
  }

  /**
   * End round 1. A new holder verifies its received shares and returns the complaints to
   * broadcast (one per dealer with a valid dealing of its old share whose share to us is
   * missing, duplicated or wrong); a dealer that does not receive gets `[]`.
   * @throws CryptoError `DKG_FAILED` for a dealer before `deal()`, or outside round 1.
   */
  closeRound1(): ResharingComplaint[] {
    this.#expectPhase('round1', 'closeRound1');
    if (this.dealerIndex !== undefined && !this.#dealtShares) throw new CryptoError('DKG_FAILED', 'deal() must come first');
    const complaints: ResharingComplaint[] = [];
    const me = this.newIndex;
    if (me !== undefined) {
      for (const d of this.#dealers) {
        if (d === this.dealerIndex) continue; // our own dealing; its share is #ownShare
        const dealing = this.#dealings.get(d);
        // Dealers everyone sees failing are disqualified by everyone; no complaint needed.
        if (!dealing?.commitments || dealing.conflicting || !this.#reshares(d, dealing.commitments)) continue;
        const value = this.#received.get(d);
        if (value !== undefined && verifyShare(this.#group, dealing.commitments, { index: me, value })) {
          this.#verified.add(d);
        } else {
          this.#complaintsAgainst(d).add(me);
          complaints.push({ type: 'reshare-complaint', sessionId: this.#sessionId, complainer: me, dealer: d });
        }
      }
    }
    this.#phase = 'round2';
    return complaints;
  }

  /**
   * End round 2. A dealer returns a justification (to broadcast) for each complaint against it,
   * revealing the disputed share; not answering would get it disqualified. A participant that
   * does not deal gets `[]`.
   * @throws CryptoError `DKG_FAILED` outside round 2.
   */
  closeRound2(): ResharingJustification[] {
    this.#expectPhase('round2', 'closeRound2');
    const dealer = this.dealerIndex;
    let answers: ResharingJustification[] = [];
    if (dealer !== undefined) {
      const shares = this.#dealtShares as ScalarShare[];
      const complainers = [...(this.#complaints.get(dealer) ?? [])].sort(ascending);
      answers = complainers.map((k) => {
        const value = (shares[Number(k) - 1] as ScalarShare).value;
        this.#justifications.set(`${dealer}:${k}`, new Set([value]));
        return { type: 'reshare-justification', sessionId: this.#sessionId, dealer, recipient: k, value };
      });
    }
    this.#dealtShares = undefined; // the new holders' shares are no longer needed here
    this.#phase = 'round3';
    return answers;
  }

  /**
   * End round 3: decide QUAL and S, compute the new commitments and, for a new holder, its new
   * share; check the group public key is unchanged.
   * @throws CryptoError `DKG_FAILED` outside round 3, or when fewer than t dealers qualify.
   */
  finish(): ResharingResult<P> {
    this.#expectPhase('round3', 'finish');
    const group = this.#group;
    const t = this.#oldCommitments.length;
    const qualified: bigint[] = [];
    const disqualified: ResharingDisqualification[] = [];
    for (const d of this.#dealers) {
      const reason = this.#disqualificationReason(d);
      if (reason) disqualified.push({ dealer: d, reason });
      else qualified.push(d);
    }
    if (qualified.length < t) {
      throw new CryptoError('DKG_FAILED', `only ${qualified.length} dealers qualified, ${t} needed`);
    }

    // Any t qualified dealings determine s; taking the t smallest makes everyone pick the same.
    const combined = qualified.slice(0, t);
    const lambdas = lagrangeCoefficients(combined);
    const dealt = combined.map((d) => (this.#dealings.get(d) as ReceivedDealing<P>).commitments as P[]);
    const commitments = Array.from({ length: this.#newThreshold }, (_, k) =>
      group.multiplySum(
        dealt.map((c) => c[k] as P),
        lambdas,
      ),
    );
    // C_{i,0} = X_i for every i in S, and Σ λ_i·X_i = A_0; a mismatch means a bug, not an attack.
    if (!group.equals(commitments[0] as P, this.#oldCommitments[0] as P)) {
      throw new CryptoError('DKG_FAILED', 'the resharing changed the group public key');
    }

    let share: ScalarShare | undefined;
    const me = this.newIndex;
    if (me !== undefined) {
      let value = Fr.ZERO;
      for (const [k, d] of combined.entries()) {
        value = Fr.add(value, Fr.mul(lambdas[k] as bigint, this.#shareFrom(d, dealt[k] as P[], me)));
      }
      // By construction x'_j·G equals the new joint polynomial at j.
      if (!verifyShare(group, commitments, { index: me, value })) {
        throw new CryptoError('DKG_FAILED', 'new share does not match the new commitments');
      }
      share = { index: me, value };
    }
    this.#ownShare = undefined;
    this.#received.clear();
    this.#phase = 'done';
    return {
      share,
      groupPublicKey: commitments[0] as P,
      commitments,
      qualified,
      combined,
      disqualified,
      transcriptHash: resharingTranscriptHash(group, {
        sessionId: this.#sessionId,
        oldCommitments: this.#oldCommitments,
        dealers: this.#dealers,
        newThreshold: this.#newThreshold,
        newHolders: this.#newHolders,
        qualified,
        commitments,
      }),
    };
  }

  /** The share dealer `d` (in QUAL) owes new holder `me`: our own, the verified one, or the justified one. */
  #shareFrom(d: bigint, dealt: P[], me: bigint): bigint {
    if (d === this.dealerIndex) return this.#ownShare as bigint;
    if (this.#verified.has(d)) return this.#received.get(d) as bigint;
    // We complained (closeRound1 does so for every unverified share) and d is qualified, so it
    // answered with values that all verify, i.e. exactly one value.
    const revealed = this.#justifications.get(`${d}:${me}`);
    const value = revealed?.size === 1 ? [...revealed][0] : undefined;
    if (value === undefined || !verifyShare(this.#group, dealt, { index: me, value })) {
      throw new CryptoError('DKG_FAILED', `no valid share from qualified dealer ${d}`);
    }
    return value;
  }

  /** The first reason to disqualify dealer `d`, from public information only (so every honest participant agrees). */
  #disqualificationReason(d: bigint): ResharingDisqualificationReason | undefined {
    const dealing = this.#dealings.get(d);
    if (!dealing) return 'missing-dealing';
    if (!dealing.commitments || dealing.conflicting) return 'invalid-dealing';
    if (!this.#reshares(d, dealing.commitments)) return 'wrong-secret';
    for (const complainer of [...(this.#complaints.get(d) ?? [])].sort(ascending)) {
      const revealed = this.#justifications.get(`${d}:${complainer}`);
      if (!revealed || revealed.size === 0) return 'unanswered-complaint';
      for (const value of revealed) {
        if (!verifyShare(this.#group, dealing.commitments, { index: complainer, value })) return 'invalid-justification';
      }
    }
    return undefined;
  }

  /** True iff dealer `d`'s commitments reshare its old share: C_{d,0} = X_d. */
  #reshares(d: bigint, commitments: readonly P[]): boolean {
    let key = this.#oldKeys.get(d);
    if (key === undefined) this.#oldKeys.set(d, (key = publicShare(this.#group, this.#oldCommitments, d)));
    return this.#group.equals(commitments[0] as P, key);
  }

  #complaintsAgainst(dealer: bigint): Set<bigint> {
    let set = this.#complaints.get(dealer);
    if (!set) this.#complaints.set(dealer, (set = new Set()));
    return set;
  }

  #isNewHolder(index: unknown): index is bigint {
    return typeof index === 'bigint' && index >= 1n && index <= BigInt(this.#newHolders);
  }

  #expectPhase(phase: ResharingPhase, action: string): void {
    if (this.#phase !== phase) throw new CryptoError('DKG_FAILED', `${action} is not allowed in ${this.#phase}`);
  }
}

/**
 * SHA-256 over a domain tag, the session id, t, t', n', the dealers, QUAL and the old and new
 * commitments: a short value old and new holders can compare (e.g. sign in a confirmation
 * round) before the old shares are deleted. t and t' fix the lengths of the two commitment vectors.
 */
function resharingTranscriptHash<P>(
  group: GroupOps<P>,
  run: {
    sessionId: Uint8Array;
    oldCommitments: readonly P[];
    dealers: readonly bigint[];
    newThreshold: number;
    newHolders: number;
    qualified: readonly bigint[];
    commitments: readonly P[];
  },
): Uint8Array {
  const u16 = (v: number | bigint): number[] => [Number(v) >>> 8, Number(v) & 0xff];
  const head = [
    ...new TextEncoder().encode('milagro-resharing-transcript-v1'),
    run.sessionId.length,
    ...run.sessionId,
    ...u16(run.oldCommitments.length),
    ...u16(run.newThreshold),
    ...u16(run.newHolders),
    ...u16(run.dealers.length),
    ...run.dealers.flatMap(u16),
    ...u16(run.qualified.length),
    ...run.qualified.flatMap(u16),
  ];
  const oldEncoded = encodeCommitments(group, run.oldCommitments);
  const newEncoded = encodeCommitments(group, run.commitments);
  const data = new Uint8Array(head.length + oldEncoded.length + newEncoded.length);
  data.set(head);
  data.set(oldEncoded, head.length);
  data.set(newEncoded, head.length + oldEncoded.length);
  return sha256(data);
}
