import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { SCALAR_LENGTH, SCALAR_ORDER, decodeScalar, encodeScalar, hashToScalar, randomScalar } from '../src/bls12-381/scalar.js';
import { isCryptoError } from '../src/errors.js';
import { expectCryptoError } from './expect-crypto-error.js';

const r = SCALAR_ORDER;

test('r is the BLS12-381 group order', () => {
  expect(r).toBe(0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n);
  expect(SCALAR_LENGTH).toBe(32);
});

test('randomScalar is in [1, r) and does not repeat', () => {
  const seen = new Set<bigint>();
  for (let i = 0; i < 200; i++) {
    const k = randomScalar();
    expect(k > 0n && k < r).toBe(true);
    seen.add(k);
  }
  expect(seen.size).toBe(200);
  // top bit is masked, never set: every value is < 2^255 (r's top byte is 0x73)
});

test('encode/decode round-trip every scalar in [0, r), 32 bytes big-endian', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: r - 1n }), (k) => {
      const bytes = encodeScalar(k);
      expect(bytes).toHaveLength(32);
      expect(BigInt('0x' + (bytesToHex(bytes) || '0'))).toBe(k);
      expect(decodeScalar(bytes)).toBe(k);
    }),
  );
  expect(bytesToHex(encodeScalar(1n))).toBe('00'.repeat(31) + '01');
});

test('decode refuses non-canonical scalars, wrong lengths and (on request) zero', () => {
  expectCryptoError(() => decodeScalar(encodeScalar(r - 1n).map((b, i) => (i === 31 ? b + 1 : b))), 'INVALID_SCALAR'); // = r
  expectCryptoError(() => decodeScalar(new Uint8Array(32).fill(0xff)), 'INVALID_SCALAR');
  expectCryptoError(() => decodeScalar(new Uint8Array(31)), 'INVALID_LENGTH');
  expectCryptoError(() => decodeScalar(new Uint8Array(33)), 'INVALID_LENGTH');
  expect(decodeScalar(new Uint8Array(32))).toBe(0n);
  expectCryptoError(() => decodeScalar(new Uint8Array(32), { rejectZero: true }), 'INVALID_SCALAR');
  expectCryptoError(() => encodeScalar(r), 'INVALID_SCALAR');
  expectCryptoError(() => encodeScalar(-1n), 'INVALID_SCALAR');
});

test('decode of any byte string: a scalar below r or a typed error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), (bytes) => {
      try {
        const k = decodeScalar(bytes);
        expect(encodeScalar(k)).toEqual(bytes);
      } catch (err) {
        expect(isCryptoError(err)).toBe(true);
      }
    }),
  );
});

test('hashToScalar is RFC 9380 hash_to_field into Fr (expand_message_xmd SHA-256, L = 48)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), fc.string({ minLength: 1, maxLength: 30 }), (msg, dst) => {
      const uniform = expand_message_xmd(msg, new TextEncoder().encode(dst), 48, sha256);
      expect(hashToScalar(msg, dst)).toBe(BigInt('0x' + bytesToHex(uniform)) % r);
    }),
    { numRuns: 50 },
  );
  expect(hashToScalar(new Uint8Array([1]), 'A')).not.toBe(hashToScalar(new Uint8Array([1]), 'B'));
  expectCryptoError(() => hashToScalar(new Uint8Array([1]), ''), 'INVALID_ARGUMENT');
});
