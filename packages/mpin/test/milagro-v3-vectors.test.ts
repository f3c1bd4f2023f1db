/**
 * Proves that the milagro-v3 suite reproduces every field of Apache Milagro's 150 BLS12-381 M-Pin
 * test vectors byte for byte: SS1/SS2/SS, CS1/CS2/CS, TOKEN, U, V and AuthResult (100 right-PIN and
 * 50 wrong-PIN cases). Vectors: apache/incubator-milagro-crypto-c testVectors/mpin/BLS381.json.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { createSuite, combineClientSecret, combineServerSecret, createServerKey, extractToken, issueClientShare, issueServerShare, verifyLogin } from '../src/index.js';
import { commitment, proofResponse, restoreSecret } from '../src/client.js';
import { pinErrorDistance } from '../src/server-only.js';
import type { Bls12381Backend } from '@milagro/crypto';
import { loadMclBackend, nobleBackend } from './backends.js';
import { loadMilagroVectors, MILAGRO_VECTORS_PATH, type MilagroCase } from './vector-source.js';

const vectors = loadMilagroVectors();
const describeIfVectors = vectors ? describe : describe.skip;
if (!vectors) {
  console.warn(`milagro-v3-vectors: skipped, ${MILAGRO_VECTORS_PATH} is absent (see docs/specs/mpin.md)`);
}

// Every case runs on mcl-wasm (fast pairings); every 10th also on noble (pure JS, ~40 ms a
// pairing), so both backends are proven against Milagro with a test that stays fast.
let mcl: Bls12381Backend | undefined;
beforeAll(async () => {
  mcl = await loadMclBackend();
});

function checkCase(backend: Bls12381Backend, c: MilagroCase): void {
  const suite = createSuite({ suite: 'milagro-v3', backend });
  const identity = hexToBytes(c.MPINId);
  const ms1 = hexToBytes(c.MS1);
  const ms2 = hexToBytes(c.MS2);

  const ss1 = issueServerShare(suite, ms1);
  const ss2 = issueServerShare(suite, ms2);
  expect(bytesToHex(ss1)).toBe(c.SS1);
  expect(bytesToHex(ss2)).toBe(c.SS2);
  const ss = combineServerSecret(suite, [ss1, ss2]);
  expect(bytesToHex(ss)).toBe(c.SS);

  const cs1 = issueClientShare(suite, ms1, identity);
  const cs2 = issueClientShare(suite, ms2, identity);
  expect(bytesToHex(cs1)).toBe(c.CS1);
  expect(bytesToHex(cs2)).toBe(c.CS2);
  const cs = combineClientSecret(suite, [cs1, cs2]);
  expect(bytesToHex(cs)).toBe(c.CS);

  const token = extractToken(suite, { identity, clientSecret: cs, factors: [{ pin: c.PIN1 }] });
  expect(bytesToHex(token)).toBe(c.TOKEN);

  const x = suite.decodeScalar(hexToBytes(c.X));
  const y = suite.decodeScalar(hexToBytes(c.Y));
  const { secret, a } = restoreSecret(suite, { identity, token, factors: [{ pin: c.PIN2 }] });
  const u = suite.encodeG1(commitment(suite, a, x));
  expect(bytesToHex(u)).toBe(c.U);
  const v = suite.encodeG1(proofResponse(suite, secret, x, y));
  expect(bytesToHex(v)).toBe(c.V);

  const verdict = verifyLogin(createServerKey(suite, ss), { identity, u, v, y: hexToBytes(c.Y) });
  expect(verdict.ok ? 0 : -19).toBe(c.AuthResult);
  if (!verdict.ok) expect(verdict.reason).toBe('rejected');
}

describeIfVectors('milagro-v3 suite reproduces Milagro crypto-c BLS381 M-Pin vectors', () => {
  const cases = vectors ?? [];

  test('there are 150 cases: 100 right PIN, 50 wrong PIN', () => {
    expect(cases).toHaveLength(150);
    expect(cases.filter((c) => c.AuthResult === 0)).toHaveLength(100);
    expect(cases.filter((c) => c.AuthResult === -19)).toHaveLength(50);
  });

  test.each(cases.map((c) => [c.TEST, c] as const))('case %i on mcl-wasm (noble when mcl is unavailable)', (_n, c) => {
    checkCase(mcl ?? nobleBackend, c);
  });

  test.each(cases.filter((c) => c.TEST % 10 === 0).map((c) => [c.TEST, c] as const))('case %i on noble', (_n, c) => {
    checkCase(nobleBackend, c);
  });

  test('the server-only PIN error of wrong-PIN cases is PIN2 − PIN1', () => {
    const wrong = cases.filter((c) => c.AuthResult !== 0).slice(0, 5);
    for (const c of wrong) {
      const suite = createSuite({ suite: 'milagro-v3', backend: mcl ?? nobleBackend });
      const key = createServerKey(suite, hexToBytes(c.SS));
      const proof = { identity: hexToBytes(c.MPINId), u: hexToBytes(c.U), v: hexToBytes(c.V), y: hexToBytes(c.Y) };
      expect(pinErrorDistance(key, proof)).toBe(c.PIN2 - c.PIN1);
    }
  });
});
