/**
 * M-Pin Full: authenticated key agreement on top of the login proof, after Milagro's
 * `MPIN_CLIENT_KEY`/`MPIN_SERVER_KEY` but built from standard pieces.
 *
 * The client adds Z = r·P to pass 1 (P = H(ID), or H(ID) + H_permit(day, ID) with a permit); the
 * server adds W = w·P to its challenge. With h = hash_to_field(transcript) both sides compute
 *   g = e((r+h)·s·P, Q) = e(Z + h·P, s·Q)   and   d = x·W = w·U
 * (only the holder of the client secret with the right factors, or of the server secret, can
 * compute g; d is an ephemeral Diffie-Hellman value). Keys are HKDF-SHA256(g ‖ d) salted with the
 * hash of the whole transcript including V; each side proves it holds them with an HMAC.
 */
import { equalBytes, numberToBytesBE } from '@noble/curves/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hashToScalar } from '@milagro/crypto';
import type { MpinSuite } from './suite.js';

/** Label that starts every M-Pin Full transcript. */
export const FULL_TRANSCRIPT_LABEL = 'MILAGRO-MPIN-V1-FULL';
/** DST of the transcript challenge h. */
export const DST_FULL_CHALLENGE = 'MILAGRO-MPIN-V1-CS01-with-BLS12381FR_XMD:SHA-256_FULL-CHALLENGE_';
/** HKDF `info` of the M-Pin Full keys. */
export const FULL_KEY_INFO = 'MILAGRO-MPIN-V1-FULL session key, client confirmation key, server confirmation key';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Public values of one M-Pin Full exchange, all as sent on the wire. */
export interface FullTranscript {
  readonly identity: Uint8Array;
  readonly day?: number | undefined;
  readonly u: Uint8Array;
  readonly ut?: Uint8Array | undefined;
  readonly z: Uint8Array;
  readonly y: Uint8Array;
  readonly w: Uint8Array;
}

/** label ‖ (u32 length ‖ field)* over suite name, identity, day (4 bytes, or empty), U, UT (or empty), Z, y, W. */
export function encodeTranscript(suite: MpinSuite, t: FullTranscript): Uint8Array {
  const fields = [
    utf8(suite.name),
    t.identity,
    t.day === undefined ? new Uint8Array(0) : numberToBytesBE(BigInt(t.day), 4),
    t.u,
    t.ut ?? new Uint8Array(0),
    t.z,
    t.y,
    t.w,
  ];
  const label = utf8(FULL_TRANSCRIPT_LABEL);
  const out = new Uint8Array(label.length + fields.reduce((n, f) => n + 4 + f.length, 0));
  out.set(label);
  let at = label.length;
  for (const field of fields) {
    out.set(numberToBytesBE(BigInt(field.length), 4), at);
    out.set(field, at + 4);
    at += 4 + field.length;
  }
  return out;
}

/** h: the transcript hashed to a scalar (RFC 9380 hash_to_field over r). */
export function transcriptChallenge(transcript: Uint8Array): bigint {
  return hashToScalar(transcript, DST_FULL_CHALLENGE);
}

/** The keys of one M-Pin Full exchange. */
export interface FullKeys {
  readonly sessionKey: Uint8Array;
  readonly clientConfirmation: Uint8Array;
  readonly serverConfirmation: Uint8Array;
}

/** HKDF over g ‖ d, salted with SHA-256(transcript ‖ V); confirmations are HMACs of that hash. */
export function deriveFullKeys(gt: Uint8Array, dh: Uint8Array, transcript: Uint8Array, v: Uint8Array): FullKeys {
  const ikm = new Uint8Array(gt.length + dh.length);
  ikm.set(gt);
  ikm.set(dh, gt.length);
  const full = new Uint8Array(transcript.length + 4 + v.length);
  full.set(transcript);
  full.set(numberToBytesBE(BigInt(v.length), 4), transcript.length);
  full.set(v, transcript.length + 4);
  const th = sha256(full);
  const okm = hkdf(sha256, ikm, th, utf8(FULL_KEY_INFO), 96);
  ikm.fill(0);
  return {
    sessionKey: okm.slice(0, 32),
    clientConfirmation: hmac(sha256, okm.subarray(32, 64), concat(utf8('client'), th)),
    serverConfirmation: hmac(sha256, okm.subarray(64, 96), concat(utf8('server'), th)),
  };
}

/** Constant-time comparison of confirmations. */
export function confirmationsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && equalBytes(a, b);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
