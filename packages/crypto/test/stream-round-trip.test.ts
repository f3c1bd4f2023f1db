import fc from 'fast-check';
import type { AesGcmBackend } from '../src/aead.js';
import {
  createDecryptStream,
  createEncryptStream,
  decryptChunks,
  decryptStream,
  encryptChunks,
  encryptStream,
  sealedStreamLength,
  STREAM_HEADER_LENGTH,
} from '../src/stream.js';

const CHUNK = 1024; // the smallest chunk size keeps multi-chunk cases cheap
const key = new Uint8Array(32).fill(7);
const aad = new TextEncoder().encode('envelope header');

/** Byte equality without Jest's slow element-by-element deep equality on large arrays. */
function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected)).toBe(true);
}

async function concat(pieces: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of pieces) parts.push(p);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** `bytes` cut at the given (sorted, deduplicated) offsets. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p)); // empty slices included on purpose
    prev = p;
  }
  return out;
}

function readableOf(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of pieces) controller.enqueue(p);
      controller.close();
    },
  });
}

async function* asAsync(pieces: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of pieces) yield p;
}

function body(length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

const bodyLength = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 4 }).map((k) => k * CHUNK), // exact multiples of the chunk size
  fc.integer({ min: 1, max: 4 }).map((k) => k * CHUNK + 1),
  fc.integer({ min: 1, max: 4 }).map((k) => k * CHUNK - 1),
  fc.nat(5 * CHUNK),
);
const cuts = fc.array(fc.nat(), { maxLength: 12 });

describe.each<AesGcmBackend>(['node', 'webcrypto'])('STREAM round trip on %s', (backend) => {
  test('any body, cut anywhere on both sides, decrypts to itself', async () => {
    await fc.assert(
      fc.asyncProperty(bodyLength, cuts, cuts, fc.boolean(), async (length, inCuts, outCuts, useAsync) => {
        const plaintext = body(length);
        const pieces = split(plaintext, inCuts);
        const sealed = await concat(
          encryptStream(key, useAsync ? asAsync(pieces) : pieces, { associatedData: aad, chunkSize: CHUNK, backend }),
        );
        expect(sealed.length).toBe(sealedStreamLength(length, CHUNK));
        const opened = await concat(decryptStream(key, asAsync(split(sealed, outCuts)), { associatedData: aad, backend }));
        expectBytes(opened, plaintext);
      }),
      { numRuns: 60 },
    );
  });

  test('the two backends read each other’s streams', async () => {
    const other: AesGcmBackend = backend === 'node' ? 'webcrypto' : 'node';
    const plaintext = body(3 * CHUNK + 17);
    const sealed = await encryptChunks(key, plaintext, { associatedData: aad, chunkSize: CHUNK, backend });
    expectBytes(await decryptChunks(key, sealed, { associatedData: aad, backend: other }), plaintext);
  });
});

test('a source that reuses one buffer for every slice still round-trips (slices are not kept)', async () => {
  const plaintext = body(10 * CHUNK + 5);
  function* reusing(): Generator<Uint8Array> {
    const scratch = new Uint8Array(700);
    for (let off = 0; off < plaintext.length; off += scratch.length) {
      const n = Math.min(scratch.length, plaintext.length - off);
      scratch.set(plaintext.subarray(off, off + n));
      yield scratch.subarray(0, n);
      scratch.fill(0xee); // clobber after the consumer has had its turn
    }
  }
  const sealed = await concat(encryptStream(key, reusing(), { chunkSize: CHUNK }));
  expectBytes(await decryptChunks(key, sealed), plaintext);
});

test('one-shot helpers match the streaming API and default to 64 KiB chunks', async () => {
  const plaintext = body(200_000);
  const sealed = await encryptChunks(key, plaintext, { associatedData: aad });
  expect(sealed.length).toBe(STREAM_HEADER_LENGTH + 200_000 + 4 * 16);
  expect(new DataView(sealed.buffer).getUint32(5)).toBe(65536);
  expectBytes(await concat(decryptStream(key, [sealed], { associatedData: aad })), plaintext);
});

test('an empty body seals to a header and one empty final chunk', async () => {
  const sealed = await encryptChunks(key, new Uint8Array(0));
  expect(sealed.length).toBe(STREAM_HEADER_LENGTH + 16);
  expect(await decryptChunks(key, sealed)).toEqual(new Uint8Array(0));
});

test('every stream gets a fresh nonce prefix, so equal inputs give different ciphertexts', async () => {
  const a = await encryptChunks(key, body(100));
  const b = await encryptChunks(key, body(100));
  expect(a.subarray(9, 16)).not.toEqual(b.subarray(9, 16));
  expect(a.subarray(16)).not.toEqual(b.subarray(16));
});

test('WHATWG TransformStreams round-trip through pipeThrough', async () => {
  const plaintext = body(5 * CHUNK + 3);
  const readable = readableOf(split(plaintext, [1, 900, 2048, 4000]))
    .pipeThrough(createEncryptStream(key, { associatedData: aad, chunkSize: CHUNK }))
    .pipeThrough(createDecryptStream(key, { associatedData: aad }));
  expectBytes(await concat(readable), plaintext);
});

test('a TransformStream decryptor errors the pipeline on tampering', async () => {
  const sealed = await encryptChunks(key, body(3 * CHUNK), { chunkSize: CHUNK });
  sealed[STREAM_HEADER_LENGTH + 5]! ^= 1;
  const readable = readableOf([sealed]).pipeThrough(createDecryptStream(key));
  await expect(concat(readable)).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
});
