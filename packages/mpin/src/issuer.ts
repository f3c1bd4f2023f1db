/**
 * What a D-TA issues from its share s_i of a realm's master secret: client-secret shares
 * s_i·H(ID), server-secret shares s_i·Q and time-permit shares s_i·H_permit(day, ID).
 * Combine shares with {@link combineClientSecret} / {@link combineServerSecret} / {@link combineTimePermit}.
 */
import { CryptoError, randomScalar } from '@milagro/crypto';
import type { MpinSuite } from './suite.js';

function masterShareScalar(suite: MpinSuite, masterShare: Uint8Array): bigint {
  const s = suite.decodeScalar(masterShare);
  if (s === 0n) throw new CryptoError('INVALID_SCALAR', 'master secret share must not be zero');
  return s;
}

/** A fresh random master secret (or additive share of one), encoded for the suite. */
export function generateMasterShare(suite: MpinSuite): Uint8Array {
  return suite.encodeScalar(randomScalar());
}

/** s_i·H(ID): a D-TA's share of `identity`'s client secret (G1). */
export function issueClientShare(suite: MpinSuite, masterShare: Uint8Array, identity: Uint8Array): Uint8Array {
  const s = masterShareScalar(suite, masterShare);
  return suite.encodeG1(suite.backend.g1.multiply(suite.hashIdentity(identity), s));
}

/** s_i·Q: a D-TA's share of the server secret (G2, Q the standard generator). */
export function issueServerShare(suite: MpinSuite, masterShare: Uint8Array): Uint8Array {
  const s = masterShareScalar(suite, masterShare);
  return suite.encodeG2(suite.backend.g2.multiply(suite.backend.g2.base, s));
}

/** s_i·H_permit(day, ID): a D-TA's share of `identity`'s time permit for `day` (days since the epoch, UTC). */
export function issueTimePermitShare(suite: MpinSuite, masterShare: Uint8Array, day: number, identity: Uint8Array): Uint8Array {
  const s = masterShareScalar(suite, masterShare);
  return suite.encodeG1(suite.backend.g1.multiply(suite.hashTimePermit(day, identity), s));
}
