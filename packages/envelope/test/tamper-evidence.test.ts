/**
 * Tamper evidence: whatever an attacker (or a sender, where noted) changes, opening fails with a
 * typed EnvelopeError and never releases a wrong plaintext. Covers a flipped bit anywhere in the
 * encoding, truncated, reordered, dropped or duplicated stream chunks, swapped recipient entries,
 * and signatures by anyone but the sender.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { compositeSign, createSha256 } from '@milagro/crypto';
import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope, openEnvelope, openEnvelopeStream, sealEnvelope, sealEnvelopeStream, verifyEnvelope, type Envelope } from '../src/index.js';
import { SIGNATURE_CONTEXT } from '../src/constants.js';
import { equalBytes, signedBytes } from '../src/envelope-encoding.js';
import { fixedBytes, rejectsWith, testRecipients, testSender, type TestSender } from './identities.js';

const alice = testSender('alice');
const mallory = testSender('mallory');
const readers = testRecipients('reader', 2);
const body = fixedBytes('tamper body', 3000);
const opener = { sender: alice.publicKey, recipient: readers[0]!.key };
const REFUSALS = ['MALFORMED', 'UNSUPPORTED_VERSION', 'BAD_SIGNATURE', 'TAMPERED', 'TRUNCATED'];
/** Full opens of randomly placed bit flips (each costs a composite verification). */
const FLIP_RUNS = process.env['CI'] ? 500 : 200;
/** Every byte when CI is set; every 4th locally (the decode-and-compare loop is the slow part). */
const BYTE_STRIDE = process.env['CI'] ? 1 : 4;

/** What a dishonest *sender* can do: re-sign any header and body commitment with its real key. */
function resign(sender: TestSender, envelope: Envelope, body: Envelope['body'] = envelope.body): Envelope {
  const signature = compositeSign(sender.compositeSecretKey, signedBytes(1, envelope.header, body), SIGNATURE_CONTEXT);
  return { ...envelope, body, signature };
}

function sha256(bytes: Uint8Array): Uint8Array {
  return createSha256().update(bytes).digest();
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of source) parts.push(p.slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, p) => (out.set(p, offset), offset + p.length), 0);
  return out;
}

describe('a flipped bit anywhere', () => {
  let envelope: Envelope;
  let bytes: Uint8Array;

  beforeAll(async () => {
    envelope = await sealEnvelope({ from: alice.signer, to: readers.map((r) => r.publicKey), type: 'milagro/test/note', chunkSize: 1024, body });
    bytes = encodeEnvelope(envelope);
  });

  test('every byte of the encoding is covered: a flip breaks decoding, the signed bytes, the signature or the inline body', () => {
    // Exhaustive over the bytes under CI (one bit each, rotating), and needs no cryptography; the
    // tests below show that each of these four outcomes is refused when opening.
    const signed = signedBytes(1, envelope.header, envelope.body);
    for (let offset = 0; offset < bytes.length; offset += BYTE_STRIDE) {
      const bit = offset % 8;
      const mutated = bytes.slice();
      mutated[offset]! ^= 1 << bit;
      let decoded: Envelope;
      try {
        decoded = decodeEnvelope(mutated);
      } catch (err) {
        expect((err as { name?: string }).name).toBe('EnvelopeError');
        continue;
      }
      const covered =
        !equalBytes(signedBytes(1, decoded.header, decoded.body), signed) ||
        !equalBytes(decoded.signature, envelope.signature) ||
        !equalBytes(decoded.data!, envelope.data!);
      if (!covered) throw new Error(`bit ${bit} of byte ${offset} is not covered by the signature or the body commitment`);
    }
  });

  test('flipped bits at random positions are refused with a typed error when opening', async () => {
    const codes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: bytes.length - 1 }), fc.nat({ max: 7 }), async (offset, bit) => {
        const mutated = bytes.slice();
        mutated[offset]! ^= 1 << bit;
        codes.add(await rejectsWith(openEnvelope(mutated, opener), ...REFUSALS));
      }),
      { numRuns: FLIP_RUNS },
    );
    // Most flips land in signed fields or the signature; some break the encoding, some the inline body.
    expect(codes.has('BAD_SIGNATURE')).toBe(true);
  });

  test('the last bit of every field is refused when opening', async () => {
    const locate = (needle: Uint8Array): number => {
      for (let i = 0; i + needle.length <= bytes.length; i++) if (needle.every((b, j) => bytes[i + j] === b)) return i;
      throw new Error('field not found');
    };
    const fields = [
      envelope.header.nonce,
      envelope.header.to[0]!.kid,
      envelope.header.to[0]!.enc,
      envelope.header.to[0]!.ct,
      envelope.header.to[1]!.ct,
      'sha256' in envelope.body ? envelope.body.sha256 : new Uint8Array(),
      envelope.data!,
      envelope.signature,
    ];
    for (const field of fields) {
      const at = locate(field) + field.length - 1;
      const mutated = bytes.slice();
      mutated[at]! ^= 0x80;
      await rejectsWith(openEnvelope(mutated, opener), 'BAD_SIGNATURE', 'TAMPERED');
    }
  });

  test('a version this library does not know, or extra fields, are refused on decode', async () => {
    const raw = dagCbor.decode(bytes) as Record<string, unknown>;
    await rejectsWith(() => decodeEnvelope(dagCbor.encode({ ...raw, v: 2 })), 'UNSUPPORTED_VERSION');
    await rejectsWith(() => decodeEnvelope(dagCbor.encode({ ...raw, extra: 1 })), 'MALFORMED');
    const { data: _data, ...withoutData } = raw;
    const detached = decodeEnvelope(dagCbor.encode(withoutData));
    expect(detached.data).toBeUndefined();
    await rejectsWith(openEnvelope(detached, opener), 'INVALID_ARGUMENT');
  });
});

