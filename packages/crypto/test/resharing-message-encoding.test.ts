import { bls12_381 } from '@noble/curves/bls12-381.js';
import fc from 'fast-check';
import { isCryptoError } from '../src/errors.js';
import {
  decodeDkgMessage,
  decodeResharingMessage,
  encodeDkgMessage,
  encodeResharingMessage,
  type DkgMessage,
  type ResharingMessage,
} from '../src/sharing/dkg-messages.js';
import { expectCryptoError } from './expect-crypto-error.js';

const r = bls12_381.fields.Fr.ORDER;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

const arbSessionId = fc.uint8Array({ minLength: 1, maxLength: 255 });
const arbIndex = fc.bigInt({ min: 1n, max: 0xffffn });
const arbValue = fc.bigInt({ min: 0n, max: r - 1n });
const arbMessage: fc.Arbitrary<ResharingMessage> = fc.oneof(
  fc.record({
    type: fc.constant('reshare-dealing' as const),
    sessionId: arbSessionId,
    dealer: arbIndex,
    commitments: fc.uint8Array({ minLength: 1, maxLength: 300 }),
  }),
  fc.record({ type: fc.constant('reshare-private-share' as const), sessionId: arbSessionId, dealer: arbIndex, recipient: arbIndex, value: arbValue }),
  fc.record({ type: fc.constant('reshare-complaint' as const), sessionId: arbSessionId, complainer: arbIndex, dealer: arbIndex }),
  fc.record({ type: fc.constant('reshare-justification' as const), sessionId: arbSessionId, dealer: arbIndex, recipient: arbIndex, value: arbValue }),
);

/** The DKG message with the same fields (types 1..4 where resharing has 5..8). */
const asDkg = (m: ResharingMessage): DkgMessage => ({ ...m, type: m.type.slice('reshare-'.length) }) as DkgMessage;

