/**
 * Byte encodings used across Milagro: hex, base64url, multibase (base58btc, base64url, base32,
 * base16), UTF-8 and concatenation.
 *
 * Every decoder is strict: exactly one string decodes to a given byte string (no padding, no
 * whitespace, no mixed case where the alphabet is single-case, no non-zero trailing bits), and
 * anything else is rejected with `CryptoError('INVALID_ENCODING')`. Identifiers and signatures are
 * compared as strings elsewhere, so a lenient decoder would let two spellings of one value exist.
 */
import { bytesToHex as nobleBytesToHex, concatBytes as nobleConcatBytes, hexToBytes as nobleHexToBytes } from '@noble/hashes/utils.js';
import { CryptoError } from './errors.js';

function invalid(what: string): CryptoError {
  return new CryptoError('INVALID_ENCODING', `not a valid ${what} string`);
}

function requireBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', `${what} expects a Uint8Array`);
}

// ---------------------------------------------------------------------------------------------
// hex

/** Lowercase hex of `bytes`. */
export function bytesToHex(bytes: Uint8Array): string {
  requireBytes(bytes, 'bytesToHex');
  return nobleBytesToHex(bytes);
}

/**
 * Bytes of a hex string: even length, characters `0-9a-fA-F` only (case-insensitive, since hex
 * from other tools is often uppercase; {@link bytesToHex} always writes lowercase).
 *
 * @throws CryptoError `INVALID_ENCODING` for odd length, other characters, or a non-string
 */
