/**
 * The inline seal hashes a large body's ciphertext (the signed commitment) on a worker thread.
 * Same SHA-256 as on the calling thread, whatever mix of pieces it is fed; an envelope sealed
 * that way opens and verifies like any other.
 */
import { sha256 } from '@milagro/crypto';
import { BACKGROUND_HASH_MIN_BYTES, bodyHashWorkerReady, createBodyHasher } from '../src/body-digest.js';
import { encodeEnvelope, openEnvelope, sealEnvelope, verifyEnvelope } from '../src/index.js';
import { fixedBytes, testRecipients, testSender } from './identities.js';

const alice = testSender('alice');
const [bob] = testRecipients('reader', 1) as [ReturnType<typeof testRecipients>[0]];

/** Byte equality for megabyte arrays (Jest's toEqual walks them element by element). */
function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

/** `length` deterministic bytes, quickly (the bodies here run to megabytes). */
function bigBytes(label: string, length: number): Uint8Array {
  const seed = fixedBytes(label, 4096);
  const out = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += seed.length) out.set(seed.subarray(0, Math.min(seed.length, length - offset)), offset);
  for (let i = 0; i < length; i += 4093) out[i] = (i / 4093) & 0xff; // no two 4 KiB blocks alike
  return out;
}

beforeAll(async () => {
  expect(await bodyHashWorkerReady()).toBe(true); // Node has worker_threads: the worker must start
});

test('the worker gives the SHA-256 of the pieces in order, given, copied and batched alike', async () => {
  const source = bigBytes('hash worker pieces', 3 * 1024 * 1024 + 123);
  const sizes = [16, 262_144, 16, 7, 100_000, 300_000, 16, 1, 65_536, 2_500_000];
  const pieces: Uint8Array[] = [];
  for (let offset = 0, i = 0; offset < source.length; i++) {
    const size = sizes[i % sizes.length]!;
    pieces.push(source.subarray(offset, offset + size));
    offset += size;
  }
  const expected = sha256(source);
  const hasher = createBodyHasher(source.length);
  for (const [i, piece] of pieces.entries()) {
    if (i % 3 === 0) {
      const own = piece.slice(); // a piece with a buffer of its own: may be transferred
      hasher.update(own, true);
      if (own.length >= 16 * 1024) expect(own.length).toBe(0); // taken by the worker
    } else if (i % 3 === 1) {
      hasher.update(piece, true); // a view into a larger buffer: never taken, copied
      expect(piece.length).toBeGreaterThan(0);
    } else {
      const copy = piece.slice();
      hasher.update(copy); // not given: copied, the caller keeps it
      expect(same(copy, piece)).toBe(true);
    }
  }
  expect(await hasher.digest()).toEqual(expected);
  expect(source.length).toBeGreaterThan(0); // the source itself was never detached
});

test('small bodies and cancelled hashes', async () => {
  const small = fixedBytes('small', 1000);
  const local = createBodyHasher(small.length); // below the threshold: this thread
  local.update(small, true);
  expect(await local.digest()).toEqual(sha256(small));
  expect(small.length).toBe(1000);

  const cancelled = createBodyHasher(BACKGROUND_HASH_MIN_BYTES);
  cancelled.update(fixedBytes('abandoned', 200_000).slice(), true);
  cancelled.cancel();
  expect(() => cancelled.update(small)).toThrow();
  await expect(cancelled.digest()).rejects.toThrow();

  const after = createBodyHasher(BACKGROUND_HASH_MIN_BYTES); // the worker still serves new hashes
  after.update(small);
  expect(await after.digest()).toEqual(sha256(small));
  expect(await createBodyHasher(2 * BACKGROUND_HASH_MIN_BYTES).digest()).toEqual(sha256(new Uint8Array(0)));
});

test('an inline body sealed with the worker commits to its ciphertext and opens', async () => {
  const plaintext = bigBytes('large inline body', 3 * 1024 * 1024 + 5);
  const envelope = await sealEnvelope({ from: alice.signer, to: [bob.publicKey], type: 'backup/archive', chunkSize: 64 * 1024, body: plaintext });
  const data = envelope.data as Uint8Array;
  expect(envelope.body).toEqual({ size: data.length, sha256: sha256(data) });
  const bytes = encodeEnvelope(envelope);
  expect(verifyEnvelope(bytes, alice.publicKey).body).toEqual(envelope.body);
  expect(same((await openEnvelope(bytes, { sender: alice.publicKey, recipient: bob.key })).body, plaintext)).toBe(true);
  expect(same(plaintext, bigBytes('large inline body', 3 * 1024 * 1024 + 5))).toBe(true); // the caller's body is untouched

  // Several seals at once share the worker; each gets its own hash.
  const bodies = [1, 2, 3].map((n) => bigBytes(`concurrent ${n}`, 1024 * 1024 + n * 4096));
  const sealed = await Promise.all(bodies.map((body) => sealEnvelope({ from: alice.signer, to: [bob.publicKey], type: 'backup/archive', body })));
  for (const [i, e] of sealed.entries()) {
    expect(e.body).toEqual({ size: e.data!.length, sha256: sha256(e.data!) });
    expect(same((await openEnvelope(e, { sender: alice.publicKey, recipient: bob.key })).body, bodies[i])).toBe(true);
  }
});
