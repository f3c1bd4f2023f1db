/**
 * The client side of M-Pin: token extraction at registration, then the two passes of a login.
 *
 * Login: pass 1 picks x from the local CSPRNG and sends U = x·H(ID) (and UT = x·(H(ID) + H_permit)
 * with a time permit); the server answers with a random challenge y; pass 2 sends
 * V = −(x+y)·(token + f·H(ID) [+ permit]) where f is the sum of the factors' scalars. The server's y
 * never seeds anything, and a pass-1 state is single-use: two V's with one x and different y's
 * would reveal the client secret.
 */
import { CryptoError, randomScalar } from '@milagro/crypto';
import { factorsScalar, type Factor } from './factors.js';
import { deriveFullKeys, encodeTranscript, confirmationsEqual, transcriptChallenge } from './key-agreement.js';
import { GROUP_ORDER, assertDay, type MpinSuite } from './suite.js';

/** Registration input: the combined client secret and the factors to take out of it. */
export interface TokenExtraction {
  readonly identity: Uint8Array;
  readonly clientSecret: Uint8Array;
  readonly factors: readonly Factor[];
}

/** token = CS − f·H(ID): what the client stores. Without the factors it proves nothing. */
export function extractToken(suite: MpinSuite, input: TokenExtraction): Uint8Array {
  const { g1 } = suite.backend;
  const cs = suite.decodeG1(input.clientSecret);
  const f = factorsScalar(suite, input.factors);
  const fh = g1.multiply(suite.hashIdentity(input.identity), f);
  return suite.encodeG1(g1.add(cs, g1.negate(fh)));
}

/** Login input of pass 1. */
export interface ClientLogin {
  readonly identity: Uint8Array;
  readonly token: Uint8Array;
  readonly factors: readonly Factor[];
  /** The combined time permit for `day` (days since 1970-01-01 UTC), where the deployment uses permits. */
  readonly timePermit?: { readonly day: number; readonly permit: Uint8Array } | undefined;
  /** Also run M-Pin Full key agreement (adds Z to pass 1). */
  readonly keyAgreement?: boolean | undefined;
}

/** Pass 1 as sent to the server. */
export interface Pass1Message {
  /** U = x·H(ID). */
  readonly u: Uint8Array;
  /** UT = x·(H(ID) + H_permit(day, ID)), with a time permit. */
  readonly ut?: Uint8Array | undefined;
  /** Z = r·P, with key agreement. */
  readonly z?: Uint8Array | undefined;
}

/** The server's answer to pass 1. */
export interface Challenge {
  /** The challenge scalar y. */
  readonly y: Uint8Array;
  /** W = w·P, with key agreement. */
  readonly w?: Uint8Array | undefined;
}

/** Client-side M-Pin Full result: the key is released only once the server has confirmed it. */
export interface ClientKeyAgreement {
  /** Send to the server with V. */
  readonly clientConfirmation: Uint8Array;
  /**
   * Check the server's confirmation and return the session key.
   * @throws CryptoError `SIGNATURE_INVALID` when it does not match (wrong factors, or wrong server).
   */
  finish(serverConfirmation: Uint8Array): Uint8Array;
}

/** Pass 2 as sent to the server. */
export interface Pass2Result {
  readonly v: Uint8Array;
  readonly keyAgreement?: ClientKeyAgreement | undefined;
}

/** Opaque, single-use client state between the passes (its secrets live in a module-private map). */
export class ClientLoginState {
  private readonly brand = 'ClientLoginState';
}

const pending = new WeakMap<ClientLoginState, (challenge: Challenge) => Pass2Result>();

/**
 * Pass 1: restore the secret from token and factors (it is only checked by the server) and commit to x.
 * @throws CryptoError for a malformed token or permit, a bad PIN format or day.
 */