export function hexToBytes(hex: string): Uint8Array {
  if (typeof hex !== 'string') throw invalid('hex');
  try {
    return nobleHexToBytes(hex);
  } catch (cause) {
    throw new CryptoError('INVALID_ENCODING', 'not a valid hex string', { cause });
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 4648 power-of-two bases (16, 32, 64) without padding

interface Rfc4648Alphabet {
  readonly name: string;
  readonly bitsPerChar: number;
  readonly chars: string;
  /** ASCII code → digit value, or -1. */
  readonly values: Int8Array;
}

function rfc4648Alphabet(name: string, chars: string): Rfc4648Alphabet {
  const values = new Int8Array(128).fill(-1);
  for (let i = 0; i < chars.length; i++) values[chars.charCodeAt(i)] = i;
  return { name, bitsPerChar: Math.log2(chars.length), chars, values };
}

const BASE16_LOWER = rfc4648Alphabet('base16', '0123456789abcdef');
const BASE32_LOWER = rfc4648Alphabet('base32', 'abcdefghijklmnopqrstuvwxyz234567');
const BASE64_URL = rfc4648Alphabet('base64url', 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');

function rfc4648Encode(bytes: Uint8Array, alphabet: Rfc4648Alphabet): string {
  const { bitsPerChar, chars } = alphabet;
  const mask = (1 << bitsPerChar) - 1;
  const out: string[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) {
    acc = (acc << 8) | (bytes[i] as number);
    bits += 8;
    while (bits >= bitsPerChar) {
      bits -= bitsPerChar;
      out.push(chars[(acc >> bits) & mask] as string);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push(chars[(acc << (bitsPerChar - bits)) & mask] as string);
  return out.join('');
}

function rfc4648Decode(text: string, alphabet: Rfc4648Alphabet): Uint8Array {
  if (typeof text !== 'string') throw invalid(alphabet.name);
  const { bitsPerChar, values } = alphabet;
  const out = new Uint8Array(Math.floor((text.length * bitsPerChar) / 8));
  let acc = 0;
  let bits = 0;
  let j = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (values[code] as number) : -1;
    if (value < 0) throw invalid(alphabet.name);
    acc = (acc << bitsPerChar) | value;
    bits += bitsPerChar;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  // A whole character of leftover bits means an impossible length; set leftover bits mean a
  // second spelling of the same bytes. Both are rejected.
  if (bits >= bitsPerChar || acc !== 0) throw invalid(alphabet.name);
  return out;
}

/** base64url (RFC 4648 §5) of `bytes`, without padding. */
export function bytesToBase64url(bytes: Uint8Array): string {
  requireBytes(bytes, 'bytesToBase64url');
  return rfc4648Encode(bytes, BASE64_URL);
}

/**
 * Bytes of an unpadded base64url string.
 *
 * @throws CryptoError `INVALID_ENCODING` for padding, `+`/`/`, whitespace, an impossible length
 *   or non-zero trailing bits
 */
export function base64urlToBytes(text: string): Uint8Array {
  return rfc4648Decode(text, BASE64_URL);
}

// ---------------------------------------------------------------------------------------------
// base58btc (the Bitcoin alphabet; used by multibase 'z', CIDv0 and did:key)

const BASE58_CHARS = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const BASE58_VALUES = (() => {
  const values = new Int8Array(128).fill(-1);
  for (let i = 0; i < BASE58_CHARS.length; i++) values[BASE58_CHARS.charCodeAt(i)] = i;
  return values;
})();
/** log(256) / log(58): output digits per input byte, rounded up. */
const BASE58_DIGITS_PER_BYTE = 1.38;
/** log(58) / log(256). */
const BASE58_BYTES_PER_DIGIT = 0.733;

// Quadratic-time radix conversion: fine for keys, hashes and identifiers (what multibase is for),
// not meant for bulk data.
function base58Encode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  const digits = new Uint8Array(Math.ceil((bytes.length - zeros) * BASE58_DIGITS_PER_BYTE) + 1);
  let used = 0; // digits[digits.length - used ..] hold the number so far, most significant first
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i] as number;
    let k = 0;
    for (let p = digits.length - 1; (carry !== 0 || k < used) && p >= 0; p--, k++) {
      carry += 256 * (digits[p] as number);
      digits[p] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    used = k;
  }
  let out = '1'.repeat(zeros);
  for (let p = digits.length - used; p < digits.length; p++) out += BASE58_CHARS[digits[p] as number];
  return out;
}

function base58Decode(text: string): Uint8Array {
  if (typeof text !== 'string') throw invalid('base58btc');
  let zeros = 0;
  while (zeros < text.length && text.charCodeAt(zeros) === 0x31 /* '1' */) zeros++;
  const bytes = new Uint8Array(Math.ceil((text.length - zeros) * BASE58_BYTES_PER_DIGIT) + 1);
  let used = 0;
  for (let i = zeros; i < text.length; i++) {
    const code = text.charCodeAt(i);
    let carry = code < 128 ? (BASE58_VALUES[code] as number) : -1;
    if (carry < 0) throw invalid('base58btc');
    let k = 0;
    for (let p = bytes.length - 1; (carry !== 0 || k < used) && p >= 0; p--, k++) {
      carry += 58 * (bytes[p] as number);
      bytes[p] = carry & 0xff;
      carry >>>= 8;
    }
    used = k;
  }
  const out = new Uint8Array(zeros + used);
  out.set(bytes.subarray(bytes.length - used), zeros);
  return out;
}

// ---------------------------------------------------------------------------------------------
// multibase

/** The multibase encodings Milagro reads and writes, with their prefix characters. */
export type MultibaseName = 'base58btc' | 'base64url' | 'base32' | 'base16';

const MULTIBASE: Record<MultibaseName, { prefix: string; encode(b: Uint8Array): string; decode(s: string): Uint8Array }> = {
  base58btc: { prefix: 'z', encode: base58Encode, decode: base58Decode },
  base64url: { prefix: 'u', encode: (b) => rfc4648Encode(b, BASE64_URL), decode: (s) => rfc4648Decode(s, BASE64_URL) },
  base32: { prefix: 'b', encode: (b) => rfc4648Encode(b, BASE32_LOWER), decode: (s) => rfc4648Decode(s, BASE32_LOWER) },
  base16: { prefix: 'f', encode: (b) => rfc4648Encode(b, BASE16_LOWER), decode: (s) => rfc4648Decode(s, BASE16_LOWER) },
};
const MULTIBASE_BY_PREFIX = new Map(Object.entries(MULTIBASE).map(([name, codec]) => [codec.prefix, name as MultibaseName]));

/**
 * Multibase string of `bytes`: a prefix character naming the base (`z` base58btc, `u` base64url,
 * `b` base32 lowercase, `f` base16 lowercase), then the unpadded encoding.
 *
 * @param base - defaults to `base58btc`
 */
export function bytesToMultibase(bytes: Uint8Array, base: MultibaseName = 'base58btc'): string {
  requireBytes(bytes, 'bytesToMultibase');
  const codec = MULTIBASE[base];
  if (codec === undefined) throw new CryptoError('INVALID_ARGUMENT', `unsupported multibase ${String(base)}`);
  return codec.prefix + codec.encode(bytes);
}

/**
 * Bytes of a multibase string in one of the {@link MultibaseName} bases. Canonical spellings
 * only: lowercase for base32/base16, no padding.
 *
 * @param expected - if given, the string must use exactly this base
 * @throws CryptoError `INVALID_ENCODING` for an unknown or unexpected prefix, or a bad body
 */
export function multibaseToBytes(text: string, expected?: MultibaseName): Uint8Array {
  if (typeof text !== 'string' || text.length === 0) throw invalid('multibase');
  const base = MULTIBASE_BY_PREFIX.get(text[0] as string);
  if (base === undefined || (expected !== undefined && base !== expected)) {
    throw new CryptoError('INVALID_ENCODING', `unsupported or unexpected multibase prefix`);
  }
  return MULTIBASE[base].decode(text.slice(1));
}

// ---------------------------------------------------------------------------------------------
// UTF-8 and concatenation

const utf8Encoder = new TextEncoder();
// fatal: malformed input is an error, not U+FFFD; ignoreBOM: a leading BOM is kept as data.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of `text` (lone surrogates become U+FFFD, as `TextEncoder` does). */
export function utf8ToBytes(text: string): Uint8Array {
  if (typeof text !== 'string') throw new CryptoError('INVALID_ARGUMENT', 'utf8ToBytes expects a string');
  return utf8Encoder.encode(text);
}

/**
 * The string encoded by UTF-8 `bytes`.
 *
 * @throws CryptoError `INVALID_ENCODING` for malformed UTF-8 (overlong forms, surrogates, truncation)
 */
export function bytesToUtf8(bytes: Uint8Array): string {
  requireBytes(bytes, 'bytesToUtf8');
  try {
    return utf8Decoder.decode(bytes);
  } catch (cause) {
    throw new CryptoError('INVALID_ENCODING', 'not valid UTF-8', { cause });
  }
}

/** One new array holding `parts` back to back. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  for (const part of parts) requireBytes(part, 'concatBytes');
  return nobleConcatBytes(...parts);
}
