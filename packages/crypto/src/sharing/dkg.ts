import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from '../errors.js';
import type { GroupOps } from '../bls12-381/backend.js';
import { randomScalar } from '../bls12-381/scalar.js';
import { dealShares, decodeCommitments, encodeCommitments, verifyShare } from './feldman.js';
import { isScalar, type ScalarShare } from './lagrange.js';
import {
  assertSessionId,
  MAX_DKG_PARTICIPANTS,
  type DkgComplaint,
  type DkgDealing,
  type DkgJustification,
  type DkgMessage,
  type DkgPrivateShare,
} from './dkg-messages.js';

/**
 * Distributed key generation: Pedersen's DKG with Feldman commitments ("joint-Feldman",
 * Pedersen 1991; the complaint round as in Gennaro, Jarecki, Krawczyk, Rabin 1999/2007), as a
 * pure message-passing state machine. No I/O: the caller moves messages between participants.
 *
 * Rounds, for participants with indices 1..n and threshold t:
 * 1. `deal()`: every participant i picks a random secret, broadcasts a {@link DkgDealing}
 *    (commitments to its polynomial f_i) and sends each j a {@link DkgPrivateShare} f_i(j).
 *    Everyone `receive`s the dealings and their own shares, then calls `closeRound1()`.
 * 2. `closeRound1()` verifies every received share against its dealer's commitments and returns
 *    a {@link DkgComplaint} (to broadcast) for each dealer whose share is missing or wrong.
 *    Everyone `receive`s the complaints, then calls `closeRound2()`.
 * 3. `closeRound2()` returns a {@link DkgJustification} (to broadcast) for each complaint
 *    against this participant: the disputed share, revealed publicly. Everyone `receive`s them.
 * 4. `finish()` disqualifies every dealer that sent no or an invalid dealing, or left a complaint
 *    unanswered, or answered it with a share that does not match its commitments. The rest is
 *    QUAL (at least t, or the DKG fails). The group secret x = Σ_{i∈QUAL} f_i(0) is never
 *    computed by anyone; participant j's share is x_j = Σ_{i∈QUAL} f_i(j); the group public key
 *    is Σ_{i∈QUAL} C_{i,0}, and everyone's verification key x_j·G follows from the joint
 *    commitments (`publicShare(group, result.commitments, j)`).
 *
 * What the transport (a higher layer) must provide:
 * - private shares travel **encrypted and authenticated** to their recipient only;
 * - every message is authenticated: `receive(from, message)` takes the authenticated sender and
 *   refuses messages claiming another one;
 * - broadcasts are consistent: every honest participant receives the same dealings, complaints
 *   and justifications before closing the round (e.g. content-addressed, signed envelopes and
 *   per-round deadlines). Given the same messages, every participant reaches the same QUAL,
 *   group public key and `transcriptHash`; comparing the hashes detects a split view. (A
 *   participant takes its own broadcasts as delivered; if they never reached the others, its
 *   view differs from theirs, and the hash comparison shows it.)
 * - a session id unique to this run, committing to the realm, the participant list and (t, n).
 *
 * Security notes. Secrecy and correctness hold against up to t−1 corrupt participants; the DKG
 * completes while at least t dealers stay qualified. As Gennaro et al. showed, a rushing
 * adversary can bias the distribution of the group public key in joint-Feldman; that is accepted
 * for threshold keys used by BLS-style signing / M-Pin issuance (Gennaro et al., "Secure
 * applications of Pedersen's distributed key generation protocol", CT-RSA 2003), not for
 * protocols needing a uniform key. Commit in G1 for the D-TA master secret (see `feldman.ts`).
 */

const Fr = bls12_381.fields.Fr;

/** Parameters every participant of one DKG run must agree on. */
export interface DkgParameters {
  /** Unique id of this run (1..255 bytes), bound into every message. */
  readonly sessionId: Uint8Array;
  /** t: shares needed to use the key; each dealer's polynomial has degree t−1. */
  readonly threshold: number;
  /** n: number of participants, indexed 1..n (n <= 65535). */
  readonly participants: number;
}

