/**
 * Proves batch verification: one pairing product for a batch of logins, bisection to find the
 * wrong ones, and that a wrong proof never makes another fail or pass, including two wrong proofs
 * chosen so that their errors cancel in an unweighted sum.
 */
import { clientPass1, clientPass2, createChallenge, createSuite, verifyLogin, verifyLoginBatch, type LoginProof } from '../src/index.js';
import { loadMclBackend, nobleBackend } from './backends.js';
import { identity, registerClient } from './fixtures.js';
import type { Bls12381Backend } from '@milagro/crypto';

let backend: Bls12381Backend = nobleBackend;
beforeAll(async () => {
  backend = (await loadMclBackend()) ?? nobleBackend;
});

function proofs(n: number, wrong: ReadonlySet<number>) {
  const suite = createSuite({ backend });
  const pin = { pin: '5050' };
  const realm = registerClient(suite, [pin]);
  const list: LoginProof[] = [];
  for (let i = 0; i < n; i++) {
    const { message, state } = clientPass1(suite, { identity, token: realm.token, factors: [wrong.has(i) ? { pin: '5051' } : pin] });
    const { challenge, keep } = createChallenge(suite);
    list.push({ identity, ...message, v: clientPass2(state, challenge).v, y: keep.y });
  }
  return { suite, realm, list };
}

test('an all-good batch passes; a mix finds exactly the wrong proofs', () => {
  const { realm, list } = proofs(9, new Set([2, 3, 8]));
  const verdicts = verifyLoginBatch(realm.key, list);
  expect(verdicts.map((v) => v.ok)).toEqual([true, true, false, false, true, true, true, true, false]);
  expect(verdicts).toEqual(list.map((p) => verifyLogin(realm.key, p)));
  const { realm: r2, list: good } = proofs(5, new Set());
  expect(verifyLoginBatch(r2.key, good).every((v) => v.ok)).toBe(true);
  expect(verifyLoginBatch(r2.key, [])).toEqual([]);
});

test('malformed proofs are reported as such and do not disturb the others', () => {
  const { realm, list } = proofs(3, new Set([1]));
  const bad = { ...list[0]!, v: new Uint8Array(48) };
  expect(verifyLoginBatch(realm.key, [bad, ...list])).toEqual([
    { ok: false, reason: 'malformed', field: 'v', code: expect.any(String) },
    { ok: true },
    { ok: false, reason: 'rejected' },
    { ok: true },
  ]);
});

test('two wrong proofs whose errors cancel in a plain sum are both caught, the good ones pass', () => {
  const { suite, realm, list } = proofs(4, new Set());
  const { g1 } = suite.backend;
  // V1 + D and V2 − D: Σ V and Σ R are unchanged, so an unweighted batch would accept both.
  const d = g1.multiply(g1.base, 0x1234567n);
  const tweak = (p: LoginProof, sign: 1 | -1): LoginProof => ({ ...p, v: suite.encodeG1(g1.add(suite.decodeG1(p.v), sign === 1 ? d : g1.negate(d))) });
  const batch = [list[0]!, tweak(list[1]!, 1), list[2]!, tweak(list[3]!, -1)];
  expect(verifyLoginBatch(realm.key, batch).map((v) => v.ok)).toEqual([true, false, true, false]);
  // Same for errors split between V and U.
  const shift = (p: LoginProof): LoginProof => ({ ...p, u: suite.encodeG1(g1.add(suite.decodeG1(p.u), d)) });
  expect(verifyLoginBatch(realm.key, [shift(list[0]!), list[1]!]).map((v) => v.ok)).toEqual([false, true]);
});
