/**
 * The server side of M-Pin: stateless verification of a login proof against the server secret
 * s·Q, with one pairing product e(V, Q)·e(y·P + U, s·Q) = 1 over precomputed (prepared) G2 values.
 * The server stores nothing about users; the caller keeps the challenge y between the passes and
 * enforces attempt limits per identity.
 */
import { isCryptoError, randomScalar, type CryptoErrorCode } from '@milagro/crypto';
import type { Pass1Message } from './client.js';
import { confirmationsEqual, deriveFullKeys, encodeTranscript, transcriptChallenge } from './key-agreement.js';
import { assertDay, type MpinSuite } from './suite.js';

/** A server secret decoded, validated and prepared once, for many verifications. */
export interface ServerKey<G1 = unknown, G2 = unknown, P = unknown> {
  readonly suite: MpinSuite<G1, G2, P>;
  /** @internal s·Q */
  readonly secretPoint: G2;
  /** @internal prepared s·Q */
  readonly preparedSecret: P;
  /** @internal prepared Q */
  readonly preparedBase: P;
}

/**
 * Decode, validate and prepare the combined server secret s·Q.
 * @throws CryptoError for a malformed point.
 */
export function createServerKey<G1, G2, P>(suite: MpinSuite<G1, G2, P>, serverSecret: Uint8Array): ServerKey<G1, G2, P> {
  const secretPoint = suite.decodeG2(serverSecret);
  return {
    suite,
    secretPoint,
    preparedSecret: suite.backend.prepareG2(secretPoint),
    preparedBase: suite.backend.prepareG2(suite.backend.g2.base),
  };
}

/** What the server sends after pass 1, and what it keeps until pass 2. */
export interface ServerChallenge {
  /** Send to the client: y, and W = w·P with key agreement. */
  readonly challenge: { readonly y: Uint8Array; readonly w?: Uint8Array | undefined };
  /** Keep server-side (secret with key agreement): y, and the ephemeral w. */
  readonly keep: { readonly y: Uint8Array; readonly w?: Uint8Array | undefined };
}

/** Identity and (optional) day the challenge is for; needed only for key agreement (W = w·P). */
export interface ChallengeOptions {
  readonly keyAgreement?: { readonly identity: Uint8Array; readonly day?: number | undefined } | undefined;
}

/** A fresh random challenge y (from the local CSPRNG) and, with key agreement, W = w·P. */
export function createChallenge(suite: MpinSuite, options: ChallengeOptions = {}): ServerChallenge {
  const y = suite.encodeScalar(randomScalar());
  const ka = options.keyAgreement;
  if (!ka) return { challenge: { y }, keep: { y } };
  const { g1 } = suite.backend;
  let p = suite.hashIdentity(ka.identity);
  if (ka.day !== undefined) p = g1.add(p, suite.hashTimePermit(ka.day, ka.identity));
  const w = randomScalar();
  return { challenge: { y, w: suite.encodeG1(g1.multiply(p, w)) }, keep: { y, w: suite.encodeScalar(w) } };
}

/** A login proof as the server receives it. */
export interface LoginProof extends Pass1Message {
  readonly identity: Uint8Array;
  /** Day of the time permit, where the deployment uses permits (then `ut` is required). */
  readonly day?: number | undefined;
  /** V from pass 2. */
  readonly v: Uint8Array;
  /** The challenge y the server issued for this login. */
  readonly y: Uint8Array;
}

/** A field of {@link LoginProof} that can be malformed. */
export type LoginField = 'u' | 'ut' | 'v' | 'y' | 'z' | 'day';

/** The outcome of a verification; never thrown for bad input. */
export type LoginVerdict =
  | { readonly ok: true }
  /** The proof did not decode: a wrong length, a point off the curve or outside the subgroup, infinity, ... */
  | { readonly ok: false; readonly reason: 'malformed'; readonly field: LoginField; readonly code: CryptoErrorCode }
  /** Well-formed but wrong: wrong factors (PIN), wrong or expired permit, or not issued by this realm. */
  | { readonly ok: false; readonly reason: 'rejected' };

/**
 * @internal A decoded proof: V, and the parts of the second pairing input y·P + xP (see
 * {@link checkedPoint}), kept apart so that batch verification can fold them into one
 * multi-scalar multiplication; plus what key agreement and the PIN-error search need.
 */
export interface DecodedProof<G1> {
  readonly v: G1;
  /** H(ID), plus the permit point when there is a day. */
  readonly p: G1;
  readonly a: G1;
  readonly y: bigint;
  /** U, or UT with a permit: x·P. */
  readonly xp: G1;
  readonly u: G1 | undefined;
}

/** @internal */
export type Decoded<G1> = { ok: true; proof: DecodedProof<G1> } | Extract<LoginVerdict, { reason: 'malformed' }>;

function field<T>(name: LoginField, decode: () => T): T | Extract<LoginVerdict, { reason: 'malformed' }> {
  try {
    return decode();
  } catch (err) {
    if (isCryptoError(err)) return { ok: false, reason: 'malformed', field: name, code: err.code };
    throw err;
  }
}

const isVerdict = (x: unknown): x is Extract<LoginVerdict, { reason: 'malformed' }> =>
  typeof x === 'object' && x !== null && 'reason' in x && (x as { reason: unknown }).reason === 'malformed';

