import * as dagCbor from '@ipld/dag-cbor';
import { COMPOSITE_SIGNATURE_LENGTHS } from '@milagro/crypto';
import fc from 'fast-check';
import { DtaError } from '../src/errors.js';
import { decodeGrantToken, encodeGrantToken, type Grant, type GrantToken } from '../src/grant.js';
import { decodeRevocation, encodeRevocation } from '../src/revocation.js';
import { decodeServerShareMessage, decodeServerShareRequest, encodeServerShareMessage } from '../src/server-share.js';

// The wire decoders of issuance (grant tokens, revocation updates, server-share messages) face
// untrusted bytes: they return a well-formed value or throw a DtaError with the decoder's code,
// never anything else, and decode what the encoders produce.
const ID = 'bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';

const grantArb: fc.Arbitrary<Grant> = fc.record({
  purpose: fc.constantFrom('client-secret' as const, 'time-permit' as const),
  realm: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/),
  identityHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  day: fc.integer({ min: 1, max: 0xffffffff }),
  expires: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  nonce: fc.uint8Array({ minLength: 16, maxLength: 16 }),
}).map(({ purpose, day, ...rest }) => ({ v: 1, purpose, audience: ID, issuer: ID, ...rest, ...(purpose === 'time-permit' ? { day } : {}) }));

const tokenArb: fc.Arbitrary<GrantToken> = fc.record({
  grant: grantArb,
  // A random head on a fixed-length signature: generating 3,373 random bytes per run buys nothing.
  sig: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((head) => {
    const sig = new Uint8Array(COMPOSITE_SIGNATURE_LENGTHS.signature);
    sig.set(head);
    return sig;
  }),
});

/** Arbitrary DAG-CBOR values, including maps with the expected keys but wrong values. */
const junkValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('v', 'grant', 'sig', 'realm', 'seq', 'revoke', 'reinstate', 'epoch', 'index', 'share', 'purpose', 'x'), tie('value'), { maxKeys: 6 }),
  ),
})).value;

function onlyCode(decode: (bytes: Uint8Array) => unknown, codes: readonly string[]): (bytes: Uint8Array) => void {
  return (bytes) => {
    try {
      decode(bytes);
    } catch (error) {
      if (!(error instanceof DtaError) || !codes.includes(error.code)) throw error;
    }
  };
}

const decoders: Array<[string, (bytes: Uint8Array) => unknown, string]> = [
  ['grant token', decodeGrantToken, 'GRANT_INVALID'],
  ['revocation', decodeRevocation, 'INVALID_REQUEST'],
  ['server share', decodeServerShareMessage, 'INVALID_REQUEST'],
  ['server-share request', decodeServerShareRequest, 'INVALID_REQUEST'],
];

describe('issuance decoders refuse junk with their own error code', () => {
  it.each(decoders)('%s: random bytes and random DAG-CBOR', (_name, decode, code) => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), onlyCode(decode, [code])), { numRuns: 300 });
    fc.assert(fc.property(junkValue, (value) => onlyCode(decode, [code])(dagCbor.encode(value))), { numRuns: 300 });
  });

  it('grant tokens round-trip, and any flipped byte or truncation is refused or decodes to something else', () => {
    fc.assert(
      fc.property(tokenArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (token, at, mask) => {
        const bytes = encodeGrantToken(token);
        // Byte comparisons: Jest's deep equality is slow on 3 KB arrays.
        expect(sameBytes(encodeGrantToken(decodeGrantToken(bytes)), bytes)).toBe(true);
        const mutated = bytes.slice();
        mutated[at % bytes.length]! ^= mask;
        try {
          expect(sameBytes(encodeGrantToken(decodeGrantToken(mutated)), mutated)).toBe(true);
        } catch (error) {
          if (!(error instanceof DtaError) || error.code !== 'GRANT_INVALID') throw error;
        }
        expect(() => decodeGrantToken(bytes.subarray(0, at % bytes.length))).toThrow(DtaError);
      }),
      { numRuns: 100 },
    );
  });

  it('grant tokens: the wrong keys for the purpose, non-canonical encodings and oversize tokens are refused', () => {
    const token = fc.sample(tokenArb, 1)[0]!;
    const base = { ...token.grant } as Record<string, unknown>;
    const variants: unknown[] = [
      { grant: { ...base, purpose: 'client-secret', day: 5 }, sig: token.sig },
      { grant: { ...base, purpose: 'time-permit', day: undefined }, sig: token.sig },
      { grant: { ...base, extra: 1 }, sig: token.sig },
      { grant: base, sig: token.sig, extra: 1 },
      { grant: { ...base, audience: ID.toUpperCase() }, sig: token.sig },
      { grant: { ...base, nonce: new Uint8Array(15) }, sig: token.sig },
      { grant: { ...base, v: 2 }, sig: token.sig },
    ];
    for (const variant of variants) {
      expect(() => decodeGrantToken(dagCbor.encode(stripUndefined(variant)))).toThrow(expect.objectContaining({ code: 'GRANT_INVALID' }));
    }
    expect(() => decodeGrantToken(dagCbor.encode({ grant: base, sig: new Uint8Array(5000) }))).toThrow(expect.objectContaining({ code: 'GRANT_INVALID' }));
  });

  it('revocation updates and server-share messages round-trip', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.uniqueArray(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 8, selector: (h) => h.join() }),
        fc.nat({ max: 8 }),
        (seq, hashes, split) => {
          const update = { realm: 'acme', seq, revoke: hashes.slice(0, split), reinstate: hashes.slice(split) };
          expect(decodeRevocation(encodeRevocation(update))).toEqual(update);
        },
      ),
    );
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.uint8Array({ minLength: 96, maxLength: 96 }), (epoch, index, share) => {
        const message = { realm: 'acme', epoch, index: BigInt(index), share };
        expect(decodeServerShareMessage(encodeServerShareMessage(message))).toEqual(message);
      }),
    );
  });
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function stripUndefined(value: unknown): unknown {
  if (value instanceof Uint8Array || typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, stripUndefined(v)]));
}
