import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import fc from 'fast-check';
import { CryptoError } from '../src/errors.js';
import { _usePureJsMlKemForTesting, mlKemBackend } from '../src/ml-kem.js';
import {
  XWING_LENGTHS,
  XWingDecapsulationKey,
  _usePureJsX25519ForTesting,
  _x25519BackendForTesting,
  generateXWingKeyPair,
  xwingDecapsulate,
  xwingEncapsulate,
  xwingKeyPairFromSeed,
} from '../src/xwing.js';
import vectors from './vectors/xwing.json';

async function expectCode(fn: () => Promise<unknown>, code: string): Promise<void> {
  await expect(fn()).rejects.toBeInstanceOf(CryptoError);
  await expect(fn()).rejects.toMatchObject({ code });
}

describe('X-Wing KEM (draft-connolly-cfrg-xwing-kem-10)', () => {
  describe.each([
    ['WebCrypto X25519 and node:crypto ML-KEM', false],
    ['pure-JS X25519 and ML-KEM (the browser path)', true],
  ])('with %s', (_name, pureJs) => {
    beforeAll(() => {
      _usePureJsX25519ForTesting(pureJs);
      _usePureJsMlKemForTesting(pureJs);
    });
    afterAll(() => {
      _usePureJsX25519ForTesting(false);
      _usePureJsMlKemForTesting(false);
    });

    it('runs on the intended backends', async () => {
      expect(await _x25519BackendForTesting()).toBe(pureJs ? 'noble' : 'webcrypto');
      expect(mlKemBackend().name).toBe(pureJs ? 'noble' : 'node');
    });

    it('a fresh encapsulation opens with noble ml_kem768_x25519 (an independent composition), and the reverse', async () => {
      const seed = new Uint8Array(32).fill(pureJs ? 1 : 2);
      const ours = xwingKeyPairFromSeed(seed);
      const theirs = ml_kem768_x25519.keygen(seed);
      const encapsulated = await xwingEncapsulate(ours.publicKey);
      expect(bytesToHex(ml_kem768_x25519.decapsulate(encapsulated.ciphertext, theirs.secretKey))).toBe(bytesToHex(encapsulated.sharedSecret));
      const reference = ml_kem768_x25519.encapsulate(theirs.publicKey);
      expect(bytesToHex(await xwingDecapsulate(seed, reference.cipherText))).toBe(bytesToHex(reference.sharedSecret));
    });

    it.each(vectors.vectors.map((v, i) => [i, v] as const))(
      'reproduces Appendix C vector %i: keygen from seed, encapsulation with eseed, decapsulation',
      async (_i, v) => {
        const { publicKey, secretKey } = xwingKeyPairFromSeed(hexToBytes(v.seed));
        expect(bytesToHex(secretKey)).toBe(v.sk);
        expect(bytesToHex(publicKey)).toBe(v.pk);
        const { sharedSecret, ciphertext } = await xwingEncapsulate(publicKey, hexToBytes(v.eseed));
        expect(bytesToHex(ciphertext)).toBe(v.ct);
        expect(bytesToHex(sharedSecret)).toBe(v.ss);
        expect(bytesToHex(await xwingDecapsulate(hexToBytes(v.sk), hexToBytes(v.ct)))).toBe(v.ss);
        const key = XWingDecapsulationKey.fromSecretKey(hexToBytes(v.sk));
        expect(bytesToHex(key.publicKey)).toBe(v.pk);
        expect(bytesToHex(await xwingDecapsulate(key, hexToBytes(v.ct)))).toBe(v.ss);
      },
    );

    it('round-trips with random keys and randomness', async () => {
      const { publicKey, secretKey } = generateXWingKeyPair();
      const { sharedSecret, ciphertext } = await xwingEncapsulate(publicKey);
      expect(sharedSecret.length).toBe(32);
      expect(ciphertext.length).toBe(1120);
      expect(bytesToHex(await xwingDecapsulate(secretKey, ciphertext))).toBe(bytesToHex(sharedSecret));
    });
  });

  it('agrees with noble ml_kem768_x25519 (an independent composition) on random seeds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        async (seed, eseed) => {
          const ours = xwingKeyPairFromSeed(seed);
          const theirs = ml_kem768_x25519.keygen(seed);
          expect(bytesToHex(ours.publicKey)).toBe(bytesToHex(theirs.publicKey));
          const encapsulated = await xwingEncapsulate(ours.publicKey, eseed);
          const reference = ml_kem768_x25519.encapsulate(theirs.publicKey, eseed);
          expect(bytesToHex(encapsulated.ciphertext)).toBe(bytesToHex(reference.cipherText));
          expect(bytesToHex(encapsulated.sharedSecret)).toBe(bytesToHex(reference.sharedSecret));
          // Decapsulation of our ciphertext by the reference, and of any bit-flipped ciphertext by both.
          const tampered = encapsulated.ciphertext.slice();
          tampered[seed[0]! % 1088]! ^= 1;
          expect(bytesToHex(await xwingDecapsulate(seed, tampered))).toBe(
            bytesToHex(ml_kem768_x25519.decapsulate(tampered, theirs.secretKey)),
          );
        },
      ),
      { numRuns: 4 },
    );
  });

  it('rejects implicitly: a flipped bit in the ML-KEM part gives an unrelated secret', async () => {
    const { publicKey, secretKey } = generateXWingKeyPair();
    const { sharedSecret, ciphertext } = await xwingEncapsulate(publicKey);
    const tampered = ciphertext.slice();
    tampered[10]! ^= 0x80;
    expect(bytesToHex(await xwingDecapsulate(secretKey, tampered))).not.toBe(bytesToHex(sharedSecret));
    const tamperedX = ciphertext.slice();
    tamperedX[1100]! ^= 0x01;
    expect(bytesToHex(await xwingDecapsulate(secretKey, tamperedX))).not.toBe(bytesToHex(sharedSecret));
  });

  it('validates lengths with INVALID_LENGTH', async () => {
    const { publicKey, secretKey } = generateXWingKeyPair();
    const { ciphertext } = await xwingEncapsulate(publicKey);
    expect(() => xwingKeyPairFromSeed(new Uint8Array(31))).toThrow(CryptoError);
    expect(() => XWingDecapsulationKey.fromSecretKey(new Uint8Array(33))).toThrow(
      expect.objectContaining({ code: 'INVALID_LENGTH' }),
    );
    await expectCode(() => xwingEncapsulate(publicKey.subarray(1)), 'INVALID_LENGTH');
    await expectCode(() => xwingEncapsulate(publicKey, new Uint8Array(63)), 'INVALID_LENGTH');
    await expectCode(() => xwingDecapsulate(secretKey, ciphertext.subarray(1)), 'INVALID_LENGTH');
    await expectCode(() => xwingDecapsulate(secretKey.subarray(1), ciphertext), 'INVALID_LENGTH');
    expect(XWING_LENGTHS).toMatchObject({ publicKey: 1216, secretKey: 32, ciphertext: 1120, sharedSecret: 32 });
  });

  it('refuses a public key that fails the ML-KEM encapsulation key check (FIPS 203 §7.2)', async () => {
    const { publicKey } = generateXWingKeyPair();
    const bad = publicKey.slice();
    // The first 12-bit coefficient becomes 4095 ≥ q = 3329: not a canonical encoding.
    bad[0] = 0xff;
    bad[1] = (bad[1]! & 0xf0) | 0x0f;
    await expectCode(() => xwingEncapsulate(bad), 'INVALID_ENCODING'); // node:crypto here
    await expectCode(() => xwingEncapsulate(bad, new Uint8Array(64)), 'INVALID_ENCODING'); // noble (seeded)
  });

  it('refuses low-order X25519 shares with typed errors', async () => {
    const { publicKey, secretKey } = generateXWingKeyPair();
    const lowOrderPk = publicKey.slice();
    lowOrderPk.fill(0, 1184);
    await expectCode(() => xwingEncapsulate(lowOrderPk), 'INVALID_ENCODING');
    const { ciphertext } = await xwingEncapsulate(publicKey);
    const lowOrderCt = ciphertext.slice();
    lowOrderCt.fill(0, 1088);
    await expectCode(() => xwingDecapsulate(secretKey, lowOrderCt), 'DECRYPTION_FAILED');
  });

  it('property: decapsulating random well-sized ciphertexts never crashes', async () => {
    const key = XWingDecapsulationKey.fromSecretKey(new Uint8Array(32).fill(5));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1120, maxLength: 1120 }), async (ciphertext) => {
        try {
          expect((await key.decapsulate(ciphertext)).length).toBe(32);
        } catch (err) {
          expect(err).toMatchObject({ code: 'DECRYPTION_FAILED' });
        }
      }),
      { numRuns: 12 },
    );
  });
});
