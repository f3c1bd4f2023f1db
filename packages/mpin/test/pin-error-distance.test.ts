/**
 * Proves the server-only PIN error: δ = entered − registered for wrong PINs across the whole signed
 * range, 0 for a right PIN, undefined when the failure is not a PIN error.
 */
import { clientPass1, clientPass2, createChallenge, createSuite, type LoginProof, type MpinSuite, type ServerKey } from '../src/index.js';
import { pinErrorDistance } from '../src/server-only.js';
import { solvePinError } from '../src/pin-error-distance.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { loadMclBackend, nobleBackend } from './backends.js';
import { identity, registerClient } from './fixtures.js';

function proof(suite: MpinSuite, token: Uint8Array, pin: string): LoginProof {
  const { message, state } = clientPass1(suite, { identity, token, factors: [{ pin }] });
  const { challenge, keep } = createChallenge(suite);
  return { identity, ...message, v: clientPass2(state, challenge).v, y: keep.y };
}

test('δ = entered − registered, 0 when right, undefined for a foreign token', async () => {
  const suite = createSuite({ backend: (await loadMclBackend()) ?? nobleBackend });
  const realm = registerClient(suite, [{ pin: '5000' }]);
  const key = realm.key as ServerKey;
  for (const [entered, delta] of [['5000', 0], ['5001', 1], ['4999', -1], ['9999', 4999], ['0000', -5000]] as const) {
    expect(pinErrorDistance(key, proof(suite, realm.token, entered))).toBe(delta);
  }
  const other = registerClient(suite, [{ pin: '5000' }]);
  expect(pinErrorDistance(key, proof(suite, other.token, '5000'))).toBeUndefined();
  expect(pinErrorDistance(key, { ...proof(suite, realm.token, '5000'), v: new Uint8Array(3) })).toBeUndefined();
});

test('the baby-step/giant-step search covers both ends of the range (4 and 6 digits)', () => {
  const Fp12 = bls12_381.fields.Fp12;
  const f = bls12_381.pairing(bls12_381.G1.Point.BASE, bls12_381.G2.Point.BASE);
  // E = F^(−δ). 8 digits is the same search, only ~10× longer (≈ 28 000 GT multiplications).
  const eFor = (delta: number) => (delta > 0 ? Fp12.conjugate(Fp12.pow(f, BigInt(delta))) : Fp12.pow(f, BigInt(-delta)));
  for (const [delta, bound] of [[10 ** 6 - 1, 10 ** 6], [-(10 ** 4 - 1), 10 ** 4], [9_999, 10 ** 4], [0, 10 ** 4]] as const) {
    expect(solvePinError(eFor(delta), f, bound)).toBe(delta);
  }
  expect(solvePinError(eFor(10 ** 4), f, 10 ** 4)).toBeUndefined();
});
