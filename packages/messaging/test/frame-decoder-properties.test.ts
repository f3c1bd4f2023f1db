/**
 * The pubsub frame decoder takes exactly what the encoder makes and refuses anything else with
 * FrameError (never a crash, never a wrong frame): fast-check over valid frames and mutations of them.
 */
import * as dagCbor from '@ipld/dag-cbor';
import fc from 'fast-check';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { decodeFrame, encodeFrame, FrameError, type Frame } from '../src/wire.js';

const cidArbitrary = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => CID.createV1(0x71, sha256.digest(bytes) as never));
const arbitraryFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ from: cidArbitrary, head: cidArbitrary, cid: cidArbitrary }).map(({ from, head, cid }) => ({ kind: 'announce' as const, from: from.toString(), head, cid })),
  fc
    .record({ from: cidArbitrary, head: cidArbitrary, to: cidArbitrary, cid: cidArbitrary, sig: fc.uint8Array({ maxLength: 3373 }) })
    .map(({ from, head, to, cid, sig }) => ({ kind: 'ack' as const, from: from.toString(), head, to: to.toString(), cid, sig })),
);

it('round-trips every frame', () => {
  fc.assert(
    fc.property(arbitraryFrame, (frame) => {
      expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
    }),
    { numRuns: 200 },
  );
});

it('refuses any byte flip or truncation with FrameError, or decodes to a different valid frame', () => {
  fc.assert(
    fc.property(arbitraryFrame, fc.nat(), fc.integer({ min: 1, max: 255 }), (frame, at, mask) => {
      const bytes = encodeFrame(frame);
      const flipped = bytes.slice();
      flipped[at % bytes.length]! ^= mask;
      for (const candidate of [flipped, bytes.subarray(0, at % bytes.length)]) {
        try {
          const decoded = decodeFrame(candidate);
          // A flip inside a CID's digest or a signature still makes a well-formed frame; it must round-trip.
          expect(encodeFrame(decoded)).toEqual(candidate);
        } catch (error) {
          expect(error).toBeInstanceOf(FrameError);
        }
      }
    }),
    { numRuns: 300 },
  );
});

it('refuses extra fields, wrong kinds, versions and identity forms', () => {
  const cid = CID.parse('bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae');
  const base = { v: 1, kind: 'announce', from: cid.toString(), head: cid, cid };
  for (const bad of [
    { ...base, extra: 1 },
    { ...base, kind: 'other' },
    { ...base, v: 2 },
    { ...base, from: cid.toV1().toString().toUpperCase() },
    { ...base, from: 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG' },
    { ...base, head: cid.toString() },
    [base],
    cid,
  ]) {
    expect(() => decodeFrame(dagCbor.encode(bad))).toThrow(FrameError);
  }
  expect(() => decodeFrame(new Uint8Array(9000))).toThrow(FrameError);
});
