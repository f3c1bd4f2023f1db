/**
 * Property tests: whatever bytes or values reach a decoder, it returns a valid envelope or throws
 * an EnvelopeError, never anything else. Run counts: the pure decoder properties run 10,000 times
 * when CI is set (1,000 locally), the opening property, which verifies and decrypts, 300 (100
 * locally); ENVELOPE_FUZZ_RUNS and ENVELOPE_FUZZ_CRYPTO_RUNS override them.
 */
import * as dagCbor from '@ipld/dag-cbor';
import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope, isEnvelopeError, openEnvelope, openEnvelopeStream, sealEnvelope, sealEnvelopeStream } from '../src/index.js';
import { testRecipients, testSender } from './identities.js';

const CI = Boolean(process.env['CI']);
const RUNS = Number(process.env['ENVELOPE_FUZZ_RUNS'] ?? (CI ? 10_000 : 1_000));
const CRYPTO_RUNS = Number(process.env['ENVELOPE_FUZZ_CRYPTO_RUNS'] ?? (CI ? 300 : 100));

const alice = testSender('alice');
const [bob] = testRecipients('reader', 1) as [ReturnType<typeof testRecipients>[0]];

function onlyEnvelopeErrors(run: () => unknown): boolean {
  try {
    run();
  } catch (err) {
    if (!isEnvelopeError(err)) throw err;
  }
  return true;
}

async function onlyEnvelopeErrorsAsync(run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
  } catch (err) {
    if (!isEnvelopeError(err)) throw err;
  }
  return true;
}

/** `bytes` with `remove` bytes at `at` replaced by `insert` (no spreading of large arrays). */
function splice(bytes: Uint8Array, at: number, remove: number, ...insert: number[]): Uint8Array {
  const tail = bytes.subarray(Math.min(bytes.length, at + remove));
  const out = new Uint8Array(at + insert.length + tail.length);
  out.set(bytes.subarray(0, at));
  out.set(insert, at);
  out.set(tail, at + insert.length);
  return out;
}

/** Replaces the value at a random path of a decoded DAG-CBOR tree. */
function replaceAt(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [step, ...rest] = path as [number, ...number[]];
  if (Array.isArray(value) && value.length > 0) {
    const copy = [...value];
    copy[step % copy.length] = replaceAt(copy[step % copy.length], rest, replacement);
    return copy;
  }
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array) && !('/' in value) && !('asCID' in value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return replacement;
    const key = keys[step % keys.length]!;
    return { ...(value as Record<string, unknown>), [key]: replaceAt((value as Record<string, unknown>)[key], rest, replacement) };
  }
  return replacement;
}

/** DAG-CBOR-encodable values (no undefined, no floats that are integers in disguise). */
const cborValue = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.integer({ min: -2, max: 2 ** 40 }),
    fc.string({ maxLength: 80 }),
    fc.uint8Array({ maxLength: 64 }),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(0, 1, 2, 16, 32, 48, 1120, 3373),
  ),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 12 }), tie('node'), { maxKeys: 4 })),
})).node;

describe('decoder properties', () => {
  let valid: Uint8Array;
  let tree: unknown;

  beforeAll(async () => {
    const envelope = await sealEnvelope({ from: alice.signer, to: [bob.publicKey], type: 'milagro/test/note', body: new Uint8Array(40) });
    valid = encodeEnvelope(envelope);
    tree = dagCbor.decode(valid);
  });

  test('random bytes: decodeEnvelope never throws anything but EnvelopeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => onlyEnvelopeErrors(() => decodeEnvelope(bytes))), { numRuns: RUNS });
  });

  test('mutated envelope bytes: decodeEnvelope never throws anything but EnvelopeError', () => {
    const mutation = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate'),
      byte: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        let bytes: Uint8Array = valid.slice();
        for (const m of mutations) {
          const at = m.at % (bytes.length + 1);
          if (m.kind === 'flip' && at < bytes.length) bytes[at] = bytes[at]! ^ (m.byte || 1);
          if (m.kind === 'insert') bytes = splice(bytes, at, 0, m.byte);
          if (m.kind === 'delete') bytes = splice(bytes, at, 1);
          if (m.kind === 'truncate') bytes = bytes.subarray(0, at);
        }
        return onlyEnvelopeErrors(() => decodeEnvelope(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  test('structurally mutated envelopes: decode and re-encode agree or fail typed', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 5 }), cborValue, (path, replacement) => {
        let bytes: Uint8Array;
        try {
          bytes = dagCbor.encode(replaceAt(tree, path, replacement));
        } catch {
          return true; // not encodable as DAG-CBOR (e.g. an unsafe integer): not an input
        }
        return onlyEnvelopeErrors(() => {
          const decoded = decodeEnvelope(bytes);
          // Whatever decodes re-encodes to the very same bytes.
          expect(encodeEnvelope(decoded)).toEqual(bytes);
        });
      }),
      { numRuns: RUNS },
    );
  });

  test('mutated envelopes and bodies: opening never throws anything but EnvelopeError', async () => {
    const parts: Uint8Array[] = [];
    const streamed = encodeEnvelope(
      await sealEnvelopeStream({ from: alice.signer, to: [bob.publicKey], type: 't/x', chunkSize: 1024, body: [new Uint8Array(3000)] }, (p) => void parts.push(p.slice())),
    );
    const ciphertext = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((offset, p) => (ciphertext.set(p, offset), offset + p.length), 0);
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(), async (at, mask, cut) => {
        const bytes = valid.slice();
        bytes[at % bytes.length]! ^= mask;
        await onlyEnvelopeErrorsAsync(() => openEnvelope(bytes, { sender: alice.publicKey, recipient: bob.key }));
        const body = ciphertext.slice(0, ciphertext.length - (cut % 3 === 0 ? cut % 200 : 0));
        body[at % body.length]! ^= mask;
        return onlyEnvelopeErrorsAsync(async () => {
          for await (const _ of await openEnvelopeStream(streamed, { sender: alice.publicKey, recipient: bob.key, body: [body] })) void _;
        });
      }),
      { numRuns: CRYPTO_RUNS },
    );
  });
});
