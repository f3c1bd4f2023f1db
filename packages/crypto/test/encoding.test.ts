import fc from 'fast-check';
import {
  base64urlToBytes,
  bytesToBase64url,
  bytesToHex,
  bytesToMultibase,
  bytesToUtf8,
  concatBytes,
  hexToBytes,
  multibaseToBytes,
  utf8ToBytes,
  type MultibaseName,
} from '../src/encoding.js';
import { CryptoError } from '../src/errors.js';
import vectors from './vectors/multibase-rfc4648.json';

const BASES: MultibaseName[] = ['base58btc', 'base64url', 'base32', 'base16'];

/** Strings of whole Unicode scalar values (no lone surrogates), weighted towards multi-byte forms. */
const codePoints = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0x7ff }),
      fc.integer({ min: 0x800, max: 0xd7ff }),
      fc.integer({ min: 0xe000, max: 0xffff }),
      fc.integer({ min: 0x10000, max: 0x10ffff }),
    ),
    { maxLength: 40 },
  )
  .map((cps) => String.fromCodePoint(...cps));

function expectInvalid(fn: () => unknown, code = 'INVALID_ENCODING'): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(CryptoError);
  expect((error as CryptoError).code).toBe(code);
}

describe('published vectors', () => {
  test.each(vectors.multibase)('multibase spec: $base58btc', (v) => {
    const bytes = utf8ToBytes(v.utf8);
    for (const base of BASES) {
      expect(bytesToMultibase(bytes, base)).toBe(v[base]);
      expect(multibaseToBytes(v[base])).toEqual(bytes);
      expect(multibaseToBytes(v[base], base)).toEqual(bytes);
    }
  });

  test.each(vectors.rfc4648)('RFC 4648 §10: "$utf8"', (v) => {
    const bytes = utf8ToBytes(v.utf8);
    expect(bytesToHex(bytes)).toBe(v.base16);
    expect(hexToBytes(v.base16)).toEqual(bytes);
    expect(bytesToBase64url(bytes)).toBe(v.base64url);
    expect(base64urlToBytes(v.base64url)).toEqual(bytes);
    expect(bytesToMultibase(bytes, 'base32')).toBe('b' + v.base32);
    expect(multibaseToBytes('b' + v.base32)).toEqual(bytes);
  });
});

describe('round trips', () => {
  test('hex matches Node and round-trips; uppercase input is accepted', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const hex = bytesToHex(bytes);
        expect(hex).toBe(Buffer.from(bytes).toString('hex'));
        expect(hexToBytes(hex)).toEqual(bytes);
        expect(hexToBytes(hex.toUpperCase())).toEqual(bytes);
      }),
    );
  });

  test('base64url matches Node and round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = bytesToBase64url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(base64urlToBytes(text)).toEqual(bytes);
      }),
    );
  });

  test.each(BASES)('multibase %s round-trips, leading zeros included', (base) => {
    fc.assert(
      fc.property(fc.nat(4), fc.uint8Array({ maxLength: 80 }), (zeros, rest) => {
        const bytes = concatBytes(new Uint8Array(zeros), rest);
        const text = bytesToMultibase(bytes, base);
        expect(multibaseToBytes(text)).toEqual(bytes);
        expect(multibaseToBytes(text, base)).toEqual(bytes);
      }),
    );
  });

  test('UTF-8 round-trips any string of whole code points', () => {
    fc.assert(
      fc.property(codePoints, (text) => {
        const bytes = utf8ToBytes(text);
        expect(bytes).toEqual(new Uint8Array(Buffer.from(text, 'utf8')));
        expect(bytesToUtf8(bytes)).toBe(text);
      }),
    );
  });

  test('a leading byte-order mark is kept as data', () => {
    expect(bytesToUtf8(new Uint8Array([0xef, 0xbb, 0xbf, 0x61]))).toBe('\ufeffa');
  });

  test('concatBytes joins in order and copies', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 6 }), (parts) => {
        const joined = concatBytes(...parts);
        expect(joined).toEqual(new Uint8Array(Buffer.concat(parts)));
        if (parts[0] !== undefined && parts[0].length > 0) expect(joined.buffer).not.toBe(parts[0].buffer);
      }),
    );
  });
});

