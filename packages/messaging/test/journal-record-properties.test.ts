/**
 * Journal records survive their stored form (DAG-CBOR of `recordValue`) unchanged, `received` with and
 * without its `chain` (journals written before senders could have several chains have none), the chain
 * close records `close-sent` and `closed` (with any number of roots, none included), and a
 * stored value that is not a record parses to nothing, never to a wrong record: fast-check.
 */
import * as dagCbor from '@ipld/dag-cbor';
import fc from 'fast-check';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { parseRecord, recordValue, type JournalRecord } from '../src/journal.js';

const cidArbitrary = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => CID.createV1(0x71, sha256.digest(bytes) as never));
const count = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const arbitraryRecord: fc.Arbitrary<JournalRecord> = fc.oneof(
  fc.record({ to: cidArbitrary, cid: cidArbitrary, seq: count }).map(({ to, cid, seq }) => ({ k: 'sent' as const, to: to.toString(), cid, seq })),
  fc.record({ to: cidArbitrary, cid: cidArbitrary }).map(({ to, cid }) => ({ k: 'acked' as const, to: to.toString(), cid })),
  fc
    .record({ from: cidArbitrary, cid: cidArbitrary, seq: count, position: count, chain: fc.option(cidArbitrary, { nil: undefined }) })
    .map(({ from, cid, seq, position, chain }) => ({ k: 'received' as const, from: from.toString(), cid, seq, position, ...(chain === undefined ? {} : { chain }) })),
  count.map((position) => ({ k: 'consumed' as const, position })),
  fc.constant({ k: 'chains-closed' as const }),
  fc.record({ to: cidArbitrary, cid: cidArbitrary }).map(({ to, cid }) => ({ k: 'close-sent' as const, to: to.toString(), cid })),
  fc
    .record({ from: cidArbitrary, cid: cidArbitrary, roots: fc.array(cidArbitrary, { maxLength: 8 }) })
    .map(({ from, cid, roots }) => ({ k: 'closed' as const, from: from.toString(), cid, roots })),
);

it('reads back every record as it was written', () => {
  fc.assert(
    fc.property(arbitraryRecord, (record) => {
      expect(parseRecord(dagCbor.decode(dagCbor.encode(recordValue(record))))).toEqual(record);
    }),
    { numRuns: 300 },
  );
});

it('reads a received record without a chain as one without (the legacy chain), and refuses a chain that is not a CID', () => {
  const cid = CID.parse('bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae');
  const legacy = { k: 'received', from: cid.toString(), cid, seq: 3, position: 7 };
  expect(parseRecord(legacy)).toEqual(legacy);
  expect('chain' in parseRecord(legacy)!).toBe(false);
  for (const chain of ['not a cid', 42, null, cid.bytes]) expect(parseRecord({ ...legacy, chain })).toBeUndefined();
});

it('parses anything else to nothing or to a record that stores back to the same value', () => {
  fc.assert(
    fc.property(fc.oneof(arbitraryRecord.map(recordValue), fc.dictionary(fc.constantFrom('k', 'to', 'from', 'cid', 'seq', 'position', 'chain', 'roots'), fc.anything())), (value) => {
      const record = parseRecord(value);
      if (record !== undefined) expect(parseRecord(recordValue(record))).toEqual(record);
    }),
    { numRuns: 300 },
  );
});

it('refuses a closed record whose roots are not all CIDs', () => {
  const cid = CID.parse('bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae');
  const closed = { k: 'closed', from: cid.toString(), cid, roots: [cid] };
  expect(parseRecord(closed)).toEqual(closed);
  for (const roots of [undefined, cid, [cid, 'not a cid'], [null], 'x']) expect(parseRecord({ ...closed, roots })).toBeUndefined();
});
