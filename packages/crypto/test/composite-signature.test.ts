import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import fc from 'fast-check';
import {
  COMPOSITE_SIGNATURE_LENGTHS,
  _usePureJsEd25519ForTesting,
  compositeKeyPairFromSeed,
  compositeSign,
  compositeVerify,
  generateCompositeKeyPair,
} from '../src/composite-signature.js';
import { expectCryptoError } from './expect-crypto-error.js';

const seed = new Uint8Array(32).map((_, i) => i);
const alice = compositeKeyPairFromSeed(seed);
const bob = generateCompositeKeyPair();
const message = utf8ToBytes('inception document of did:milagro:alice');
const context = utf8ToBytes('milagro/identity');
const signature = compositeSign(alice.secretKey, message, context);

const ED = 32;
const ED_SIG = 64;

describe('composite Ed25519 + ML-DSA-65 signature', () => {
  it('has the documented encoding lengths', () => {
    expect(alice.publicKey.length).toBe(32 + 1952);
    expect(alice.secretKey.length).toBe(64);
    expect(signature.length).toBe(64 + 3309);
    expect(COMPOSITE_SIGNATURE_LENGTHS).toMatchObject({ publicKey: 1984, secretKey: 64, signature: 3373, seed: 32 });
  });

  it('verifies its own signatures, with and without a context', () => {
    expect(compositeVerify(alice.publicKey, message, signature, context)).toBe(true);
    const noContext = compositeSign(bob.secretKey, message);
    expect(compositeVerify(bob.publicKey, message, noContext)).toBe(true);
    expect(compositeVerify(bob.publicKey, message, noContext, new Uint8Array(0))).toBe(true);
  });

  it('derives the same key pair from the same seed, and different ones from different seeds', () => {
    const again = compositeKeyPairFromSeed(seed.slice());
    expect(bytesToHex(again.publicKey)).toBe(bytesToHex(alice.publicKey));
    expect(bytesToHex(again.secretKey)).toBe(bytesToHex(alice.secretKey));
    const other = compositeKeyPairFromSeed(seed.map((b) => b ^ 1));
    expect(bytesToHex(other.publicKey)).not.toBe(bytesToHex(alice.publicKey));
    // The two component seeds are independent HKDF outputs, not copies of the input seed.
    expect(bytesToHex(alice.secretKey.subarray(0, 32))).not.toBe(bytesToHex(alice.secretKey.subarray(32)));
    expect(bytesToHex(alice.secretKey.subarray(0, 32))).not.toBe(bytesToHex(seed));
  });

  it('keeps its seed derivation stable (identities depend on it)', () => {
    // Component seeds = HKDF-SHA-512(ikm = seed, salt = "Milagro composite signature key v1",
    // info = "Ed25519 seed" | "ML-DSA-65 seed", L = 32), cross-checked with Python's hmac/hashlib.
    expect(bytesToHex(alice.secretKey)).toBe(
      'da7ebfc672bbd52a1ff8cf4ccfd707299b61d001d1f29bc53e633abb88bae128' +
        '8a961b483d4f2fc7341bbecacf4d72c8e09bfaff1b61448fb3cf8de1080fc9fb',
    );
    expect(bytesToHex(alice.publicKey.subarray(0, 32))).toBe('e665efcad39b51dd3869306c30f4aff560ab047afce03b7f96a6694d4b3191dd');
    expect(bytesToHex(sha256(alice.publicKey))).toBe('52287002039d6c9b67313716437bbefc2c4bbd18de2a655f5efa74a63e6778de');
  });

  it('fails for the wrong key, message or context', () => {
    expect(compositeVerify(bob.publicKey, message, signature, context)).toBe(false);
    expect(compositeVerify(alice.publicKey, utf8ToBytes('another message'), signature, context)).toBe(false);
    expect(compositeVerify(alice.publicKey, message, signature, utf8ToBytes('milagro/other'))).toBe(false);
    expect(compositeVerify(alice.publicKey, message, signature)).toBe(false);
  });

  it('fails when either half is replaced by a valid half from another signature', () => {
    const otherMessage = compositeSign(alice.secretKey, utf8ToBytes('other'), context);
    const bobs = compositeSign(bob.secretKey, message, context);
    const swapEd = concatBytes(otherMessage.subarray(0, ED_SIG), signature.subarray(ED_SIG));
    const swapMlDsa = concatBytes(signature.subarray(0, ED_SIG), otherMessage.subarray(ED_SIG));
    const bobsEd = concatBytes(bobs.subarray(0, ED_SIG), signature.subarray(ED_SIG));
    const bobsMlDsa = concatBytes(signature.subarray(0, ED_SIG), bobs.subarray(ED_SIG));
    for (const forged of [swapEd, swapMlDsa, bobsEd, bobsMlDsa]) {
      expect(compositeVerify(alice.publicKey, message, forged, context)).toBe(false);
    }
  });

  it('fails when either half is zeroed or has one flipped bit', () => {
    for (const offset of [0, 40, ED_SIG, ED_SIG + 1000, signature.length - 1]) {
      const flipped = signature.slice();
      flipped[offset]! ^= 0x01;
      expect(compositeVerify(alice.publicKey, message, flipped, context)).toBe(false);
    }
    const zeroEd = signature.slice();
    zeroEd.fill(0, 0, ED_SIG);
    const zeroMlDsa = signature.slice();
    zeroMlDsa.fill(0, ED_SIG);
    expect(compositeVerify(alice.publicKey, message, zeroEd, context)).toBe(false);
    expect(compositeVerify(alice.publicKey, message, zeroMlDsa, context)).toBe(false);
  });

  it('cannot be stripped: neither half is a standalone signature over the message', () => {
    const edPublicKey = alice.publicKey.subarray(0, ED);
    const mlDsaPublicKey = alice.publicKey.subarray(ED);
    const edHalf = signature.subarray(0, ED_SIG);
    const mlDsaHalf = signature.subarray(ED_SIG);
    expect(ed25519.verify(edHalf, message, edPublicKey)).toBe(false);
    expect(ml_dsa65.verify(mlDsaHalf, message, mlDsaPublicKey)).toBe(false);
    expect(ml_dsa65.verify(mlDsaHalf, message, mlDsaPublicKey, { context })).toBe(false);
    // ...but each half does verify over the LAMPS message representative M', which proves the
    // representative is built as documented: Prefix ‖ Label ‖ len(ctx) ‖ ctx ‖ SHA-512(M).
    const label = utf8ToBytes('COMPSIG-MLDSA65-Ed25519-SHA512');
    const representative = concatBytes(
      utf8ToBytes('CompositeAlgorithmSignatures2025'),
      label,
      Uint8Array.of(context.length),
      context,
      sha512(message),
    );
    expect(ed25519.verify(edHalf, representative, edPublicKey)).toBe(true);
    expect(ml_dsa65.verify(mlDsaHalf, representative, mlDsaPublicKey, { context: label })).toBe(true);
  });

  it('gives identical Ed25519 halves and verdicts with the pure-JS backend', () => {
    // The default backend under Node is node:crypto, reached through process.getBuiltinModule.
    expect(typeof process.getBuiltinModule).toBe('function');
    _usePureJsEd25519ForTesting(true);
    try {
      const pureJs = compositeSign(alice.secretKey, message, context);
      expect(bytesToHex(pureJs.subarray(0, ED_SIG))).toBe(bytesToHex(signature.subarray(0, ED_SIG)));
      expect(compositeVerify(alice.publicKey, message, signature, context)).toBe(true);
      expect(compositeVerify(alice.publicKey, message, pureJs, context)).toBe(true);
      expect(compositeVerify(bob.publicKey, message, signature, context)).toBe(false);
    } finally {
      _usePureJsEd25519ForTesting(false);
    }
  });

  it('rejects wrong lengths with INVALID_LENGTH', () => {
    expectCryptoError(() => compositeKeyPairFromSeed(new Uint8Array(31)), 'INVALID_LENGTH');
    expectCryptoError(() => compositeSign(alice.secretKey.subarray(1), message), 'INVALID_LENGTH');
    expectCryptoError(() => compositeSign(alice.secretKey, message, new Uint8Array(256)), 'INVALID_LENGTH');
    expectCryptoError(() => compositeVerify(alice.publicKey.subarray(1), message, signature), 'INVALID_LENGTH');
    expectCryptoError(() => compositeVerify(alice.publicKey, message, signature.subarray(1)), 'INVALID_LENGTH');
    expectCryptoError(() => compositeVerify(alice.publicKey, message, signature, new Uint8Array(256)), 'INVALID_LENGTH');
    // The longest allowed context works.
    const longContext = new Uint8Array(255).fill(7);
    expect(compositeVerify(alice.publicKey, message, compositeSign(alice.secretKey, message, longContext), longContext)).toBe(true);
  });

  it('property: verify never throws for random well-sized inputs, and returns false', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1984, maxLength: 1984 }),
        fc.uint8Array({ minLength: 3373, maxLength: 3373 }),
        fc.uint8Array({ maxLength: 64 }),
        (publicKey, randomSignature, randomMessage) => {
          expect(compositeVerify(publicKey, randomMessage, randomSignature)).toBe(false);
          expect(compositeVerify(alice.publicKey, randomMessage, randomSignature)).toBe(false);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('property: wrong-length keys and signatures give INVALID_LENGTH, never another error', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 4000 }).filter((b) => b.length !== 1984),
        fc.uint8Array({ maxLength: 4000 }).filter((b) => b.length !== 3373),
        (publicKey, badSignature) => {
          expectCryptoError(() => compositeVerify(publicKey, message, signature), 'INVALID_LENGTH');
          expectCryptoError(() => compositeVerify(alice.publicKey, message, badSignature), 'INVALID_LENGTH');
        },
      ),
      { numRuns: 50 },
    );
  });
});
