import { bls12_381 } from '@noble/curves/bls12-381.js';
import fc from 'fast-check';
import { parsePointEncoding } from '../src/bls12-381/point-encoding.js';
import { isCryptoError } from '../src/errors.js';

/**
 * `parsePointEncoding` compares each coordinate with p byte by byte; here it must agree with the
 * definition (the coordinate, flags masked off, as an integer, is < p) on values at and around p:
 * each coordinate shares a random-length prefix with p and is random after it.
 */
const P = bls12_381.fields.Fp.ORDER;
const P_HEX = P.toString(16).padStart(96, '0');
const P_BYTES = Uint8Array.from(P_HEX.match(/../g) ?? [], (h) => parseInt(h, 16));
const asInteger = (bytes: Uint8Array, offset: number): bigint => {
  const n = BigInt(`0x${Buffer.from(bytes.subarray(offset, offset + 48)).toString('hex')}`);
  return offset === 0 ? n & ((1n << 381n) - 1n) : n;
};

/** 48 bytes equal to p's up to `prefix`, then random (so ≥ p about half the time at every depth). */
const nearP = fc.tuple(fc.integer({ min: 0, max: 48 }), fc.uint8Array({ minLength: 48, maxLength: 48 })).map(([prefix, tail]) => {
  const out = Uint8Array.from(tail);
  out.set(P_BYTES.subarray(0, prefix));
  return out;
});

test('the byte-wise range check agrees with the integer comparison (uncompressed G1, 10,000 runs)', () => {
  fc.assert(
    fc.property(nearP, nearP, (x, y) => {
      const bytes = new Uint8Array(96);
      bytes.set(x);
      bytes.set(y, 48);
      bytes[0] = bytes[0]! & 0x1f; // uncompressed, not infinity, no sign flag
      const canonical = asInteger(bytes, 0) < P && asInteger(bytes, 48) < P;
      let accepted: boolean;
      try {
        parsePointEncoding(bytes, 1, false);
        accepted = true;
      } catch (err) {
        if (!isCryptoError(err) || err.code !== 'INVALID_ENCODING') throw err;
        accepted = false;
      }
      expect(accepted).toBe(canonical);
    }),
    { numRuns: 10_000 },
  );
});

test('compressed: the flag bits are masked off before the comparison', () => {
  for (const flags of [0x80, 0xa0]) {
    const atP = Uint8Array.from(P_BYTES);
    atP[0] = atP[0]! | flags;
    expect(() => parsePointEncoding(atP, 1, false)).toThrow('not below the field modulus');
    const belowP = Uint8Array.from(P_BYTES);
    belowP[47] = belowP[47]! - 1;
    belowP[0] = belowP[0]! | flags;
    expect(parsePointEncoding(belowP, 1, false)).toEqual({ compressed: true, infinity: false, largerY: flags === 0xa0 });
  }
});