/** Why a dealer was left out of QUAL. */
export type DkgDisqualificationReason =
  /** No dealing was received in round 1. */
  | 'missing-dealing'
  /** The dealing's commitments did not decode (bad points, wrong count) or the dealer sent two different dealings. */
  | 'invalid-dealing'
  /** A complaint against the dealer got no justification. */
  | 'unanswered-complaint'
  /** A justification revealed a share that does not match the dealer's commitments. */
  | 'invalid-justification';

/** A dealer excluded from QUAL, and the first reason found. */
export interface DkgDisqualification {
  readonly dealer: bigint;
  readonly reason: DkgDisqualificationReason;
}

/** The outcome of a DKG run for one participant. Everything but `share` is public. */
export interface DkgResult<P> {
  /** This participant's final share x_j = Σ_{i∈QUAL} f_i(j). Secret. */
  readonly share: ScalarShare;
  /** Σ_{i∈QUAL} C_{i,0}: the public key of the jointly generated secret. */
  readonly groupPublicKey: P;
  /** Commitments A_k = Σ_{i∈QUAL} C_{i,k} to the joint polynomial; `commitments[0]` is the group public key. */
  readonly commitments: P[];
  /** QUAL, ascending. */
  readonly qualified: bigint[];
  /** Every dealer not in QUAL, ascending, with the reason. */
  readonly disqualified: DkgDisqualification[];
  /** SHA-256 over the session id, t, n, QUAL and the joint commitments; equal for all honest participants. */
  readonly transcriptHash: Uint8Array;
}

/** What `deal()` returns: one broadcast and n−1 private messages. */
export interface DkgRound1Output {
  readonly dealing: DkgDealing;
  /** One per other participant, ascending by recipient; send each encrypted to its recipient. */
  readonly privateShares: DkgPrivateShare[];
}

