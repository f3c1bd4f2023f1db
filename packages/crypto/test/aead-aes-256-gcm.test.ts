import fc from 'fast-check';
import { aesGcmBackends, aesGcmDecrypt, aesGcmEncrypt, type AesGcmBackend } from '../src/aead.js';
import { bytesToHex, hexToBytes } from '../src/encoding.js';
import { CryptoError } from '../src/errors.js';
import vectors from './vectors/gcm-spec-aes-256.json';

const backends: AesGcmBackend[] = ['node', 'webcrypto'];

test('both AES-GCM backends are available on Node', () => {
  expect(aesGcmBackends()).toEqual(['node', 'webcrypto']);
});

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(CryptoError);
  await expect(promise).rejects.toMatchObject({ code });
}

describe.each(backends)('AES-256-GCM on %s', (backend) => {
  describe.each(vectors.vectors)('GCM spec $name', (v) => {
    const key = hexToBytes(v.key);
    const iv = hexToBytes(v.iv);
    const aad = hexToBytes(v.aad);

    test('encrypts to the published ciphertext and tag', async () => {
      const sealed = await aesGcmEncrypt(key, iv, hexToBytes(v.plaintext), aad, { backend });
      expect(bytesToHex(sealed)).toBe(v.ciphertext + v.tag);
    });

    test('decrypts the published ciphertext', async () => {
      const opened = await aesGcmDecrypt(key, iv, hexToBytes(v.ciphertext + v.tag), aad, { backend });
      expect(bytesToHex(opened)).toBe(v.plaintext);
    });

    test('rejects a flipped tag bit', async () => {
      const sealed = hexToBytes(v.ciphertext + v.tag);
      sealed[sealed.length - 1]! ^= 1;
      await expectCode(aesGcmDecrypt(key, iv, sealed, aad, { backend }), 'DECRYPTION_FAILED');
    });
  });

  test('wrong key, wrong nonce, wrong or missing AAD and any flipped bit fail to decrypt', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.nat(),
        async (key, nonce, plaintext, aad, where) => {
          const sealed = await aesGcmEncrypt(key, nonce, plaintext, aad, { backend });
          expect(sealed.length).toBe(plaintext.length + 16);
          expect(await aesGcmDecrypt(key, nonce, sealed, aad, { backend })).toEqual(plaintext);

          const flipped = sealed.slice();
          flipped[where % flipped.length]! ^= 0x80;
          await expectCode(aesGcmDecrypt(key, nonce, flipped, aad, { backend }), 'DECRYPTION_FAILED');
          const otherKey = key.slice();
          otherKey[0]! ^= 1;
          await expectCode(aesGcmDecrypt(otherKey, nonce, sealed, aad, { backend }), 'DECRYPTION_FAILED');
          const otherNonce = nonce.slice();
          otherNonce[11]! ^= 1;
          await expectCode(aesGcmDecrypt(key, otherNonce, sealed, aad, { backend }), 'DECRYPTION_FAILED');
          await expectCode(aesGcmDecrypt(key, nonce, sealed, undefined, { backend }), 'DECRYPTION_FAILED');
          const shortened = aesGcmDecrypt(key, nonce, sealed.subarray(1), aad, { backend });
          await expectCode(shortened, plaintext.length > 0 ? 'DECRYPTION_FAILED' : 'INVALID_LENGTH');
        },
      ),
      { numRuns: 40 },
    );
  });
});

test('node and webcrypto backends produce identical output', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 12, maxLength: 12 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 40 }),
      async (key, nonce, plaintext, aad) => {
        const a = await aesGcmEncrypt(key, nonce, plaintext, aad, { backend: 'node' });
        const b = await aesGcmEncrypt(key, nonce, plaintext, aad, { backend: 'webcrypto' });
        expect(a).toEqual(b);
        expect(await aesGcmDecrypt(key, nonce, a, aad, { backend: 'webcrypto' })).toEqual(plaintext);
      },
    ),
    { numRuns: 50 },
  );
});

test('outputs are plain Uint8Arrays, not Node Buffers', async () => {
  const sealed = await aesGcmEncrypt(new Uint8Array(32), new Uint8Array(12), new Uint8Array(5));
  expect(Object.getPrototypeOf(sealed)).toBe(Uint8Array.prototype);
  const opened = await aesGcmDecrypt(new Uint8Array(32), new Uint8Array(12), sealed);
  expect(Object.getPrototypeOf(opened)).toBe(Uint8Array.prototype);
});

describe('input validation', () => {
  const key = new Uint8Array(32);
  const nonce = new Uint8Array(12);
  test.each([0, 16, 24, 31, 33])('a %i-byte key is INVALID_LENGTH', async (n) => {
    await expectCode(aesGcmEncrypt(new Uint8Array(n), nonce, new Uint8Array(1)), 'INVALID_LENGTH');
    await expectCode(aesGcmDecrypt(new Uint8Array(n), nonce, new Uint8Array(16)), 'INVALID_LENGTH');
  });
  test.each([0, 8, 11, 13, 16])('a %i-byte nonce is INVALID_LENGTH', async (n) => {
    await expectCode(aesGcmEncrypt(key, new Uint8Array(n), new Uint8Array(1)), 'INVALID_LENGTH');
    await expectCode(aesGcmDecrypt(key, new Uint8Array(n), new Uint8Array(16)), 'INVALID_LENGTH');
  });
  test('a ciphertext shorter than the tag is INVALID_LENGTH', async () => {
    await expectCode(aesGcmDecrypt(key, nonce, new Uint8Array(15)), 'INVALID_LENGTH');
  });
  test('non-bytes inputs are INVALID_ARGUMENT', async () => {
    await expectCode(aesGcmEncrypt(key, nonce, 'text' as unknown as Uint8Array), 'INVALID_ARGUMENT');
    await expectCode(aesGcmEncrypt(key, nonce, new Uint8Array(1), [1] as unknown as Uint8Array), 'INVALID_ARGUMENT');
  });
});
