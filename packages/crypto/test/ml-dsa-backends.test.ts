/**
 * ML-DSA-65 runs on node:crypto (OpenSSL) where the runtime has it and on @noble/post-quantum
 * elsewhere. Two independent FIPS 204 implementations must agree: the same public key from a seed,
 * and each accepts the other's signatures and refuses the same forgeries.
 */
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import fc from 'fast-check';
import { ML_DSA_65_LENGTHS, _mlDsaProbeFailureForTesting, _useMlDsaBackendForTesting, mlDsa65Backend, mlDsa65PublicKey, mlDsa65Sign, mlDsa65Verify, type MlDsaBackendName } from '../src/ml-dsa.js';
import { expectCryptoError } from './expect-crypto-error.js';

const seed = new Uint8Array(32).map((_, i) => 255 - i);
const message = new TextEncoder().encode('an envelope header');
const context = new TextEncoder().encode('COMPSIG-MLDSA65-Ed25519-SHA512');

function using<T>(name: MlDsaBackendName, run: () => T): T {
  _useMlDsaBackendForTesting(name);
  try {
    return run();
  } finally {
    _useMlDsaBackendForTesting(undefined);
  }
}

afterEach(() => _useMlDsaBackendForTesting(undefined));

it('uses node:crypto on this Node (24.7+ ships OpenSSL 3.5 with ML-DSA)', () => {
  const backend = mlDsa65Backend();
  // On failure the probe's reason shows (once seen in CI without one).
  expect({ backend, probeFailure: _mlDsaProbeFailureForTesting() }).toEqual({ backend: 'node', probeFailure: undefined });
});

it('derives the public key FIPS 204 derives from a seed, on both backends', () => {
  const reference = ml_dsa65.keygen(seed).publicKey;
  expect(using('node', () => mlDsa65PublicKey(seed))).toEqual(reference);
  expect(using('noble', () => mlDsa65PublicKey(seed))).toEqual(reference);
  expect(reference.length).toBe(ML_DSA_65_LENGTHS.publicKey);
});

it.each([
  ['node', 'noble'],
  ['noble', 'node'],
] as const)('a %s signature verifies on %s, and only for its message, key and context', (signer, verifier) => {
  const publicKey = mlDsa65PublicKey(seed);
  const signature = using(signer, () => mlDsa65Sign(seed, message, context));
  expect(signature.length).toBe(ML_DSA_65_LENGTHS.signature);
  using(verifier, () => {
    expect(mlDsa65Verify(signature, message, publicKey, context)).toBe(true);
    expect(mlDsa65Verify(signature, message, publicKey)).toBe(false);
    expect(mlDsa65Verify(signature, Uint8Array.of(...message, 0), publicKey, context)).toBe(false);
    expect(mlDsa65Verify(signature, message, mlDsa65PublicKey(new Uint8Array(32)), context)).toBe(false);
  });
});

it('both backends refuse the same mangled signatures and keys without throwing', () => {
  const publicKey = mlDsa65PublicKey(seed);
  const signature = mlDsa65Sign(seed, message, context);
  fc.assert(
    fc.property(fc.nat(signature.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
      const mangled = signature.slice();
      mangled[at]! ^= flip;
      const verdicts = (['node', 'noble'] as const).map((name) => using(name, () => mlDsa65Verify(mangled, message, publicKey, context)));
      expect(verdicts).toEqual([false, false]);
    }),
    { numRuns: 40 },
  );
  for (const name of ['node', 'noble'] as const) {
    using(name, () => {
      expect(mlDsa65Verify(signature.subarray(1), message, publicKey, context)).toBe(false);
      expect(mlDsa65Verify(signature, message, publicKey.subarray(1), context)).toBe(false);
      expect(mlDsa65Verify(new Uint8Array(ML_DSA_65_LENGTHS.signature), message, publicKey, context)).toBe(false);
    });
  }
});

it('hedged signing: two signatures of one message differ and both verify', () => {
  const publicKey = mlDsa65PublicKey(seed);
  const [first, second] = [mlDsa65Sign(seed, message), mlDsa65Sign(seed, message)];
  expect(first).not.toEqual(second);
  expect(mlDsa65Verify(first!, message, publicKey) && mlDsa65Verify(second!, message, publicKey)).toBe(true);
});

it('refuses a wrong-length seed and an over-long context with typed errors', () => {
  expectCryptoError(() => mlDsa65Sign(seed.subarray(1), message), 'INVALID_LENGTH');
  expectCryptoError(() => mlDsa65PublicKey(new Uint8Array(33)), 'INVALID_LENGTH');
  expectCryptoError(() => mlDsa65Sign(seed, message, new Uint8Array(256)), 'INVALID_LENGTH');
  expectCryptoError(() => mlDsa65Verify(new Uint8Array(3309), message, mlDsa65PublicKey(seed), new Uint8Array(256)), 'INVALID_LENGTH');
});