describe('resharing message wire encoding', () => {
  test('fast-check: every message round-trips exactly', () => {
    fc.assert(
      fc.property(arbMessage, (message) => {
        const bytes = encodeResharingMessage(message);
        const decoded = decodeResharingMessage(bytes);
        expect(decoded).toEqual(message);
        expect(encodeResharingMessage(decoded)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  test('fast-check: arbitrary or mutated bytes decode to a message that re-encodes identically, or give a typed error', () => {
    const mutated = fc
      .tuple(arbMessage, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.integer({ min: -3, max: 3 }))
      .map(([m, at, xor, cut]) => {
        const b = encodeResharingMessage(m);
        const out = cut > 0 ? new Uint8Array([...b, ...new Uint8Array(cut)]) : b.slice(0, b.length + cut);
        if (out.length > 0) out[at % out.length] = (out[at % out.length] as number) ^ xor;
        return out;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 120 }), mutated), (bytes) => {
        let decoded: ResharingMessage;
        try {
          decoded = decodeResharingMessage(bytes);
        } catch (err) {
          expect(isCryptoError(err)).toBe(true);
          return;
        }
        expect(encodeResharingMessage(decoded)).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  test('fast-check: a resharing message never decodes as a DKG message, nor a DKG message as a resharing one', () => {
    fc.assert(
      fc.property(arbMessage, (message) => {
        const reshare = encodeResharingMessage(message);
        const dkg = encodeDkgMessage(asDkg(message));
        // Same layout, only the type byte differs.
        expect(reshare.length).toBe(dkg.length);
        expect([...reshare].filter((b, i) => b !== dkg[i])).toHaveLength(1);
        expectCryptoError(() => decodeDkgMessage(reshare), 'INVALID_ENCODING');
        expectCryptoError(() => decodeResharingMessage(dkg), 'INVALID_ENCODING');
        expectCryptoError(() => encodeDkgMessage(message as unknown as DkgMessage), 'INVALID_ARGUMENT');
        expectCryptoError(() => encodeResharingMessage(asDkg(message) as unknown as ResharingMessage), 'INVALID_ARGUMENT');
      }),
      { numRuns: 200 },
    );
  });

  test('the layout is as documented: the DKG layout with type codes 5..8', () => {
    const sessionId = fromHex('abcd');
    expect(hex(encodeResharingMessage({ type: 'reshare-dealing', sessionId, dealer: 1n, commitments: fromHex('eeff') }))).toBe(
      '010502abcd000100000002eeff',
    );
    expect(hex(encodeResharingMessage({ type: 'reshare-private-share', sessionId, dealer: 1n, recipient: 2n, value: 5n }))).toBe(
      `010602abcd00010002${'00'.repeat(31)}05`,
    );
    expect(hex(encodeResharingMessage({ type: 'reshare-complaint', sessionId, complainer: 3n, dealer: 0x102n }))).toBe(
      '010702abcd00030102',
    );
    expect(
      hex(encodeResharingMessage({ type: 'reshare-justification', sessionId, dealer: 2n, recipient: 1n, value: r - 1n })),
    ).toBe(`010802abcd00020001${(r - 1n).toString(16).padStart(64, '0')}`);
  });

  test('strict decoding: truncation, trailing bytes, unknown version/type, index 0, empty fields, value >= r', () => {
    const good = encodeResharingMessage({
      type: 'reshare-justification',
      sessionId: fromHex('01'),
      dealer: 1n,
      recipient: 2n,
      value: 9n,
    });
    expect(decodeResharingMessage(good).type).toBe('reshare-justification');
    expectCryptoError(() => decodeResharingMessage(good.subarray(0, good.length - 1)), 'INVALID_LENGTH');
    expectCryptoError(() => decodeResharingMessage(new Uint8Array([...good, 0])), 'INVALID_LENGTH');
    expectCryptoError(() => decodeResharingMessage(new Uint8Array(0)), 'INVALID_LENGTH');
    expectCryptoError(() => decodeResharingMessage(new Uint8Array([2, ...good.subarray(1)])), 'INVALID_ENCODING');
    for (const type of [0, 4, 9, 255]) {
      expectCryptoError(() => decodeResharingMessage(new Uint8Array([1, type, ...good.subarray(2)])), 'INVALID_ENCODING');
    }
    expectCryptoError(() => decodeResharingMessage(fromHex('01070001')), 'INVALID_ENCODING'); // empty session id
    expectCryptoError(() => decodeResharingMessage(fromHex('0107010100000002')), 'INVALID_ENCODING'); // complainer 0
    expectCryptoError(() => decodeResharingMessage(fromHex('01050101000100000000')), 'INVALID_ENCODING'); // no commitments
    expectCryptoError(() => decodeResharingMessage(fromHex('010501010001ffffffff00')), 'INVALID_LENGTH'); // beyond the end
    const tooBig = good.slice();
    tooBig.set(fromHex(r.toString(16).padStart(64, '0')), good.length - 32);
    expectCryptoError(() => decodeResharingMessage(tooBig), 'INVALID_SCALAR');
    expectCryptoError(() => decodeResharingMessage('01' as unknown as Uint8Array), 'INVALID_ARGUMENT');
  });

  test('encoding validates its input', () => {
    const sessionId = fromHex('01');
    const complaint = { type: 'reshare-complaint', sessionId, complainer: 1n, dealer: 2n } as const;
    expectCryptoError(() => encodeResharingMessage({ ...complaint, sessionId: new Uint8Array(0) }), 'INVALID_ARGUMENT');
    expectCryptoError(() => encodeResharingMessage({ ...complaint, sessionId: new Uint8Array(256) }), 'INVALID_ARGUMENT');
    expectCryptoError(() => encodeResharingMessage({ ...complaint, complainer: 0n }), 'INVALID_ARGUMENT');
    expectCryptoError(() => encodeResharingMessage({ ...complaint, dealer: 0x10000n }), 'INVALID_ARGUMENT');
    expectCryptoError(() => encodeResharingMessage({ ...complaint, complainer: 1 as unknown as bigint }), 'INVALID_ARGUMENT');
    expectCryptoError(
      () => encodeResharingMessage({ type: 'reshare-dealing', sessionId, dealer: 1n, commitments: new Uint8Array(0) }),
      'INVALID_ARGUMENT',
    );
    expectCryptoError(
      () => encodeResharingMessage({ type: 'reshare-private-share', sessionId, dealer: 1n, recipient: 2n, value: r }),
      'INVALID_SCALAR',
    );
    expectCryptoError(() => encodeResharingMessage({ type: 'other', sessionId } as unknown as ResharingMessage), 'INVALID_ARGUMENT');
    expectCryptoError(() => encodeResharingMessage(null as unknown as ResharingMessage), 'INVALID_ARGUMENT');
  });
});
