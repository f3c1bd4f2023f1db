/**
 * A small realm for protocol tests: master secret s shared 2-of-3 (Shamir) by three D-TAs, the
 * shares they issue, and a registered client.
 */
import { interpolateScalar } from '../../crypto/src/sharing/lagrange';
import { randomScalar } from '../../crypto/src/bls12-381/scalar';
import {
  combineClientSecret,
  combineServerSecret,
  createServerKey,
  extractToken,
  GROUP_ORDER,
  issueClientShare,
  issueServerShare,
  type Factor,
  type MpinSuite,
  type ServerKey,
} from '../src/index.js';

export const identity = new TextEncoder().encode('{"userID":"alice@example.org","mobile":1,"salt":"6a3f"}');

/** Shamir shares f(1), f(2), f(3) of s = f(0) for f(X) = s + c·X. */
export function shamirShares(suite: MpinSuite): { s: bigint; shares: { index: bigint; share: Uint8Array }[] } {
  const s = randomScalar();
  const c = randomScalar();
  const shares = [1n, 2n, 3n].map((index) => ({ index, share: suite.encodeScalar((s + c * index) % GROUP_ORDER) }));
  // sanity: the test's own sharing interpolates back to s
  if (interpolateScalar(shares.map((x) => ({ index: x.index, value: suite.decodeScalar(x.share) }))) !== s) throw new Error('bad fixture');
  return { s, shares };
}

/** A registered client: token for `factors`, and the server key, issued by D-TAs 1 and 3 of 3. */
export function registerClient(suite: MpinSuite, factors: readonly Factor[]): { token: Uint8Array; key: ServerKey; masterShares: { index: bigint; share: Uint8Array }[]; clientSecret: Uint8Array } {
  const { shares } = shamirShares(suite);
  const picked = [shares[0]!, shares[2]!];
  const clientSecret = combineClientSecret(suite, picked.map((m) => ({ index: m.index, share: issueClientShare(suite, m.share, identity) })));
  const serverSecret = combineServerSecret(suite, [shares[1]!, shares[2]!].map((m) => ({ index: m.index, share: issueServerShare(suite, m.share) })));
  const token = extractToken(suite, { identity, clientSecret, factors });
  return { token, key: createServerKey(suite, serverSecret), masterShares: shares, clientSecret };
}
