/**
 * Combining D-TA shares. With Shamir shares (t of n, from a DKG) each share carries its D-TA's
 * index and the combination is Lagrange interpolation at 0 in the exponent: Σ λ_i·(s_i·X) = s·X.
 * With additive shares (Milagro's n of n) the combination is the plain sum.
 */
import { CryptoError, interpolateInExponent, type GroupOps } from '@milagro/crypto';
import type { MpinSuite } from './suite.js';

/** A share issued by the D-TA with Shamir index `index` (1..n). */
export interface IndexedShare {
  readonly index: bigint;
  readonly share: Uint8Array;
}

/** Shares to combine: indexed (threshold) or plain (additive n-of-n). */
export type Shares = readonly IndexedShare[] | readonly Uint8Array[];

function combine<P>(group: GroupOps<P>, decode: (b: Uint8Array) => P, shares: Shares): P {
  if (shares.length === 0) throw new CryptoError('NOT_ENOUGH_SHARES', 'no shares to combine');
  if (shares[0] instanceof Uint8Array) {
    let sum = group.zero;
    for (const share of shares as readonly Uint8Array[]) sum = group.add(sum, decode(share));
    return sum;
  }
  return interpolateInExponent(
    group,
    (shares as readonly IndexedShare[]).map((s) => ({ index: s.index, point: decode(s.share) })),
  );
}

/** s·H(ID) from client-secret shares (validates every share). */
export function combineClientSecret(suite: MpinSuite, shares: Shares): Uint8Array {
  return suite.encodeG1(combine(suite.backend.g1, (b) => suite.decodeG1(b), shares));
}

/** s·H_permit(day, ID) from time-permit shares. */
export function combineTimePermit(suite: MpinSuite, shares: Shares): Uint8Array {
  return combineClientSecret(suite, shares);
}

/** s·Q from server-secret shares. */
export function combineServerSecret(suite: MpinSuite, shares: Shares): Uint8Array {
  return suite.encodeG2(combine(suite.backend.g2, (b) => suite.decodeG2(b), shares));
}