describe('truncated, reordered, dropped or duplicated stream chunks', () => {
  // 4 KiB chunks: the ciphertext is a 16-byte header, then sealed chunks of 4096 + 16 bytes.
  const plaintext = fixedBytes('streamed tamper body', 20_000);
  const HEADER = 16;
  const SEALED = 4096 + 16;
  const chunk = (c: Uint8Array, i: number) => c.subarray(HEADER + i * SEALED, HEADER + (i + 1) * SEALED);
  const join = (...parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((offset, p) => (out.set(p, offset), offset + p.length), 0);
    return out;
  };
  let envelope: Envelope;
  let ciphertext: Uint8Array;
  const open = async (env: Envelope, ct: Uint8Array) => collect(await openEnvelopeStream(env, { ...opener, body: [ct] }));

  beforeAll(async () => {
    const parts: Uint8Array[] = [];
    envelope = await sealEnvelopeStream(
      { from: alice.signer, to: [readers[0]!.publicKey], type: 'backup/archive', chunkSize: 4096, body: [plaintext] },
      (piece) => void parts.push(piece.slice()),
    );
    ciphertext = join(...parts);
    expect(ciphertext.length).toBe(HEADER + 4 * SEALED + (20_000 - 4 * 4096) + 16);
    expect(await open(envelope, ciphertext)).toEqual(plaintext);
  });

  const edits: [string, (c: Uint8Array) => Uint8Array, string][] = [
    ['cut at a chunk boundary', (c) => c.subarray(0, HEADER + 2 * SEALED), 'TRUNCATED'],
    ['cut inside a chunk', (c) => c.subarray(0, HEADER + 2 * SEALED + 100), 'TRUNCATED'],
    ['cut inside the header', (c) => c.subarray(0, 10), 'TRUNCATED'],
    ['chunks 0 and 1 swapped', (c) => join(c.subarray(0, HEADER), chunk(c, 1), chunk(c, 0), c.subarray(HEADER + 2 * SEALED)), 'TAMPERED'],
    ['chunk 1 dropped', (c) => join(c.subarray(0, HEADER + SEALED), c.subarray(HEADER + 2 * SEALED)), 'TAMPERED'],
    ['chunk 1 duplicated', (c) => join(c.subarray(0, HEADER + 2 * SEALED), chunk(c, 1), c.subarray(HEADER + 2 * SEALED)), 'TAMPERED'],
    ['a byte appended', (c) => join(c, new Uint8Array(1)), 'TAMPERED'],
    ['a bit flipped in chunk 2', (c) => c.map((b, i) => (i === HEADER + 2 * SEALED + 7 ? b ^ 0x10 : b)), 'TAMPERED'],
  ];

  test.each(edits)('%s: refused by the signed body commitment', async (_what, edit, code) => {
    await rejectsWith(open(envelope, edit(ciphertext)), code);
  });

  // A dishonest sender can sign a commitment to an edited stream; STREAM's chunk counter and
  // last-chunk flag still refuse it (defence in depth, and what protects a streamed plaintext
  // before the commitment is checked at the end).
  test.each(edits.filter(([what]) => !what.startsWith('a byte appended')))('%s: refused by STREAM even under a re-signed commitment', async (_what, edit) => {
    const edited = edit(ciphertext);
    const forged = resign(alice, envelope, { size: edited.length, sha256: sha256(edited) });
    verifyEnvelope(forged, alice.publicKey);
    await rejectsWith(open(forged, edited), 'TAMPERED', 'TRUNCATED');
  });

  test('no opener passes over the stream without a body, or with the wrong body form', async () => {
    await rejectsWith(openEnvelopeStream(envelope, opener), 'INVALID_ARGUMENT');
  });
});

