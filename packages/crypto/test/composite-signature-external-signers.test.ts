import { ed25519 } from '@noble/curves/ed25519.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { compositeKeyPairFromSeed, compositeSignWith, compositeVerify, type CompositeComponentSigners } from '../src/composite-signature.js';
import { isCryptoError } from '../src/errors.js';

// A composite key whose halves live elsewhere (as in a keystore): one Ed25519 seed, one ML-DSA-65 seed.
const pair = compositeKeyPairFromSeed(new Uint8Array(32).fill(7));
const edSeed = pair.secretKey.subarray(0, 32);
const mlDsa = ml_dsa65.keygen(pair.secretKey.subarray(32));
const external: CompositeComponentSigners = {
  signEd25519: (message) => ed25519.sign(message, edSeed),
  signMlDsa65: async (message, context) => ml_dsa65.sign(message, mlDsa.secretKey, { context }),
};
const message = utf8ToBytes('rotation document');
const context = utf8ToBytes('milagro identity v1');

describe('compositeSignWith (component halves signed outside the process)', () => {
  it('gives signatures that compositeVerify accepts, under the same public key', async () => {
    const signature = await compositeSignWith(external, message, context);
    expect(compositeVerify(pair.publicKey, message, signature, context)).toBe(true);
    expect(compositeVerify(pair.publicKey, message, signature, utf8ToBytes('other context'))).toBe(false);
  });

  it('fails verification when either component signs the raw message instead of M\u2032', async () => {
    const rawEd: CompositeComponentSigners = { ...external, signEd25519: () => ed25519.sign(message, edSeed) };
    expect(compositeVerify(pair.publicKey, message, await compositeSignWith(rawEd, message, context), context)).toBe(false);
    const noLabel: CompositeComponentSigners = { ...external, signMlDsa65: (m) => ml_dsa65.sign(m, mlDsa.secretKey) };
    expect(compositeVerify(pair.publicKey, message, await compositeSignWith(noLabel, message, context), context)).toBe(false);
  });

  it('refuses component signatures of the wrong length with INVALID_LENGTH', async () => {
    const short: CompositeComponentSigners = { ...external, signEd25519: () => new Uint8Array(63) };
    await expect(compositeSignWith(short, message, context)).rejects.toMatchObject({ code: 'INVALID_LENGTH' });
    const long: CompositeComponentSigners = { ...external, signMlDsa65: () => new Uint8Array(3310) };
    await compositeSignWith(long, message, context).then(
      () => Promise.reject(new Error('accepted a 3310-byte ML-DSA-65 signature')),
      (error: unknown) => expect(isCryptoError(error) && error.code === 'INVALID_LENGTH').toBe(true),
    );
  });
});