export function clientPass1<G1, G2, P>(
  suite: MpinSuite<G1, G2, P>,
  login: ClientLogin,
): { message: Pass1Message; state: ClientLoginState } {
  const backend = suite.backend;
  const { g1, g2 } = backend;
  const { secret, a, p } = restoreSecret(suite, login);
  const day = login.timePermit?.day;
  const x = randomScalar();
  const u = suite.encodeG1(commitment(suite, a, x));
  const ut = login.timePermit ? suite.encodeG1(g1.multiply(p, x)) : undefined;
  const r = login.keyAgreement ? randomScalar() : undefined;
  const z = r === undefined ? undefined : suite.encodeG1(g1.multiply(p, r));
  const message: Pass1Message = { u, ut, z };

  const state = new ClientLoginState();
  pending.set(state, (challenge) => {
    const y = suite.decodeScalar(challenge.y);
    const v = suite.encodeG1(proofResponse(suite, secret, x, y));
    if (r === undefined || z === undefined) return { v };
    if (!challenge.w) throw new CryptoError('INVALID_ARGUMENT', 'key agreement needs the server value W');
    const w = suite.decodeG1(challenge.w);
    const transcript = encodeTranscript(suite, { identity: login.identity, day, u, ut, z, y: challenge.y, w: challenge.w });
    const h = transcriptChallenge(transcript);
    const gt = backend.pairingProduct([[g1.multiply(secret, (r + h) % GROUP_ORDER), backend.prepareG2(g2.base)]]);
    const keys = deriveFullKeys(gt, suite.encodeG1(g1.multiply(w, x)), transcript, v);
    return {
      v,
      keyAgreement: {
        clientConfirmation: keys.clientConfirmation,
        finish(serverConfirmation) {
          if (!confirmationsEqual(serverConfirmation, keys.serverConfirmation)) {
            throw new CryptoError('SIGNATURE_INVALID', 'the server did not confirm the session key');
          }
          return keys.sessionKey;
        },
      },
    };
  });
  return { message, state };
}

/**
 * Pass 2: V = −(x+y)·secret for the server's challenge (plus M-Pin Full keys when requested).
 * @throws CryptoError `INVALID_ARGUMENT` when the state was already used; decoding errors for a bad y or W.
 */
export function clientPass2(state: ClientLoginState, challenge: Challenge): Pass2Result {
  const run = pending.get(state);
  if (!run) throw new CryptoError('INVALID_ARGUMENT', 'a login state can answer only one challenge');
  pending.delete(state);
  return run(challenge);
}

/**
 * @internal The client secret rebuilt from token, factors and permit: s·P with P = H(ID)
 * (+ H_permit(day, ID)), exactly when the factors are right.
 */
export function restoreSecret<G1>(
  suite: MpinSuite<G1>,
  login: Pick<ClientLogin, 'identity' | 'token' | 'factors' | 'timePermit'>,
): { secret: G1; a: G1; p: G1 } {
  const { g1 } = suite.backend;
  const a = suite.hashIdentity(login.identity);
  let secret = g1.add(suite.decodeG1(login.token), g1.multiply(a, factorsScalar(suite, login.factors)));
  let p = a;
  if (login.timePermit) {
    assertDay(login.timePermit.day);
    secret = g1.add(secret, suite.decodeG1(login.timePermit.permit));
    p = g1.add(a, suite.hashTimePermit(login.timePermit.day, login.identity));
  }
  return { secret, a, p };
}

/** @internal x·point (U = x·H(ID), UT = x·P). */
export function commitment<G1>(suite: MpinSuite<G1>, point: G1, x: bigint): G1 {
  return suite.backend.g1.multiply(point, x);
}

/** @internal V = −(x+y)·secret. */
export function proofResponse<G1>(suite: MpinSuite<G1>, secret: G1, x: bigint, y: bigint): G1 {
  const { g1 } = suite.backend;
  return g1.negate(g1.multiply(secret, (x + y) % GROUP_ORDER));
}
