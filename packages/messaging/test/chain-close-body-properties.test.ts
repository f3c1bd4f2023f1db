/**
 * The chain close body (docs/specs/messaging-v1.md §7) survives encoding unchanged, and its decoder
 * turns anything else into nothing, never into a different close: fast-check.
 */
import * as dagCbor from '@ipld/dag-cbor';
import fc from 'fast-check';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { decodeChainClose, encodeChainClose, type ChainClose } from '../src/chain-close.js';
import { MAX_CLOSE_ROOTS } from '../src/constants.js';

const cidArbitrary = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => CID.createV1(0x71, sha256.digest(bytes) as never));
const closeArbitrary: fc.Arbitrary<ChainClose> = fc.oneof(
  fc.array(cidArbitrary, { maxLength: 8 }).map((roots) => ({ roots, others: false, keep: [] })),
  fc.record({ roots: fc.array(cidArbitrary, { maxLength: 8 }), keep: fc.array(cidArbitrary, { maxLength: 4 }) }).map(({ roots, keep }) => ({ roots, others: true, keep })),
);

it('decodes every close as it was encoded', () => {
  fc.assert(
    fc.property(closeArbitrary, (close) => {
      expect(decodeChainClose(encodeChainClose(close))).toEqual(close);
    }),
    { numRuns: 300 },
  );
});

it('decodes anything else to nothing or to a close that encodes back to the same bytes', () => {
  const value = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc
      .dictionary(fc.constantFrom('v', 'roots', 'others', 'keep', 'extra'), fc.oneof(fc.constant(1), fc.boolean(), fc.array(cidArbitrary, { maxLength: 3 }), fc.anything()))
      .map((map) => {
        try {
          return dagCbor.encode(map);
        } catch {
          return new Uint8Array();
        }
      }),
  );
  fc.assert(
    fc.property(value, (bytes) => {
      const close = decodeChainClose(bytes);
      if (close !== undefined) expect(encodeChainClose(close)).toEqual(bytes);
    }),
    { numRuns: 500 },
  );
});

it('refuses keep without others, a wrong version, and more roots than the bound', () => {
  const [a, b] = ['a', 'b'].map((seed) => CID.createV1(0x71, sha256.digest(new TextEncoder().encode(seed)) as never)) as [CID, CID];
  expect(decodeChainClose(dagCbor.encode({ v: 1, roots: [a], others: false, keep: [b] }))).toBeUndefined();
  expect(decodeChainClose(dagCbor.encode({ v: 2, roots: [a], others: false, keep: [] }))).toBeUndefined();
  expect(decodeChainClose(dagCbor.encode({ v: 1, roots: [a], others: false }))).toBeUndefined();
  expect(decodeChainClose(dagCbor.encode({ v: 1, roots: Array.from({ length: MAX_CLOSE_ROOTS + 1 }, () => a), others: false, keep: [] }))).toBeUndefined();
  expect(decodeChainClose(dagCbor.encode({ v: 1, roots: Array.from({ length: MAX_CLOSE_ROOTS }, () => a), others: false, keep: [] }))?.roots).toHaveLength(MAX_CLOSE_ROOTS);
});
