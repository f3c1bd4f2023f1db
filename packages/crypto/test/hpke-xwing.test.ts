import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { CryptoError } from '../src/errors.js';
import { hpkeOpen } from '../src/hpke/open.js';
import { hpkeSeal, hpkeSealToMany, sealWithContext } from '../src/hpke/seal.js';
import { HPKE_DEFAULT_SUITE } from '../src/hpke/suite.js';
import { XWingDecapsulationKey, generateXWingKeyPair, xwingKeyPairFromSeed } from '../src/xwing.js';

const alice = xwingKeyPairFromSeed(new Uint8Array(32).fill(0xa1));
const bob = generateXWingKeyPair();
const contentKey = new Uint8Array(32).map((_, i) => i * 7);
const info = utf8ToBytes('milagro/envelope/v1 content key');
const aad = utf8ToBytes('envelope header');
const eseed = new Uint8Array(64).map((_, i) => 255 - i);

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CryptoError);
  expect((err as CryptoError).code).toBe(code);
}

describe('HPKE base mode with X-Wing, HKDF-SHA256, AES-256-GCM', () => {
  it('is the default suite and round-trips', async () => {
    expect(HPKE_DEFAULT_SUITE).toBe('X-Wing/HKDF-SHA256/AES-256-GCM');
    const { enc, ciphertext } = await hpkeSeal(alice.publicKey, contentKey, { info, aad });
    expect(enc.length).toBe(1120);
    expect(ciphertext.length).toBe(32 + 16);
    expect(bytesToHex(await hpkeOpen(alice.secretKey, enc, ciphertext, { info, aad }))).toBe(bytesToHex(contentKey));
    // An expanded decapsulation key opens the same message.
    const expanded = XWingDecapsulationKey.fromSecretKey(alice.secretKey);
    expect(bytesToHex(await hpkeOpen(expanded, enc, ciphertext, { info, aad }))).toBe(bytesToHex(contentKey));
  });

  it('opens through any XWingDecapsulator (a key store that keeps the secret key), and refuses when it rejects', async () => {
    const { enc, ciphertext } = await hpkeSeal(alice.publicKey, contentKey, { info, aad });
    const expanded = XWingDecapsulationKey.fromSecretKey(alice.secretKey);
    let calls = 0;
    const external = {
      publicKey: alice.publicKey,
      decapsulate: (ct: Uint8Array) => {
        calls += 1;
        return expanded.decapsulate(ct);
      },
    };
    expect(bytesToHex(await hpkeOpen(external, enc, ciphertext, { info, aad }))).toBe(bytesToHex(contentKey));
    expect(calls).toBe(1);
    const failing = { publicKey: alice.publicKey, decapsulate: () => Promise.reject(new Error('HSM unavailable')) };
    await expectCode(hpkeOpen(failing, enc, ciphertext, { info, aad }), 'DECRYPTION_FAILED');
  });

  it('round-trips with no info, no aad and an empty plaintext', async () => {
    const { enc, ciphertext } = await hpkeSeal(bob.publicKey, new Uint8Array(0));
    expect((await hpkeOpen(bob.secretKey, enc, ciphertext)).length).toBe(0);
  });

  it('is deterministic with injected ephemeral randomness (eseed)', async () => {
    const one = await sealWithContext(alice.publicKey, contentKey, { info, aad }, eseed);
    const two = await sealWithContext(alice.publicKey, contentKey, { info, aad }, eseed);
    expect(bytesToHex(one.enc)).toBe(bytesToHex(two.enc));
    expect(bytesToHex(one.ciphertext)).toBe(bytesToHex(two.ciphertext));
    const random = await hpkeSeal(alice.publicKey, contentKey, { info, aad });
    expect(bytesToHex(random.enc)).not.toBe(bytesToHex(one.enc));
  });

  it('interoperates with @hpke/hybridkem-x-wing (independent ML-KEM): same bytes, and each opens the other', async () => {
    const theirs = new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const theirRecipient = await theirs.kem.deserializePrivateKey(alice.secretKey);
    const theirPublic = await theirs.kem.deserializePublicKey(alice.publicKey);
    const ours = await sealWithContext(alice.publicKey, contentKey, { info, aad }, eseed);
    const reference = await theirs.seal({ recipientPublicKey: theirPublic, info, ekm: eseed }, contentKey, aad);
    expect(bytesToHex(ours.enc)).toBe(bytesToHex(new Uint8Array(reference.enc)));
    expect(bytesToHex(ours.ciphertext)).toBe(bytesToHex(new Uint8Array(reference.ct)));
    const openedByThem = await theirs.open({ recipientKey: theirRecipient, enc: ours.enc, info }, ours.ciphertext, aad);
    expect(bytesToHex(new Uint8Array(openedByThem))).toBe(bytesToHex(contentKey));
    const fresh = await theirs.seal({ recipientPublicKey: theirPublic, info }, contentKey, aad);
    const openedByUs = await hpkeOpen(alice.secretKey, new Uint8Array(fresh.enc), new Uint8Array(fresh.ct), { info, aad });
    expect(bytesToHex(openedByUs)).toBe(bytesToHex(contentKey));
  });

  describe('tampering gives DECRYPTION_FAILED', () => {
    let sealed: { enc: Uint8Array; ciphertext: Uint8Array };
    beforeAll(async () => {
      sealed = await hpkeSeal(alice.publicKey, contentKey, { info, aad });
    });

    it.each([0, 500, 1087, 1088, 1119])('a flipped bit in enc at byte %i', async (offset) => {
      const enc = sealed.enc.slice();
      enc[offset]! ^= 0x04;
      await expectCode(hpkeOpen(alice.secretKey, enc, sealed.ciphertext, { info, aad }), 'DECRYPTION_FAILED');
    });

    it.each([0, 31, 32, 47])('a flipped bit in the ciphertext at byte %i', async (offset) => {
      const ciphertext = sealed.ciphertext.slice();
      ciphertext[offset]! ^= 0x80;
      await expectCode(hpkeOpen(alice.secretKey, sealed.enc, ciphertext, { info, aad }), 'DECRYPTION_FAILED');
    });

    it('wrong aad, wrong info, wrong recipient, truncated ciphertext', async () => {
      const { enc, ciphertext } = sealed;
      await expectCode(hpkeOpen(alice.secretKey, enc, ciphertext, { info, aad: utf8ToBytes('x') }), 'DECRYPTION_FAILED');
      await expectCode(hpkeOpen(alice.secretKey, enc, ciphertext, { info }), 'DECRYPTION_FAILED');
      await expectCode(hpkeOpen(alice.secretKey, enc, ciphertext, { info: utf8ToBytes('other'), aad }), 'DECRYPTION_FAILED');
      await expectCode(hpkeOpen(alice.secretKey, enc, ciphertext, { aad }), 'DECRYPTION_FAILED');
      await expectCode(hpkeOpen(bob.secretKey, enc, ciphertext, { info, aad }), 'DECRYPTION_FAILED');
      await expectCode(hpkeOpen(alice.secretKey, enc, ciphertext.subarray(0, 47), { info, aad }), 'DECRYPTION_FAILED');
    });

    it('a low-order X25519 share in enc', async () => {
      const enc = sealed.enc.slice();
      enc.fill(0, 1088);
      await expectCode(hpkeOpen(alice.secretKey, enc, sealed.ciphertext, { info, aad }), 'DECRYPTION_FAILED');
    });
  });

  it('validates lengths and keys with typed errors', async () => {
    const { enc, ciphertext } = await hpkeSeal(alice.publicKey, contentKey);
    await expectCode(hpkeSeal(alice.publicKey.subarray(1), contentKey), 'INVALID_LENGTH');
    await expectCode(hpkeOpen(alice.secretKey.subarray(1), enc, ciphertext), 'INVALID_LENGTH');
    await expectCode(hpkeOpen(alice.secretKey, enc.subarray(1), ciphertext), 'INVALID_LENGTH');
    await expectCode(hpkeOpen(alice.secretKey, enc, ciphertext.subarray(0, 15)), 'INVALID_LENGTH');
    const badKey = alice.publicKey.slice();
    badKey[0] = 0xff;
    badKey[1] = 0xff; // a 12-bit ML-KEM coefficient ≥ q
    await expectCode(hpkeSeal(badKey, contentKey), 'INVALID_ENCODING');
    await expectCode(hpkeSeal(alice.publicKey, contentKey, { suite: 'nope' as never }), 'INVALID_ARGUMENT');
    // An expanded X-Wing key cannot be used with a DHKEM suite.
    await expectCode(
      hpkeOpen(XWingDecapsulationKey.fromSecretKey(alice.secretKey), new Uint8Array(32), ciphertext, {
        suite: 'DHKEM-X25519/HKDF-SHA256/AES-256-GCM',
      }),
      'INVALID_ARGUMENT',
    );
  });

  it('seals one content key to many recipients; each opens only its own', async () => {
    const recipients = Array.from({ length: 5 }, (_, i) => xwingKeyPairFromSeed(new Uint8Array(32).fill(i + 1)));
    const sealed = await hpkeSealToMany(
      recipients.map((r) => r.publicKey),
      contentKey,
      { info, aad },
    );
    expect(sealed.length).toBe(5);
    for (const [i, r] of recipients.entries()) {
      expect(bytesToHex(await hpkeOpen(r.secretKey, sealed[i]!.enc, sealed[i]!.ciphertext, { info, aad }))).toBe(
        bytesToHex(contentKey),
      );
    }
    await expectCode(hpkeOpen(recipients[0]!.secretKey, sealed[1]!.enc, sealed[1]!.ciphertext, { info, aad }), 'DECRYPTION_FAILED');
    expect(await hpkeSealToMany([], contentKey)).toEqual([]);
    await expectCode(hpkeSealToMany([alice.publicKey, alice.publicKey.subarray(2)], contentKey), 'INVALID_LENGTH');
  });

  it('round-trips the secondary DHKEM(X25519) suites', async () => {
    const { DhkemX25519HkdfSha256 } = await import('@hpke/core');
    const kem = new DhkemX25519HkdfSha256();
    const pair = await kem.generateKeyPair();
    const publicKey = new Uint8Array(await kem.serializePublicKey(pair.publicKey));
    const secretKey = new Uint8Array(await kem.serializePrivateKey(pair.privateKey));
    for (const suite of [
      'DHKEM-X25519/HKDF-SHA256/AES-128-GCM',
      'DHKEM-X25519/HKDF-SHA256/AES-256-GCM',
      'DHKEM-X25519/HKDF-SHA256/ChaCha20Poly1305',
    ] as const) {
      const { enc, ciphertext } = await hpkeSeal(publicKey, contentKey, { info, aad, suite });
      expect(enc.length).toBe(32);
      expect(bytesToHex(await hpkeOpen(secretKey, enc, ciphertext, { info, aad, suite }))).toBe(bytesToHex(contentKey));
      const tampered = ciphertext.slice();
      tampered[3]! ^= 1;
      await expectCode(hpkeOpen(secretKey, enc, tampered, { info, aad, suite }), 'DECRYPTION_FAILED');
    }
  });

  it('property: opening random well-sized input gives DECRYPTION_FAILED, never another error', async () => {
    const key = XWingDecapsulationKey.fromSecretKey(alice.secretKey);
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1120, maxLength: 1120 }),
        fc.uint8Array({ minLength: 16, maxLength: 80 }),
        async (enc, ciphertext) => {
          await expectCode(hpkeOpen(key, enc, ciphertext), 'DECRYPTION_FAILED');
        },
      ),
      { numRuns: 12 },
    );
  });

  it('property: seal/open round-trips arbitrary plaintext, info and aad', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 40 }),
        async (plaintext, someInfo, someAad) => {
          const { enc, ciphertext } = await hpkeSeal(bob.publicKey, plaintext, { info: someInfo, aad: someAad });
          const opened = await hpkeOpen(bob.secretKey, enc, ciphertext, { info: someInfo, aad: someAad });
          expect(bytesToHex(opened)).toBe(bytesToHex(plaintext));
        },
      ),
      { numRuns: 6 },
    );
  });
});
