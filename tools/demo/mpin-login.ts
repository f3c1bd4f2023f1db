// `npm run demo`: the main job on embedded defaults, in one process. A realm of three D-TAs holds
// Shamir shares (2-of-3) of a master secret nobody holds whole; a user registers with shares from
// two of them and a PIN; the server gets its secret from two others; then a login with the right
// PIN succeeds and one with a wrong PIN fails. Runs on the built packages (`npm run build` first).
import { createMclBackend, splitSecret } from '@milagro/crypto';
import {
  clientPass1, clientPass2, combineClientSecret, combineServerSecret, createChallenge, createServerKey,
  createSuite, extractToken, issueClientShare, issueServerShare, verifyLogin,
} from '@milagro/mpin';

const started = performance.now();
const suite = createSuite({ backend: await createMclBackend() });
const identity = new TextEncoder().encode('alice@example.org');

// The realm: three D-TAs, threshold 2. (Deployed D-TAs run a DKG instead of a dealer.)
const dtas = splitSecret(BigInt(`0x${Buffer.from(crypto.getRandomValues(new Uint8Array(31))).toString('hex')}`), { threshold: 2, shares: 3 })
  .map((s) => ({ index: s.index, master: suite.encodeScalar(s.value) }));
console.log(`realm: ${dtas.length} D-TAs, any 2 issue`);

// Registration: client-secret shares from D-TAs 1 and 3, combined with Lagrange weights.
const clientSecret = combineClientSecret(suite, [dtas[0]!, dtas[2]!].map((d) => ({ index: d.index, share: issueClientShare(suite, d.master, identity) })));
const token = extractToken(suite, { identity, clientSecret, factors: [{ pin: '2468' }] });
console.log('registered alice: the device keeps a token; no server stores anything about her');

// The server's secret from D-TAs 2 and 3.
const server = createServerKey(suite, combineServerSecret(suite, [dtas[1]!, dtas[2]!].map((d) => ({ index: d.index, share: issueServerShare(suite, d.master) }))));

for (const pin of ['2468', '1357']) {
  const t0 = performance.now();
  const { message, state } = clientPass1(suite, { identity, token, factors: [{ pin }] });
  const { challenge, keep } = createChallenge(suite);
  const { v } = clientPass2(state, challenge);
  const verdict = verifyLogin(server, { identity, ...message, v, y: keep.y });
  console.log(`login with PIN ${pin}: ${verdict.ok ? 'accepted' : `refused (${verdict.reason})`} in ${(performance.now() - t0).toFixed(1)} ms`);
}
console.log(`done in ${((performance.now() - started) / 1000).toFixed(2)} s`);
