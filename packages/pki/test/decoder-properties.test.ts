/**
 * Property tests: whatever bytes or values reach the document decoder or the resolver, the result is
 * a document or a PkiError, never another exception. Run counts: the decoder properties run 10,000
 * times when CI is set (1,000 locally); the resolver property, which verifies signatures, 300 (100
 * locally). PKI_FUZZ_RUNS and PKI_FUZZ_VERIFY_RUNS override them.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { createBlsSignatures, createMclBackend } from '@milagro/crypto';
import fc from 'fast-check';
import { decodeIdentityDocument, documentCid, encodeIdentityDocument, IdentityResolver, isPkiError, verifyInception } from '../src/index.js';
import { chain, generation, inception } from './support/document-builder.js';
import { MemoryDocumentStore } from './support/memory-document-store.js';

const CI = Boolean(process.env['CI']);
const RUNS = Number(process.env['PKI_FUZZ_RUNS'] ?? (CI ? 10_000 : 1_000));
const VERIFY_RUNS = Number(process.env['PKI_FUZZ_VERIFY_RUNS'] ?? (CI ? 300 : 100));

function onlyPkiErrors(run: () => unknown): boolean {
  try {
    run();
  } catch (error) {
    if (!isPkiError(error)) throw error;
  }
  return true;
}

const valid = encodeIdentityDocument(inception(generation('fuzz-0'), generation('fuzz-1')));
const validValue = dagCbor.decode<Record<string, unknown>>(valid);

/** Any DAG-CBOR value of the shapes a document has, mixed with the valid document's own fields. */
const cborValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.integer(),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 64 }),
    fc.constantFrom(...Object.values(validValue)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('v', 'type', 'seq', 'created', 'keys', 'next', 'pop', 'sigs', 'id', 'prev', 'self', 'sign', 'kem', 'bls', 'x'), tie('value'), { maxKeys: 6 }),
  ),
})).value;

describe('identity document decoder properties', () => {
  it('random bytes decode to a document or a PkiError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => onlyPkiErrors(() => decodeIdentityDocument(bytes))), { numRuns: RUNS });
  });

  it('a valid document with bytes flipped, cut or appended decodes or fails with a PkiError', () => {
    const mutation = fc.record({ at: fc.nat({ max: valid.length - 1 }), xor: fc.integer({ min: 1, max: 255 }), cut: fc.nat({ max: valid.length }), extra: fc.uint8Array({ maxLength: 8 }) });
    fc.assert(
      fc.property(mutation, ({ at, xor, cut, extra }) => {
        const flipped = valid.slice();
        flipped[at]! ^= xor;
        onlyPkiErrors(() => decodeIdentityDocument(flipped));
        onlyPkiErrors(() => decodeIdentityDocument(valid.subarray(0, cut)));
        const longer = new Uint8Array(valid.length + extra.length);
        longer.set(valid);
        longer.set(extra, valid.length);
        return onlyPkiErrors(() => decodeIdentityDocument(longer));
      }),
      { numRuns: RUNS },
    );
  });

  it('arbitrary DAG-CBOR maps near the document shape decode or fail with a PkiError', () => {
    const documentLike = fc.record({ base: fc.constant(validValue), overrides: fc.dictionary(fc.constantFrom(...Object.keys(validValue), 'id', 'prev', 'x'), cborValue, { maxKeys: 3 }) });
    fc.assert(
      fc.property(documentLike, ({ base, overrides }) => {
        let bytes: Uint8Array;
        try {
          bytes = dagCbor.encode({ ...base, ...overrides });
        } catch {
          return true; // not representable as DAG-CBOR: nothing to decode
        }
        return onlyPkiErrors(() => decodeIdentityDocument(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it('a decodable mutation of a signed document never verifies unless it is the document itself', () => {
    const mutation = fc.record({ at: fc.nat({ max: valid.length - 1 }), xor: fc.integer({ min: 1, max: 255 }) });
    fc.assert(
      fc.property(mutation, ({ at, xor }) => {
        const flipped = valid.slice();
        flipped[at]! ^= xor;
        return onlyPkiErrors(() => {
          const document = decodeIdentityDocument(flipped);
          verifyInception(document);
          throw new Error(`a mutated document verified (byte ${at} ^ ${xor})`);
        });
      }),
      { numRuns: VERIFY_RUNS },
    );
  });

  it('the resolver meets stores full of mutated documents with PkiErrors only', async () => {
    const store = new MemoryDocumentStore();
    const alice = await chain(store.blocks, 'fuzz-alice', 1);
    const head = store.blocks.get(alice.cids[1]!.toString())!;
    const bls = createBlsSignatures(await createMclBackend()); // the same checks, faster pairings
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: head.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const mutated = head.slice();
        mutated[at]! ^= xor;
        const cid = await documentCid(mutated);
        store.blocks.set(cid.toString(), mutated);
        try {
          await new IdentityResolver({ store, bls }).resolve(alice.id, { heads: [cid] });
          throw new Error(`a mutated rotation resolved (byte ${at} ^ ${xor})`);
        } catch (error) {
          if (!isPkiError(error)) throw error;
        } finally {
          store.blocks.delete(cid.toString());
        }
        return true;
      }),
      { numRuns: Math.ceil(VERIFY_RUNS / 5) },
    );
  });
});
