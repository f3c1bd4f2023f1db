/**
 * The realm protocol's decoders (proposal, round bundle, confirmation): every encoding decodes to
 * what was encoded, and any other input (random bytes, mutated encodings) is refused with
 * DtaError `INVALID_REQUEST` only, never another exception.
 */
import * as dagCbor from '@ipld/dag-cbor';
import fc from 'fast-check';
import { isDtaError } from '../src/errors.js';
import {
  createRealmProposal,
  createReshareProposal,
  decodeRealmConfirmation,
  decodeRealmProposal,
  decodeRealmRoundBundle,
  encodeRealmConfirmation,
  encodeRealmProposal,
  encodeRealmRoundBundle,
} from '../src/realm-protocol.js';
import { fakeIdentity } from './support/realm-network.js';

const decoders = [decodeRealmProposal, decodeRealmRoundBundle, decodeRealmConfirmation];

function refusedCleanly(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): boolean {
  try {
    decode(bytes);
    return true; // a mutation may still be valid
  } catch (error) {
    return isDtaError(error, 'INVALID_REQUEST');
  }
}

let ids: string[];
beforeAll(async () => {
  ids = await Promise.all(['a', 'b', 'c', 'd', 'mfa'].map(fakeIdentity));
});

it('round-trips proposals, bundles and confirmations', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.constantFrom<1 | 2 | 3>(1, 2, 3),
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 5 }),
      fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 })),
      (n, nonce, sessionId, round, messages, transcriptHash) => {
        const definition = { realmId: 'r-1', members: ids.slice(0, n), threshold: Math.ceil(n / 2), mfaService: ids[4]!, permitHorizonDays: 3, grantMaxLifetimeMinutes: 15 };
        const proposal = createRealmProposal(definition, 0, nonce);
        expect(decodeRealmProposal(encodeRealmProposal(proposal))).toEqual(proposal);
        const bundle = { sessionId, round, messages };
        expect(decodeRealmRoundBundle(encodeRealmRoundBundle(bundle))).toEqual(bundle);
        const confirmation = { sessionId, transcriptHash };
        expect(decodeRealmConfirmation(encodeRealmConfirmation(confirmation))).toEqual(confirmation);
      },
    ),
    { numRuns: 100 },
  );
});

it('refuses random bytes and random CBOR values with INVALID_REQUEST only', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decoders.every((decode) => refusedCleanly(decode, bytes))),
    { numRuns: 500 },
  );
  const cborValue = fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('v', 'session', 'round', 'messages', 'transcript', 'kind', 'definition', 'epoch', 'nonce'), fc.oneof(fc.jsonValue(), fc.uint8Array({ maxLength: 40 }))));
  fc.assert(
    fc.property(cborValue, (value) => {
      let bytes: Uint8Array;
      try {
        bytes = dagCbor.encode(value);
      } catch {
        return true; // not encodable (e.g. -0 or non-safe numbers)
      }
      return decoders.every((decode) => refusedCleanly(decode, bytes));
    }),
    { numRuns: 500 },
  );
});

it('refuses mutated encodings with INVALID_REQUEST only, and never accepts a proposal whose session id does not match', () => {
  const proposal = encodeRealmProposal(createRealmProposal({ realmId: 'r-2', members: ids.slice(0, 3), threshold: 2, mfaService: ids[4]!, permitHorizonDays: 3, grantMaxLifetimeMinutes: 15 }, 0, new Uint8Array(16)));
  fc.assert(
    fc.property(fc.nat({ max: proposal.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const mutated = proposal.slice();
      mutated[at] = (mutated[at] as number) ^ xor;
      try {
        const decoded = decodeRealmProposal(mutated);
        // Only a mutation that keeps every field and the session id consistent can pass; none does here.
        return decoded === undefined;
      } catch (error) {
        return isDtaError(error, 'INVALID_REQUEST');
      }
    }),
    { numRuns: 500 },
  );
});

it('round-trips resharing proposals and refuses mutated ones (the session id commits to the previous sharing)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 1000 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (oldN, newN, epoch, nonce, transcriptHash) => {
        const definition = { realmId: 'r-3', members: ids.slice(4 - newN, 4), threshold: newN, mfaService: ids[4]!, permitHorizonDays: 3, grantMaxLifetimeMinutes: 15 };
        const previous = { members: ids.slice(0, oldN), threshold: oldN, commitments: new Uint8Array(48 * oldN).fill(0xa0), transcriptHash };
        const proposal = createReshareProposal(definition, previous, epoch, nonce);
        expect(decodeRealmProposal(encodeRealmProposal(proposal))).toEqual(proposal);
      },
    ),
    { numRuns: 50 },
  );
  const reshare = encodeRealmProposal(
    createReshareProposal(
      { realmId: 'r-4', members: ids.slice(0, 4), threshold: 3, mfaService: ids[4]!, permitHorizonDays: 3, grantMaxLifetimeMinutes: 15 },
      { members: ids.slice(0, 3), threshold: 2, commitments: new Uint8Array(96).fill(0xa0), transcriptHash: new Uint8Array(32) },
      1,
      new Uint8Array(16),
    ),
  );
  fc.assert(
    fc.property(fc.nat({ max: reshare.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const mutated = reshare.slice();
      mutated[at] = (mutated[at] as number) ^ xor;
      try {
        return decodeRealmProposal(mutated) === undefined;
      } catch (error) {
        return isDtaError(error, 'INVALID_REQUEST');
      }
    }),
    { numRuns: 500 },
  );
  // A resharing is never for epoch 0, and its previous sharing has exactly threshold commitments.
  const definition = { realmId: 'r-5', members: ids.slice(0, 2), threshold: 2, mfaService: ids[4]!, permitHorizonDays: 3, grantMaxLifetimeMinutes: 15 };
  const previous = { members: ids.slice(0, 3), threshold: 2, commitments: new Uint8Array(96), transcriptHash: new Uint8Array(32) };
  expect(() => createReshareProposal(definition, previous, 0, new Uint8Array(16))).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  expect(() => createReshareProposal(definition, { ...previous, commitments: new Uint8Array(48) }, 1, new Uint8Array(16))).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
});
