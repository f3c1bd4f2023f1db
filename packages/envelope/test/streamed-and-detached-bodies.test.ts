import {
  encodeEnvelope,
  openEnvelope,
  openEnvelopeStream,
  sealEnvelopeBlocks,
  sealEnvelopeStream,
  type BodyBlock,
} from '../src/index.js';
import { fixedBytes, rejectsWith, testRecipients, testSender } from './identities.js';

const alice = testSender('alice');
const [bob] = testRecipients('reader', 1) as [ReturnType<typeof testRecipients>[0]];

/** Yields `bytes` in slices of irregular sizes, as a network would. */
async function* slices(bytes: Uint8Array, sizes = [1, 7, 1000, 4096, 333]): AsyncGenerator<Uint8Array> {
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of source) parts.push(p.slice());
  return concat(parts);
}

const plaintext = fixedBytes('streamed body', 100_000);
const opener = { sender: alice.publicKey, recipient: bob.key };

describe('streamed bodies', () => {
  let ciphertext: Uint8Array;
  let envelopeBytes: Uint8Array;

  beforeAll(async () => {
    const parts: Uint8Array[] = [];
    const envelope = await sealEnvelopeStream(
      { from: alice.signer, to: [bob.publicKey], type: 'backup/archive', chunkSize: 4096, body: slices(plaintext) },
      (piece) => void parts.push(piece.slice()),
    );
    ciphertext = concat(parts);
    envelopeBytes = encodeEnvelope(envelope);
    expect(envelope.data).toBeUndefined();
    expect(envelope.body.size).toBe(ciphertext.length);
  });

  test('multi-chunk round trip, whatever the slicing', async () => {
    expect(await collect(await openEnvelopeStream(envelopeBytes, { ...opener, body: slices(ciphertext, [5, 4112, 9000]) }))).toEqual(plaintext);
    expect((await openEnvelope(envelopeBytes, { ...opener, body: [ciphertext] })).body).toEqual(plaintext);
  });
  // Cut, reordered, dropped, duplicated or altered stream chunks: tamper-evidence.test.ts.
});

describe('detached bodies as content-addressed blocks', () => {
  let blocks: BodyBlock[];
  let envelopeBytes: Uint8Array;

  beforeAll(async () => {
    blocks = [];
    const envelope = await sealEnvelopeBlocks(
      { from: alice.signer, to: [bob.publicKey], type: 'backup/archive', chunkSize: 1024, blockSize: 8192, body: slices(plaintext) },
      (block) => void blocks.push(block),
    );
    envelopeBytes = encodeEnvelope(envelope);
    expect('blocks' in envelope.body && envelope.body.blocks.map(String)).toEqual(blocks.map((b) => String(b.cid)));
    expect(blocks.length).toBeGreaterThan(10);
    expect(blocks.slice(0, -1).every((b) => b.bytes.length === 8192)).toBe(true);
    expect(blocks.every((b) => b.cid.code === 0x55)).toBe(true);
  });

  test('blocks given in order open to the plaintext', async () => {
    const opened = await openEnvelope(envelopeBytes, { ...opener, body: blocks.map((b) => b.bytes) });
    expect(opened.body).toEqual(plaintext);
  });

  test('a swapped, altered, missing or extra block is refused', async () => {
    const bytes = blocks.map((b) => b.bytes);
    const swapped = [bytes[1]!, bytes[0]!, ...bytes.slice(2)];
    await rejectsWith(openEnvelope(envelopeBytes, { ...opener, body: swapped }), 'TAMPERED');
    const altered = bytes.map((b, i) => (i === 3 ? b.map((x, j) => (j === 5 ? x ^ 1 : x)) : b));
    await rejectsWith(openEnvelope(envelopeBytes, { ...opener, body: altered }), 'TAMPERED');
    await rejectsWith(openEnvelope(envelopeBytes, { ...opener, body: bytes.slice(0, -1) }), 'TRUNCATED');
    await rejectsWith(openEnvelope(envelopeBytes, { ...opener, body: [...bytes, bytes[0]!] }), 'TAMPERED');
  });
});
