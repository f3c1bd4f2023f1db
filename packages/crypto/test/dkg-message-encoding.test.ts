import { bls12_381 } from '@noble/curves/bls12-381.js';
import fc from 'fast-check';
import { isCryptoError } from '../src/errors.js';
import { decodeDkgMessage, encodeDkgMessage, type DkgMessage } from '../src/sharing/dkg-messages.js';
import { expectCryptoError } from './expect-crypto-error.js';

const r = bls12_381.fields.Fr.ORDER;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

const arbSessionId = fc.uint8Array({ minLength: 1, maxLength: 255 });
const arbIndex = fc.bigInt({ min: 1n, max: 0xffffn });
const arbValue = fc.bigInt({ min: 0n, max: r - 1n });
const arbMessage: fc.Arbitrary<DkgMessage> = fc.oneof(
  fc.record({
    type: fc.constant('dealing' as const),
    sessionId: arbSessionId,
    dealer: arbIndex,
    commitments: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  }),
  fc.record({ type: fc.constant('private-share' as const), sessionId: arbSessionId, dealer: arbIndex, recipient: arbIndex, value: arbValue }),
  fc.record({ type: fc.constant('complaint' as const), sessionId: arbSessionId, complainer: arbIndex, dealer: arbIndex }),
  fc.record({ type: fc.constant('justification' as const), sessionId: arbSessionId, dealer: arbIndex, recipient: arbIndex, value: arbValue }),
);

describe('DKG message wire encoding', () => {
  test('fast-check: every message round-trips exactly', () => {
    fc.assert(
      fc.property(arbMessage, (message) => {
        const bytes = encodeDkgMessage(message);
        const decoded = decodeDkgMessage(bytes);
        expect(decoded).toEqual(message);
        expect(encodeDkgMessage(decoded)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  test('fast-check: arbitrary or mutated bytes decode to a message that re-encodes identically, or give a typed error', () => {
    const mutated = fc
      .tuple(arbMessage, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.integer({ min: -3, max: 3 }))
      .map(([m, at, xor, cut]) => {
        const b = encodeDkgMessage(m);
        const out = cut > 0 ? new Uint8Array([...b, ...new Uint8Array(cut)]) : b.slice(0, b.length + cut);
        if (out.length > 0) out[at % out.length] = (out[at % out.length] as number) ^ xor;
        return out;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 120 }), mutated), (bytes) => {
        let decoded: DkgMessage;
        try {
          decoded = decodeDkgMessage(bytes);
        } catch (err) {
          expect(isCryptoError(err)).toBe(true);
          return;
        }
        expect(encodeDkgMessage(decoded)).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  test('the layout is as documented', () => {
    const sessionId = fromHex('abcd');
    expect(hex(encodeDkgMessage({ type: 'complaint', sessionId, complainer: 3n, dealer: 0x102n }))).toBe('010302abcd00030102');
    expect(hex(encodeDkgMessage({ type: 'dealing', sessionId, dealer: 1n, commitments: fromHex('eeff') }))).toBe(
      '010102abcd000100000002eeff',
    );
    expect(hex(encodeDkgMessage({ type: 'private-share', sessionId, dealer: 1n, recipient: 2n, value: 5n }))).toBe(
      `010202abcd00010002${'00'.repeat(31)}05`,
    );
    expect(hex(encodeDkgMessage({ type: 'justification', sessionId, dealer: 2n, recipient: 1n, value: r - 1n }))).toBe(
      `010402abcd00020001${(r - 1n).toString(16).padStart(64, '0')}`,
    );
  });

  test('strict decoding: truncation, trailing bytes, unknown version/type, index 0, empty fields, value >= r', () => {
    const good = encodeDkgMessage({ type: 'justification', sessionId: fromHex('01'), dealer: 1n, recipient: 2n, value: 9n });
    expectCryptoError(() => decodeDkgMessage(good.subarray(0, good.length - 1)), 'INVALID_LENGTH');
    expectCryptoError(() => decodeDkgMessage(new Uint8Array([...good, 0])), 'INVALID_LENGTH');
    expectCryptoError(() => decodeDkgMessage(new Uint8Array(0)), 'INVALID_LENGTH');
    expectCryptoError(() => decodeDkgMessage(new Uint8Array([2, ...good.subarray(1)])), 'INVALID_ENCODING');
    expectCryptoError(() => decodeDkgMessage(new Uint8Array([1, 9, ...good.subarray(2)])), 'INVALID_ENCODING');
    expectCryptoError(() => decodeDkgMessage(fromHex('01030001')), 'INVALID_ENCODING'); // empty session id
    expectCryptoError(() => decodeDkgMessage(fromHex('0103010100000002')), 'INVALID_ENCODING'); // complainer 0
    expectCryptoError(() => decodeDkgMessage(fromHex('01010101000100000000')), 'INVALID_ENCODING'); // no commitments
    expectCryptoError(() => decodeDkgMessage(fromHex('010101010001ffffffff00')), 'INVALID_LENGTH'); // length beyond the end
    const tooBig = good.slice();
    tooBig.set(fromHex(r.toString(16).padStart(64, '0')), good.length - 32);
    expectCryptoError(() => decodeDkgMessage(tooBig), 'INVALID_SCALAR');
    expectCryptoError(() => decodeDkgMessage('01' as unknown as Uint8Array), 'INVALID_ARGUMENT');
  });

  test('encoding validates its input', () => {
    const sessionId = fromHex('01');
    expectCryptoError(() => encodeDkgMessage({ type: 'complaint', sessionId: new Uint8Array(0), complainer: 1n, dealer: 2n }), 'INVALID_ARGUMENT');
    expectCryptoError(() => encodeDkgMessage({ type: 'complaint', sessionId: new Uint8Array(256), complainer: 1n, dealer: 2n }), 'INVALID_ARGUMENT');
    expectCryptoError(() => encodeDkgMessage({ type: 'complaint', sessionId, complainer: 0n, dealer: 2n }), 'INVALID_ARGUMENT');
    expectCryptoError(() => encodeDkgMessage({ type: 'complaint', sessionId, complainer: 0x10000n, dealer: 2n }), 'INVALID_ARGUMENT');
    expectCryptoError(() => encodeDkgMessage({ type: 'complaint', sessionId, complainer: 1 as unknown as bigint, dealer: 2n }), 'INVALID_ARGUMENT');
    expectCryptoError(() => encodeDkgMessage({ type: 'dealing', sessionId, dealer: 1n, commitments: new Uint8Array(0) }), 'INVALID_ARGUMENT');
    expectCryptoError(() => encodeDkgMessage({ type: 'private-share', sessionId, dealer: 1n, recipient: 2n, value: r }), 'INVALID_SCALAR');
    expectCryptoError(() => encodeDkgMessage({ type: 'private-share', sessionId, dealer: 1n, recipient: 2n, value: -1n }), 'INVALID_SCALAR');
    expectCryptoError(() => encodeDkgMessage({ type: 'other', sessionId } as unknown as DkgMessage), 'INVALID_ARGUMENT');
  });
});