describe('swapped recipient entries', () => {
  let envelope: Envelope;
  let other: Envelope;

  beforeAll(async () => {
    envelope = await sealEnvelope({ from: alice.signer, to: readers.map((r) => r.publicKey), type: 'milagro/test/note', body });
    other = await sealEnvelope({ from: alice.signer, to: readers.map((r) => r.publicKey), type: 'milagro/test/note', body });
  });

  test('swapping, transplanting or exchanging entries breaks the signature', async () => {
    const [first, second] = envelope.header.to as [Envelope['header']['to'][0], Envelope['header']['to'][0]];
    const swapped: Envelope = { ...envelope, header: { ...envelope.header, to: [second, first] } };
    await rejectsWith(openEnvelope(encodeEnvelope(swapped), opener), 'BAD_SIGNATURE');
    const exchanged: Envelope = { ...envelope, header: { ...envelope.header, to: [{ ...first, enc: second.enc, ct: second.ct }, { ...second, enc: first.enc, ct: first.ct }] } };
    await rejectsWith(openEnvelope(exchanged, opener), 'BAD_SIGNATURE');
    const transplanted: Envelope = { ...envelope, header: { ...envelope.header, to: [other.header.to[0]!, second] } };
    await rejectsWith(openEnvelope(transplanted, opener), 'BAD_SIGNATURE');
    // Another envelope's header with this body and signature, and the converse.
    await rejectsWith(openEnvelope({ ...envelope, header: other.header }, opener), 'BAD_SIGNATURE');
    await rejectsWith(openEnvelope({ ...envelope, data: other.data!, body: other.body }, opener), 'BAD_SIGNATURE');
    await rejectsWith(openEnvelope({ ...envelope, data: other.data! }, opener), 'TAMPERED');
  });

  test("even re-signed, an entry moved to another identity or envelope does not unwrap", async () => {
    const [first, second] = envelope.header.to as [Envelope['header']['to'][0], Envelope['header']['to'][0]];
    // reader-0's entry carrying reader-1's wrapped key: HPKE's aad binds the identity.
    const moved = resign(alice, { ...envelope, header: { ...envelope.header, to: [{ ...first, enc: second.enc, ct: second.ct }, second] } });
    await rejectsWith(openEnvelope(moved, opener), 'TAMPERED');
    // reader-0's entry from another envelope: HPKE's info binds the header nonce.
    const foreign = resign(alice, { ...envelope, header: { ...envelope.header, to: [other.header.to[0]!, second] } });
    await rejectsWith(openEnvelope(foreign, opener), 'TAMPERED');
  });
});

describe('a signature by someone other than the sender', () => {
  let envelope: Envelope;

  beforeAll(async () => {
    envelope = await sealEnvelope({ from: alice.signer, to: [readers[0]!.publicKey], type: 'milagro/test/note', body });
  });

  test("naming alice as sender but signed with mallory's key", async () => {
    const forged = await sealEnvelope({ from: { id: alice.id, sign: mallory.signer.sign }, to: [readers[0]!.publicKey], type: 'milagro/test/note', body });
    await rejectsWith(openEnvelope(encodeEnvelope(forged), opener), 'BAD_SIGNATURE');
    await rejectsWith(() => verifyEnvelope(forged, alice.publicKey), 'BAD_SIGNATURE');
  });

  test("alice's envelope re-signed by mallory, and mallory's own envelope expected from alice", async () => {
    await rejectsWith(openEnvelope(resign(mallory, envelope), opener), 'BAD_SIGNATURE');
    const own = await sealEnvelope({ from: mallory.signer, to: [readers[0]!.publicKey], type: 'milagro/test/note', body });
    await expect(openEnvelope(own, { ...opener, sender: mallory.publicKey })).resolves.toBeDefined();
    await rejectsWith(openEnvelope(own, opener), 'BAD_SIGNATURE');
    // Mallory's (valid) signature pasted onto alice's envelope.
    await rejectsWith(openEnvelope({ ...envelope, signature: own.signature }, opener), 'BAD_SIGNATURE');
  });

  test('the right key under another identity is refused too', async () => {
    await rejectsWith(openEnvelope(envelope, { ...opener, sender: { id: mallory.id, publicKey: alice.publicKey.publicKey } }), 'BAD_SIGNATURE');
  });
});
