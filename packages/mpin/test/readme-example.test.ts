/** Proves the README's example runs as written. */
import {
  createSuite, generateMasterShare, issueClientShare, issueServerShare, combineClientSecret,
  combineServerSecret, extractToken, clientPass1, clientPass2, createChallenge, createServerKey,
  verifyLogin,
} from '../src/index.js';

test('README example logs in', () => {
  const suite = createSuite();
  const identity = new TextEncoder().encode('alice@example.org');
  const dtas = [generateMasterShare(suite), generateMasterShare(suite)];
  const clientSecret = combineClientSecret(suite, dtas.map((s) => issueClientShare(suite, s, identity)));
  const server = createServerKey(suite, combineServerSecret(suite, dtas.map((s) => issueServerShare(suite, s))));
  const factors = [{ pin: '2468' }, { secret: crypto.getRandomValues(new Uint8Array(32)) }];
  const token = extractToken(suite, { identity, clientSecret, factors });
  const { message, state } = clientPass1(suite, { identity, token, factors });
  const { challenge, keep } = createChallenge(suite);
  const { v } = clientPass2(state, challenge);
  expect(verifyLogin(server, { identity, ...message, v, y: keep.y })).toEqual({ ok: true });
});