describe('decoders are strict: one spelling per value', () => {
  // Any string a decoder accepts must be exactly what the encoder writes for the result.
  const text = fc.string({ unit: 'binary-ascii', maxLength: 24 });
  const alphabetText = (chars: string) => fc.string({ unit: fc.constantFrom(...chars.split('')), maxLength: 24 });
  const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/';
  const B32 = 'abcdefghijklmnopqrstuvwxyz234567ABC=';

  const canonical = (decode: (s: string) => Uint8Array, encode: (b: Uint8Array) => string, normalise = (s: string) => s) =>
    fc.property(fc.oneof(text, alphabetText(B58), alphabetText(B64), alphabetText(B32)), (s) => {
      let bytes: Uint8Array;
      try {
        bytes = decode(s);
      } catch (e) {
        expect(e).toBeInstanceOf(CryptoError);
        expect((e as CryptoError).code).toBe('INVALID_ENCODING');
        return;
      }
      expect(encode(bytes)).toBe(normalise(s));
    });

  test('hex (case-insensitive)', () => fc.assert(canonical(hexToBytes, bytesToHex, (s) => s.toLowerCase())));
  test('base64url', () => fc.assert(canonical(base64urlToBytes, bytesToBase64url)));
  test.each(BASES)('multibase %s', (base) => {
    const prefix = bytesToMultibase(new Uint8Array(0), base);
    fc.assert(canonical((s) => multibaseToBytes(prefix + s), (b) => bytesToMultibase(b, base).slice(1)));
  });

  test.each(['abc', '0g', 'zz', ' 00', '00 ', '0x00', '٠٠', '\u0000\u0000'])('hex %j is rejected', (bad) => {
    expectInvalid(() => hexToBytes(bad));
  });

  test.each(['Zg==', 'Zg=', 'Z', 'Zh', 'Zm9+', 'Zm9/', 'Zm 9v', 'Zm9vY', 'Zm8\n', 'Zm8é'])('base64url %j is rejected', (bad) => {
    expectInvalid(() => base64urlToBytes(bad));
  });

  test.each([
    ['', 'empty string'],
    ['7paNL19xttacUY', 'no prefix'],
    ['meWVzIG1hbmkgIQ', 'base64 (padded alphabet) is not supported'],
    ['F796573206D616E692021', 'uppercase base16 prefix'],
    ['BPFSXGIDNMFXGSIBB', 'uppercase base32 prefix'],
    ['f796573206D616E692021', 'uppercase base16 digits'],
    ['f7', 'odd base16 length'],
    ['bPFSXGIDNMFXGSIBB', 'uppercase base32 digits'],
    ['bmy======', 'base32 padding'],
    ['bmz', 'base32 with non-zero trailing bits'],
    ['bm', 'impossible base32 length'],
    ['z0', 'base58 zero digit'],
    ['zO', 'base58 capital O'],
    ['zI', 'base58 capital I'],
    ['zl', 'base58 lowercase L'],
    ['z7paNL19xttacUY ', 'trailing space'],
    ['uZg==', 'base64url padding'],
  ])('multibase %j is rejected (%s)', (bad) => {
    expectInvalid(() => multibaseToBytes(bad));
  });

  test('an expected base must match the prefix', () => {
    expectInvalid(() => multibaseToBytes('ueWVzIG1hbmkgIQ', 'base58btc'));
  });

  test.each([
    [[0xff], 'invalid byte'],
    [[0xc0, 0x80], 'overlong NUL'],
    [[0xed, 0xa0, 0x80], 'UTF-16 surrogate'],
    [[0xe2, 0x82], 'truncated sequence'],
    [[0xf4, 0x90, 0x80, 0x80], 'above U+10FFFF'],
  ])('UTF-8 %j is rejected (%s)', (bytes) => {
    expectInvalid(() => bytesToUtf8(new Uint8Array(bytes)));
  });

  test('non-string and non-bytes inputs give typed errors', () => {
    expectInvalid(() => hexToBytes(42 as unknown as string));
    expectInvalid(() => base64urlToBytes(null as unknown as string));
    expectInvalid(() => multibaseToBytes(undefined as unknown as string));
    expectInvalid(() => bytesToHex('00' as unknown as Uint8Array), 'INVALID_ARGUMENT');
    expectInvalid(() => bytesToMultibase([1, 2] as unknown as Uint8Array), 'INVALID_ARGUMENT');
    expectInvalid(() => bytesToMultibase(new Uint8Array(1), 'base36' as MultibaseName), 'INVALID_ARGUMENT');
    expectInvalid(() => concatBytes(new Uint8Array(1), 'x' as unknown as Uint8Array), 'INVALID_ARGUMENT');
    expectInvalid(() => utf8ToBytes(5 as unknown as string), 'INVALID_ARGUMENT');
  });
});
