import { createHash, createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { bytesToHex, hexToBytes, utf8ToBytes } from '../src/encoding.js';
import { CryptoError } from '../src/errors.js';
import {
  createSha256,
  hkdf,
  hkdfExpand,
  hkdfExtract,
  hmac,
  nobleSha256Engine,
  sha256,
  sha256Hash,
  sha3_256,
  sha512,
  type HashName,
  type Sha256Hash,
} from '../src/hash.js';
import vectors from './vectors/hash-fips-rfc5869.json';

test.each(vectors.sha)('NIST examples for %j', (v) => {
  const data = utf8ToBytes(v.utf8);
  expect(bytesToHex(sha256(data))).toBe(v.sha256);
  expect(bytesToHex(sha512(data))).toBe(v.sha512);
  expect(bytesToHex(sha3_256(data))).toBe(v.sha3_256);
});

// createSha256 runs on node:crypto here; the noble engine is what browsers get. Both must agree.
describe.each<[string, () => Sha256Hash]>([
  ['node:crypto', createSha256],
  ['@noble/hashes', () => sha256Hash(nobleSha256Engine())],
])('incremental SHA-256 on %s', (_name, start) => {
  test.each(vectors.sha)('NIST example %j, fed one byte at a time', (v) => {
    const hash = start();
    for (const byte of utf8ToBytes(v.utf8)) hash.update(Uint8Array.of(byte));
    expect(bytesToHex(hash.digest())).toBe(v.sha256);
  });

  test('any split of the input gives the one-shot digest', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 6 }), (data, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
        const hash = start();
        let from = 0;
        for (const to of [...points, data.length]) {
          hash.update(data.subarray(from, to));
          from = to;
        }
        expect(bytesToHex(hash.digest())).toBe(bytesToHex(sha256(data)));
      }),
      { numRuns: 100 },
    );
  });

  test('non-bytes input and use after digest are typed errors', () => {
    const hash = start();
    expect(() => hash.update('abc' as unknown as Uint8Array)).toThrow(CryptoError);
    expect(hash.update(new Uint8Array(3)).digest()).toHaveLength(32);
    expect(() => hash.update(new Uint8Array(1))).toThrow(CryptoError);
    expect(() => hash.digest()).toThrow(CryptoError);
  });
});

test.each(vectors.hkdf)('RFC 5869 $name: extract, expand and the combined call', (v) => {
  const [ikm, salt, info] = [hexToBytes(v.ikm), hexToBytes(v.salt), hexToBytes(v.info)];
  const prk = hkdfExtract('SHA-256', ikm, salt);
  expect(bytesToHex(prk)).toBe(v.prk);
  expect(bytesToHex(hkdfExpand('SHA-256', prk, info, v.length))).toBe(v.okm);
  expect(bytesToHex(hkdf('SHA-256', ikm, salt, info, v.length))).toBe(v.okm);
});

test('hashes agree with node:crypto on random input', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      expect(bytesToHex(sha256(data))).toBe(createHash('sha256').update(data).digest('hex'));
      expect(bytesToHex(sha512(data))).toBe(createHash('sha512').update(data).digest('hex'));
      expect(bytesToHex(sha3_256(data))).toBe(createHash('sha3-256').update(data).digest('hex'));
    }),
    { numRuns: 50 },
  );
});

test.each<[HashName, string]>([
  ['SHA-256', 'sha256'],
  ['SHA-512', 'sha512'],
])('HKDF-%s and HMAC agree with node:crypto', (name, nodeName) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ maxLength: 64 }),
      fc.integer({ min: 1, max: 300 }), // node's hkdfSync refuses length 0
      (ikm, salt, info, length) => {
        const ours = hkdf(name, ikm, salt, info, length);
        expect(bytesToHex(ours)).toBe(Buffer.from(hkdfSync(nodeName, ikm, salt, info, length)).toString('hex'));
        expect(bytesToHex(hmac(name, ikm, info))).toBe(createHmac(nodeName, ikm).update(info).digest('hex'));
      },
    ),
    { numRuns: 50 },
  );
});

describe('bad input gives typed errors', () => {
  const expectCode = (fn: () => unknown, code: string) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(CryptoError);
      expect((e as CryptoError).code).toBe(code);
      return;
    }
    throw new Error('expected a CryptoError');
  };

  test('output longer than 255·HashLen, negative or fractional', () => {
    expectCode(() => hkdf('SHA-256', new Uint8Array(32), undefined, undefined, 255 * 32 + 1), 'INVALID_ARGUMENT');
    expectCode(() => hkdf('SHA-512', new Uint8Array(32), undefined, undefined, 255 * 64 + 1), 'INVALID_ARGUMENT');
    expectCode(() => hkdf('SHA-256', new Uint8Array(32), undefined, undefined, -1), 'INVALID_ARGUMENT');
    expectCode(() => hkdfExpand('SHA-256', new Uint8Array(32), undefined, 1.5), 'INVALID_ARGUMENT');
    expect(hkdf('SHA-256', new Uint8Array(32), undefined, undefined, 255 * 32)).toHaveLength(8160);
  });

  test('a PRK shorter than HashLen', () => {
    expectCode(() => hkdfExpand('SHA-256', new Uint8Array(31), undefined, 32), 'INVALID_LENGTH');
    expectCode(() => hkdfExpand('SHA-512', new Uint8Array(32), undefined, 32), 'INVALID_LENGTH');
  });

  test('non-bytes input and unknown hash names', () => {
    expectCode(() => sha256('abc' as unknown as Uint8Array), 'INVALID_ARGUMENT');
    expectCode(() => sha3_256([1] as unknown as Uint8Array), 'INVALID_ARGUMENT');
    expectCode(() => hkdf('SHA-1' as HashName, new Uint8Array(32), undefined, undefined, 32), 'INVALID_ARGUMENT');
    expectCode(() => hmac('MD5' as HashName, new Uint8Array(32), new Uint8Array(1)), 'INVALID_ARGUMENT');
  });
});
