import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import type { Bls12381Backend } from '../src/bls12-381/backend.js';
import { createMclBackend, type MclG1, type MclG2, type MclPreparedG2 } from '../src/bls12-381/mcl.js';
import { nobleBackend } from '../src/bls12-381/noble.js';
import { isCryptoError } from '../src/errors.js';

/** noble and mcl-wasm must agree bit for bit: encodings, hashes, multiples, GT bytes, and errors. */
const r = bls12_381.fields.Fr.ORDER;
const scalar = fc.bigInt({ min: 1n, max: r - 1n });
const hex = bytesToHex;

let mcl: Bls12381Backend<MclG1, MclG2, MclPreparedG2>;
beforeAll(async () => {
  mcl = await createMclBackend();
});

test('scalar multiples of the generators encode identically', () => {
  fc.assert(
    fc.property(scalar, (k) => {
      for (const compressed of [true, false]) {
        expect(hex(mcl.g1.encode(mcl.g1.multiply(mcl.g1.base, k), { compressed }))).toBe(
          hex(nobleBackend.g1.encode(nobleBackend.g1.multiply(nobleBackend.g1.base, k), { compressed })),
        );
        expect(hex(mcl.g2.encode(mcl.g2.multiply(mcl.g2.base, k), { compressed }))).toBe(
          hex(nobleBackend.g2.encode(nobleBackend.g2.multiply(nobleBackend.g2.base, k), { compressed })),
        );
      }
    }),
    { numRuns: 6 },
  );
});

test('hash to G1 and G2 agree for random messages and tags (including tags > 255 bytes)', () => {
  const tag = fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.uint8Array({ minLength: 1, maxLength: 300 }));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), tag, (msg, dst) => {
      expect(hex(mcl.g1.encode(mcl.g1.hash(msg, dst)))).toBe(hex(nobleBackend.g1.encode(nobleBackend.g1.hash(msg, dst))));
      expect(hex(mcl.g2.encode(mcl.g2.hash(msg, dst)))).toBe(hex(nobleBackend.g2.encode(nobleBackend.g2.hash(msg, dst))));
    }),
    { numRuns: 8 },
  );
});

test('points decoded from one backend behave the same in the other (add, negate, multiply)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 32 }), scalar, (msg, k) => {
      const nP = nobleBackend.g1.hash(msg, 'CROSS');
      const mP = mcl.g1.decode(nobleBackend.g1.encode(nP));
      const nQ = nobleBackend.g1.add(nobleBackend.g1.multiply(nP, k), nobleBackend.g1.negate(nobleBackend.g1.base));
      const mQ = mcl.g1.add(mcl.g1.multiply(mP, k), mcl.g1.negate(mcl.g1.base));
      expect(hex(mcl.g1.encode(mQ))).toBe(hex(nobleBackend.g1.encode(nQ)));
    }),
    { numRuns: 8 },
  );
});

test('pairing products give identical canonical GT bytes', () => {
  fc.assert(
    fc.property(scalar, scalar, fc.boolean(), (a, b, twoTerms) => {
      const nP = nobleBackend.g1.multiply(nobleBackend.g1.base, a);
      const nQ = nobleBackend.g2.multiply(nobleBackend.g2.base, b);
      const mP = mcl.g1.decode(nobleBackend.g1.encode(nP));
      const mQ = mcl.g2.decode(nobleBackend.g2.encode(nQ));
      const nPairs: Array<[typeof nP, ReturnType<typeof nobleBackend.prepareG2>]> = [[nP, nobleBackend.prepareG2(nQ)]];
      const mPairs: Array<[MclG1, MclPreparedG2]> = [[mP, mcl.prepareG2(mQ)]];
      if (twoTerms) {
        nPairs.push([nobleBackend.g1.base, nobleBackend.prepareG2(nobleBackend.g2.base)]);
        mPairs.push([mcl.g1.base, mcl.prepareG2(mcl.g2.base)]);
      }
      expect(hex(mcl.pairingProduct(mPairs))).toBe(hex(nobleBackend.pairingProduct(nPairs)));
    }),
    { numRuns: 4 },
  );
});

test('decoders agree on every input: same point or same error code', () => {
  const outcome = (decode: () => unknown, encode: (p: unknown) => Uint8Array): string => {
    try {
      return hex(encode(decode()));
    } catch (err) {
      if (!isCryptoError(err)) throw err;
      return err.code;
    }
  };
  const validG1 = nobleBackend.g1.encode(nobleBackend.g1.multiply(nobleBackend.g1.base, 12345n));
  const validG2 = nobleBackend.g2.encode(nobleBackend.g2.hash(new Uint8Array([9]), 'CROSS'));
  const mutate = (valid: Uint8Array) =>
    fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const copy = valid.slice();
      copy[i]! ^= x;
      return copy;
    });
  const cases: Array<[string, fc.Arbitrary<Uint8Array>]> = [
    ['G1', fc.oneof(mutate(validG1), fc.uint8Array({ minLength: 48, maxLength: 48 }), fc.uint8Array({ minLength: 96, maxLength: 96 }))],
    ['G2', fc.oneof(mutate(validG2), fc.uint8Array({ minLength: 96, maxLength: 96 }), fc.uint8Array({ minLength: 192, maxLength: 192 }))],
  ];
  for (const [group, input] of cases) {
    const n = group === 'G1' ? nobleBackend.g1 : nobleBackend.g2;
    const m = group === 'G1' ? mcl.g1 : mcl.g2;
    fc.assert(
      fc.property(input, fc.boolean(), (bytes, allowInfinity) => {
        const compressed = bytes.length === n.compressedLength;
        const nOut = outcome(() => n.decode(bytes, { allowInfinity }), (p) => n.encode(p as never, { compressed }));
        const mOut = outcome(() => m.decode(bytes, { allowInfinity }), (p) => m.encode(p as never, { compressed }));
        expect(mOut).toBe(nOut);
      }),
      { numRuns: 80 },
    );
  }
});
