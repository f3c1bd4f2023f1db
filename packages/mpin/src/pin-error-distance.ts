/**
 * SERVER ONLY. The signed PIN error of a rejected login, for lockout policy and fraud analytics.
 * Never send it, or anything derived from it, to a client: it would tell an attacker how far a
 * guess is from the PIN and collapse the PIN search to one attempt.
 *
 * With a token extracted with PIN p and a login with PIN p', V = −(x+y)·(s·P + δ·A), δ = p' − p, so
 *   E = e(V, Q)·e(y·P + U, s·Q) = e(A, Q)^(−(x+y)·δ)   and   F = e(y·A + U, Q) = e(A, Q)^(x+y),
 * hence E·F^δ = 1. δ is found deterministically by baby-step/giant-step over (−10^d, 10^d) in GT
 * (2·√(2·10^d) multiplications; about 200 for 4 digits, 20 000 for 8).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import type { Fp12 as Fp12Element } from '@noble/curves/abstract/tower.js';
import { checkedPoint, decodeLoginProof, type LoginProof, type ServerKey } from './server.js';

const Fp12 = bls12_381.fields.Fp12;

/** Table key: one coefficient is enough to find candidates; a hit is confirmed with full equality. */
const keyOf = (x: Fp12Element): bigint => x.c0.c0.c0;

/**
 * Solve E·F^δ = 1 for δ in (−bound, bound) by baby-step/giant-step; undefined when there is none.
 */
export function solvePinError(e: Fp12Element, f: Fp12Element, bound: number): number | undefined {
  const span = 2 * bound - 1; // δ + bound − 1 ∈ [0, span)
  const m = Math.ceil(Math.sqrt(span));
  const baby = new Map<bigint, { j: number; value: Fp12Element }[]>();
  let acc = Fp12.ONE;
  for (let j = 0; j < m; j++) {
    const list = baby.get(keyOf(acc)) ?? [];
    list.push({ j, value: acc });
    baby.set(keyOf(acc), list);
    acc = Fp12.mul(acc, f);
  }
  // F^δ' = T with δ' = δ + bound − 1 and T = F^(bound−1)·E^(−1); GT elements invert by conjugation.
  const giant = Fp12.conjugate(acc); // F^(−m)
  let target = Fp12.mul(Fp12.pow(f, BigInt(bound - 1)), Fp12.conjugate(e));
  for (let i = 0; i * m < span; i++) {
    for (const { j, value } of baby.get(keyOf(target)) ?? []) {
      if (Fp12.eql(value, target)) {
        const shifted = i * m + j;
        return shifted < span ? shifted - (bound - 1) : undefined;
      }
    }
    target = Fp12.mul(target, giant);
  }
  return undefined;
}

/**
 * The signed PIN error δ = (PIN entered) − (PIN registered) of a login proof: 0 when the proof
 * verifies; undefined when it is malformed, when U is missing, or when no PIN error explains the
 * failure (wrong token, permit or realm). Costs three pairings plus the search; call it only after
 * {@link verifyLogin} rejected a proof, and keep the result on the server.
 */
export function pinErrorDistance<G1, G2, P>(key: ServerKey<G1, G2, P>, proof: LoginProof): number | undefined {
  const { suite } = key;
  const { backend } = suite;
  const decoded = decodeLoginProof(suite, proof);
  if (!decoded.ok || decoded.proof.u === undefined) return undefined;
  const { v, a, y, u } = decoded.proof;
  const e = Fp12.fromBytes(backend.pairingProduct([
    [v, key.preparedBase],
    [checkedPoint(suite, decoded.proof), key.preparedSecret],
  ]));
  if (Fp12.eql(e, Fp12.ONE)) return 0;
  const f = Fp12.fromBytes(backend.pairingProduct([[backend.g1.add(backend.g1.multiplyPublic(a, y), u), key.preparedBase]]));
  return solvePinError(e, f, 10 ** suite.pinDigits);
}