/** @internal Decode and validate every field of a proof. */
export function decodeLoginProof<G1>(suite: MpinSuite<G1>, proof: LoginProof): Decoded<G1> {
  const { g1 } = suite.backend;
  const v = field('v', () => suite.decodeG1(proof.v));
  if (isVerdict(v)) return v;
  const y = field('y', () => suite.decodeScalar(proof.y));
  if (isVerdict(y)) return y;
  const withPermit = proof.day !== undefined;
  const day = field('day', () => (withPermit ? assertDay(proof.day as number) : undefined));
  if (isVerdict(day)) return day;
  const u = proof.u === undefined && withPermit ? undefined : field('u', () => suite.decodeG1(proof.u));
  if (isVerdict(u)) return u;
  const a = suite.hashIdentity(proof.identity);
  let p = a;
  let xp = u;
  if (withPermit) {
    const ut = field('ut', () => suite.decodeG1(proof.ut ?? new Uint8Array(0)));
    if (isVerdict(ut)) return ut;
    p = g1.add(a, suite.hashTimePermit(proof.day as number, proof.identity));
    xp = ut;
  }
  return { ok: true, proof: { v, p, a, y, xp: xp as G1, u } };
}

/**
 * @internal y·P + xP, the G1 input paired with s·Q. y is the public challenge, so the
 * variable-time multiplication leaks nothing.
 */
export function checkedPoint<G1>(suite: MpinSuite<G1>, proof: DecodedProof<G1>): G1 {
  const { g1 } = suite.backend;
  return g1.add(g1.multiplyPublic(proof.p, proof.y), proof.xp);
}

/**
 * Verify a login: decode and fully validate U (or UT), V and y, rebuild H(ID) (+ permit point),
 * and check e(V, Q)·e(y·P + U, s·Q) = 1 with one multi-pairing. Stateless; never throws for bad input.
 */
export function verifyLogin<G1, G2, P>(key: ServerKey<G1, G2, P>, proof: LoginProof): LoginVerdict {
  const decoded = decodeLoginProof(key.suite, proof);
  if (!decoded.ok) return decoded;
  return proofHolds(key, decoded.proof) ? { ok: true } : { ok: false, reason: 'rejected' };
}

/** e(V, Q)·e(y·P + U, s·Q) = 1, as one multi-pairing over the prepared Q and s·Q. */
function proofHolds<G1, G2, P>(key: ServerKey<G1, G2, P>, proof: DecodedProof<G1>): boolean {
  return key.suite.backend.pairingProductIsOne([
    [proof.v, key.preparedBase],
    [checkedPoint(key.suite, proof), key.preparedSecret],
  ]);
}

/** A login proof with M-Pin Full key agreement. */
export interface KeyAgreementProof extends LoginProof {
  /** Z from pass 1. */
  readonly z: Uint8Array;
  /** The challenge as sent (y and W) and as kept (y and w). */
  readonly challenge: ServerChallenge;
  /** The client's key confirmation, sent with V. */
  readonly clientConfirmation: Uint8Array;
}

/** Verdict of {@link verifyLoginWithKeyAgreement}: on success, the session key and the server's confirmation. */
export type KeyAgreementVerdict =
  | { readonly ok: true; readonly sessionKey: Uint8Array; readonly serverConfirmation: Uint8Array }
  | Exclude<LoginVerdict, { ok: true }>;

/**
 * M-Pin Full on the server: verify the proof as {@link verifyLogin} does, then derive the keys and
 * check the client's confirmation. A wrong PIN or a tampered transcript yields no key (`rejected`).
 */
export function verifyLoginWithKeyAgreement<G1, G2, P>(key: ServerKey<G1, G2, P>, proof: KeyAgreementProof): KeyAgreementVerdict {
  const { suite } = key;
  const { backend } = suite;
  const { g1 } = backend;
  const { challenge, keep } = proof.challenge;
  if (!challenge.w || !keep.w || !confirmationsEqual(challenge.y, proof.y) || !confirmationsEqual(keep.y, proof.y)) {
    return { ok: false, reason: 'rejected' };
  }
  const decoded = decodeLoginProof(suite, proof);
  if (!decoded.ok) return decoded;
  const z = field('z', () => suite.decodeG1(proof.z));
  if (isVerdict(z)) return z;
  if (!proofHolds(key, decoded.proof)) return { ok: false, reason: 'rejected' };
  const w = suite.decodeScalar(keep.w);
  const transcript = encodeTranscript(suite, {
    identity: proof.identity,
    day: proof.day,
    u: proof.u,
    ut: proof.ut,
    z: proof.z,
    y: proof.y,
    w: challenge.w,
  });
  const h = transcriptChallenge(transcript);
  const { p, xp } = decoded.proof;
  const gt = backend.pairingProduct([[g1.add(z, g1.multiply(p, h)), key.preparedSecret]]);
  const keys = deriveFullKeys(gt, suite.encodeG1(g1.multiply(xp, w)), transcript, proof.v);
  if (!confirmationsEqual(proof.clientConfirmation, keys.clientConfirmation)) return { ok: false, reason: 'rejected' };
  return { ok: true, sessionKey: keys.sessionKey, serverConfirmation: keys.serverConfirmation };
}
