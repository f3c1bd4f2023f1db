/**
 * Batch verification: n login proofs checked with one pairing product.
 *
 * Each well-formed proof i gives two G1 points (V_i, R_i = y_i·P_i + U_i) that must satisfy
 * e(V_i, Q)·e(R_i, s·Q) = 1. With fresh random 128-bit ρ_i from the local CSPRNG (never revealed),
 * the batch checks e(Σ ρ_i·V_i, Q)·e(Σ ρ_i·R_i, s·Q) = 1. If any proof is wrong this passes with
 * probability ≤ 2^-128 (the ρ_i are unknown to whoever chose the proofs), so errors cannot be made
 * to cancel. When it fails, bisection finds the wrong proofs: because the same ρ_i are reused, the
 * products of two halves multiply to the product of the whole, so when the left half passes the
 * right half is known to fail without another pairing. A single proof is checked exactly (ρ ≠ 0),
 * so a wrong proof never makes a good one fail, and cannot make another wrong one pass.
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { SCALAR_ORDER } from '@milagro/crypto';
import { decodeLoginProof, type DecodedProof, type LoginProof, type LoginVerdict, type ServerKey } from './server.js';

/** A random non-zero 128-bit batching exponent. */
function batchExponent(): bigint {
  for (;;) {
    const rho = bytesToNumberBE(randomBytes(16));
    if (rho !== 0n) return rho;
  }
}

/**
 * Verify many logins at once (e.g. a micro-batch of concurrent requests). Returns one verdict per
 * proof, in order, identical to what {@link verifyLogin} would return for each.
 *
 * Cost: decoding each proof, then two multi-scalar multiplications and one 2-pairing product for
 * the whole batch: Σρ_i·V_i, and Σ(ρ_i·y_i)·P_i + Σρ_i·xP_i (which is Σρ_i·(y_i·P_i + xP_i)
 * without forming the terms). Only a failing batch pays for bisection.
 */
export function verifyLoginBatch<G1, G2, P>(key: ServerKey<G1, G2, P>, proofs: readonly LoginProof[]): LoginVerdict[] {
  const { backend } = key.suite;
  const { g1 } = backend;
  const verdicts: LoginVerdict[] = new Array(proofs.length);
  const terms: { index: number; proof: DecodedProof<G1>; rho: bigint }[] = [];
  proofs.forEach((proof, index) => {
    const decoded = decodeLoginProof(key.suite, proof);
    if (!decoded.ok) verdicts[index] = decoded;
    else terms.push({ index, proof: decoded.proof, rho: batchExponent() });
  });

  const holds = (from: number, to: number): boolean => {
    const slice = terms.slice(from, to);
    const v = g1.multiplySum(slice.map((t) => t.proof.v), slice.map((t) => t.rho));
    const r = g1.multiplySum(
      [...slice.map((t) => t.proof.p), ...slice.map((t) => t.proof.xp)],
      [...slice.map((t) => (t.rho * t.proof.y) % SCALAR_ORDER), ...slice.map((t) => t.rho)],
    );
    // Σρ·V and Σρ·R are 0 only with negligible probability for honest proofs; the identity pairs to 1
    // either way, so the check stays exact.
    return backend.pairingProductIsOne([
      [v, key.preparedBase],
      [r, key.preparedSecret],
    ]);
  };
  const settle = (from: number, to: number, ok: boolean): void => {
    for (let i = from; i < to; i++) verdicts[(terms[i] as (typeof terms)[number]).index] = ok ? { ok: true } : { ok: false, reason: 'rejected' };
  };
  /** Resolve terms[from, to); `knownToFail` when its product is already known not to be 1. */
  const bisect = (from: number, to: number, knownToFail: boolean): void => {
    if (!knownToFail && holds(from, to)) return settle(from, to, true);
    if (to - from === 1) return settle(from, to, false);
    const mid = from + Math.ceil((to - from) / 2);
    if (holds(from, mid)) {
      settle(from, mid, true);
      bisect(mid, to, true);
    } else {
      bisect(from, mid, true);
      bisect(mid, to, false);
    }
  };
  if (terms.length > 0) bisect(0, terms.length, false);
  return verdicts;
}