/** The round a {@link DkgParticipant} is in; `'done'` after `finish()`. */
export type DkgPhase = 'round1' | 'round2' | 'round3' | 'done';
const PHASE_ORDER: Record<DkgPhase, number> = { round1: 1, round2: 2, round3: 3, done: 4 };
/** The last phase in which each message type is still accepted (later rounds' messages may arrive early). */
const ACCEPTED_UNTIL: Record<DkgMessage['type'], DkgPhase> = {
  dealing: 'round1',
  'private-share': 'round1',
  complaint: 'round2',
  justification: 'round3',
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

/**
 * One participant of a joint-Feldman DKG (see the module notes for the rounds and what the
 * transport must guarantee). Deterministic given the same received messages, apart from the
 * participant's own random contribution.
 */
export class DkgParticipant<P> {
  /** This participant's index, 1..n. */
  readonly index: bigint;
  readonly #group: GroupOps<P>;
  readonly #params: DkgParameters;
  #phase: DkgPhase = 'round1';
  /** f_self(1..n); kept only until complaints are answered (then only f_self(self)). */
  #dealtShares: ScalarShare[] | undefined;
  #ownShare: bigint | undefined;
  readonly #dealings = new Map<bigint, ReceivedDealing<P>>();
  /** Share received from each dealer; `undefined` marks two different shares (treated as invalid). */
  readonly #received = new Map<bigint, bigint | undefined>();
  /** Dealers whose share to this participant verified in `closeRound1`. */
  readonly #verified = new Set<bigint>();
  /** dealer → complainers. */
  readonly #complaints = new Map<bigint, Set<bigint>>();
  /** `${dealer}:${recipient}` → distinct revealed values. */
  readonly #justifications = new Map<string, Set<bigint>>();

  /**
   * @param group - the group of the commitments and public key (G1 for the D-TA master secret).
   * @param parameters - session id, t and n, identical at every participant.
   * @param index - this participant's index in 1..n.
   * @throws CryptoError `INVALID_ARGUMENT` for bad parameters.
   */
  constructor(group: GroupOps<P>, parameters: DkgParameters, index: bigint) {
    assertSessionId(parameters.sessionId);
    const { threshold: t, participants: n } = parameters;
    if (!Number.isSafeInteger(t) || !Number.isSafeInteger(n) || t < 1 || t > n || n > MAX_DKG_PARTICIPANTS) {
      throw new CryptoError('INVALID_ARGUMENT', `need 1 <= threshold <= participants <= ${MAX_DKG_PARTICIPANTS}`);
    }
    this.#group = group;
    this.#params = { sessionId: parameters.sessionId.slice(), threshold: t, participants: n };
    if (!this.#isParticipant(index)) throw new CryptoError('INVALID_ARGUMENT', 'index must be a bigint in [1, n]');
    this.index = index;
  }

  /** The current round: `'round1'`, `'round2'`, `'round3'` or `'done'`. */
  get phase(): DkgPhase {
    return this.#phase;
  }

  /**
   * Round 1: choose this participant's random contribution and produce its messages. Call once.
   * @throws CryptoError `DKG_FAILED` if called twice or after round 1.
   */
  deal(): DkgRound1Output {
    this.#expectPhase('round1', 'deal');
    if (this.#dealtShares) throw new CryptoError('DKG_FAILED', 'already dealt');
    const { sessionId, threshold, participants } = this.#params;
    const { shares, commitments } = dealShares(randomScalar(), { threshold, shares: participants }, this.#group);
    const bytes = encodeCommitments(this.#group, commitments);
    this.#dealings.set(this.index, { bytes, commitments, conflicting: false });
    this.#dealtShares = shares;
    this.#ownShare = (shares[Number(this.index) - 1] as ScalarShare).value;
    return {
      dealing: { type: 'dealing', sessionId, dealer: this.index, commitments: bytes },
      privateShares: shares
        .filter((s) => s.index !== this.index)
        .map((s) => ({ type: 'private-share', sessionId, dealer: this.index, recipient: s.index, value: s.value })),
    };
  }

  /**
   * Apply a message from the authenticated participant `from`. Messages of a later round may
   * arrive early and are kept; repeated identical messages are harmless. A dealer that
   * broadcasts two different dealings is disqualified; two different private shares from one
   * dealer count as an invalid share (and draw a complaint).
   *
   * @throws CryptoError `DKG_MESSAGE_REJECTED` when the message belongs to another session, its
   *   claimed sender is not `from`, it is addressed to someone else, names an index outside 1..n,
   *   carries a malformed field, or its round is already closed. Nothing is applied then.
   */
  receive(from: bigint, message: DkgMessage): void {
    const reject = (why: string): never => {
      throw new CryptoError('DKG_MESSAGE_REJECTED', why);
    };
    if (!this.#isParticipant(from)) reject('sender is not a participant');
    if (typeof message !== 'object' || message === null || !Object.hasOwn(ACCEPTED_UNTIL, message.type)) {
      reject('not a DKG message');
    }
    if (!(message.sessionId instanceof Uint8Array) || !bytesEqual(message.sessionId, this.#params.sessionId)) {
      reject('message belongs to another session');
    }
    if (PHASE_ORDER[this.#phase] > PHASE_ORDER[ACCEPTED_UNTIL[message.type]]) {
      reject(`${message.type} arrived after its round closed`);
    }
    switch (message.type) {
      case 'dealing': {
        if (message.dealer !== from) reject('dealing claims another sender');
        if (!(message.commitments instanceof Uint8Array)) reject('commitments must be a Uint8Array');
        const known = this.#dealings.get(from);
        if (known) {
          if (!bytesEqual(known.bytes, message.commitments)) known.conflicting = true;
          return;
        }
        let commitments: P[] | undefined;
        try {
          commitments = decodeCommitments(this.#group, message.commitments, { threshold: this.#params.threshold });
        } catch {
          commitments = undefined; // a bad dealing disqualifies its dealer; it is not an error here
        }
        this.#dealings.set(from, { bytes: message.commitments.slice(), commitments, conflicting: false });
        return;
      }
      case 'private-share': {
        if (message.dealer !== from) reject('share claims another sender');
        if (message.recipient !== this.index) reject('share is addressed to another participant');
        if (from === this.index) reject('own share is not received');
        if (!isScalar(message.value)) reject('share value must be a scalar in [0, r)');
        if (this.#received.has(from) && this.#received.get(from) !== message.value) {
          this.#received.set(from, undefined);
        } else if (!this.#received.has(from)) {
          this.#received.set(from, message.value);
        }
        return;
      }
      case 'complaint': {
        if (message.complainer !== from) reject('complaint claims another sender');
        if (!this.#isParticipant(message.dealer) || message.dealer === from) reject('complaint names an invalid dealer');
        this.#complaintsAgainst(message.dealer).add(from);
        return;
      }
      case 'justification': {
        if (message.dealer !== from) reject('justification claims another sender');
        if (!this.#isParticipant(message.recipient) || message.recipient === from) reject('justification names an invalid recipient');
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
   * End round 1: verify the received shares and return the complaints to broadcast (one per
   * dealer with a valid dealing whose share to us is missing, duplicated or wrong).
   * @throws CryptoError `DKG_FAILED` before `deal()` or outside round 1.
   */
  closeRound1(): DkgComplaint[] {
    this.#expectPhase('round1', 'closeRound1');
    if (!this.#dealtShares) throw new CryptoError('DKG_FAILED', 'deal() must come first');
    const complaints: DkgComplaint[] = [];
    for (let d = 1n; d <= BigInt(this.#params.participants); d++) {
      if (d === this.index) continue;
      const dealing = this.#dealings.get(d);
      if (!dealing?.commitments || dealing.conflicting) continue; // disqualified anyway, by everyone
      const value = this.#received.get(d);
      if (value !== undefined && verifyShare(this.#group, dealing.commitments, { index: this.index, value })) {
        this.#verified.add(d);
      } else {
        this.#complaintsAgainst(d).add(this.index);
        complaints.push({ type: 'complaint', sessionId: this.#params.sessionId, complainer: this.index, dealer: d });
      }
    }
    this.#phase = 'round2';
    return complaints;
  }

  /**
   * End round 2: return a justification (to broadcast) for each complaint against this
   * participant, revealing the disputed share. Not answering would get us disqualified.
   * @throws CryptoError `DKG_FAILED` outside round 2.
   */
  closeRound2(): DkgJustification[] {
    this.#expectPhase('round2', 'closeRound2');
    const shares = this.#dealtShares as ScalarShare[];
    const complainers = [...(this.#complaints.get(this.index) ?? [])].sort(ascending);
    const answers: DkgJustification[] = complainers.map((k) => {
      const value = (shares[Number(k) - 1] as ScalarShare).value;
      this.#justifications.set(`${this.index}:${k}`, new Set([value]));
      return { type: 'justification', sessionId: this.#params.sessionId, dealer: this.index, recipient: k, value };
    });
    this.#dealtShares = undefined; // the others' shares are no longer needed here
    this.#phase = 'round3';
    return answers;
  }

  /**
   * End round 3: decide QUAL and compute this participant's share, the group public key and
   * the joint commitments.
   * @throws CryptoError `DKG_FAILED` outside round 3, or when fewer than t dealers qualify.
   */
  finish(): DkgResult<P> {
    this.#expectPhase('round3', 'finish');
    const { sessionId, threshold, participants } = this.#params;
    const group = this.#group;
    const qualified: bigint[] = [];
    const disqualified: DkgDisqualification[] = [];
    for (let d = 1n; d <= BigInt(participants); d++) {
      const reason = this.#disqualificationReason(d);
      if (reason) disqualified.push({ dealer: d, reason });
      else qualified.push(d);
    }
    if (qualified.length < threshold) {
      throw new CryptoError('DKG_FAILED', `only ${qualified.length} dealers qualified, ${threshold} needed`);
    }

    let share = Fr.ZERO;
    const commitments: P[] = Array.from({ length: threshold }, () => group.zero);
    for (const d of qualified) {
      const dealt = (this.#dealings.get(d) as ReceivedDealing<P>).commitments as P[];
      for (const [k, c] of dealt.entries()) commitments[k] = group.add(commitments[k] as P, c);
      share = Fr.add(share, this.#shareFrom(d, dealt));
    }
    if (group.isZero(commitments[0] as P)) throw new CryptoError('DKG_FAILED', 'group public key is the point at infinity');
    // By construction x_j·G equals the joint polynomial at j; a mismatch means a bug, not an attack.
    if (!verifyShare(group, commitments, { index: this.index, value: share })) {
      throw new CryptoError('DKG_FAILED', 'final share does not match the joint commitments');
    }
    this.#ownShare = undefined;
    this.#received.clear();
    this.#phase = 'done';
    return {
      share: { index: this.index, value: share },
      groupPublicKey: commitments[0] as P,
      commitments,
      qualified,
      disqualified,
      transcriptHash: transcriptHash(group, sessionId, threshold, participants, qualified, commitments),
    };
  }

  /** The share dealer `d` (in QUAL) owes this participant: our own, the verified one, or the justified one. */
  #shareFrom(d: bigint, dealt: P[]): bigint {
    if (d === this.index) return this.#ownShare as bigint;
    if (this.#verified.has(d)) return this.#received.get(d) as bigint;
    // We complained (closeRound1 does so for every unverified share) and d is qualified, so it
    // answered with values that all verify, i.e. exactly one value.
    const revealed = this.#justifications.get(`${d}:${this.index}`);
    const value = revealed?.size === 1 ? [...revealed][0] : undefined;
    if (value === undefined || !verifyShare(this.#group, dealt, { index: this.index, value })) {
      throw new CryptoError('DKG_FAILED', `no valid share from qualified dealer ${d}`);
    }
    return value;
  }

  /** The first reason to disqualify dealer `d`, from broadcast information only (so every honest participant agrees). */
  #disqualificationReason(d: bigint): DkgDisqualificationReason | undefined {
    const dealing = this.#dealings.get(d);
    if (!dealing) return 'missing-dealing';
    if (!dealing.commitments || dealing.conflicting) return 'invalid-dealing';
    for (const complainer of [...(this.#complaints.get(d) ?? [])].sort(ascending)) {
      const revealed = this.#justifications.get(`${d}:${complainer}`);
      if (!revealed || revealed.size === 0) return 'unanswered-complaint';
      for (const value of revealed) {
        if (!verifyShare(this.#group, dealing.commitments, { index: complainer, value })) return 'invalid-justification';
      }
    }
    return undefined;
  }

  #complaintsAgainst(dealer: bigint): Set<bigint> {
    let set = this.#complaints.get(dealer);
    if (!set) this.#complaints.set(dealer, (set = new Set()));
    return set;
  }

  #isParticipant(index: unknown): index is bigint {
    return typeof index === 'bigint' && index >= 1n && index <= BigInt(this.#params.participants);
  }

  #expectPhase(phase: DkgPhase, action: string): void {
    if (this.#phase !== phase) throw new CryptoError('DKG_FAILED', `${action} is not allowed in ${this.#phase}`);
  }
}

/**
 * SHA-256 over a domain tag, the session id, t, n, QUAL and the joint commitments: a short value
 * the participants can compare (e.g. sign in a confirmation round) to check they agree.
 */
function transcriptHash<P>(
  group: GroupOps<P>,
  sessionId: Uint8Array,
  threshold: number,
  participants: number,
  qualified: readonly bigint[],
  commitments: readonly P[],
): Uint8Array {
  const u16 = (v: number | bigint): number[] => [Number(v) >>> 8, Number(v) & 0xff];
  const head = [
    ...new TextEncoder().encode('milagro-dkg-transcript-v1'),
    sessionId.length,
    ...sessionId,
    ...u16(threshold),
    ...u16(participants),
    ...u16(qualified.length),
    ...qualified.flatMap(u16),
  ];
  const encoded = encodeCommitments(group, commitments);
  const data = new Uint8Array(head.length + encoded.length);
  data.set(head);
  data.set(encoded, head.length);
  return sha256(data);
}
