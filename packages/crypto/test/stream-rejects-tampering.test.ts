import { createCipheriv, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { CryptoError } from '../src/errors.js';
import {
  createEncryptStream,
  decryptChunks,
  decryptStream,
  encryptChunks,
  encryptStream,
  STREAM_HEADER_LENGTH,
} from '../src/stream.js';

const CHUNK = 1024;
const SEALED_CHUNK = CHUNK + 16;
const key = new Uint8Array(32).fill(3);
const aad = new TextEncoder().encode('envelope header v1');

function body(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + 1) & 0xff);
}

function seal(length: number, options: { associatedData?: Uint8Array } = { associatedData: aad }): Promise<Uint8Array> {
  return encryptChunks(key, body(length), { ...options, chunkSize: CHUNK });
}

/** Sealed chunk `i` of a stream (a view). */
function chunk(sealed: Uint8Array, i: number): Uint8Array {
  const start = STREAM_HEADER_LENGTH + i * SEALED_CHUNK;
  return sealed.subarray(start, Math.min(start + SEALED_CHUNK, sealed.length));
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CryptoError);
  expect((err as CryptoError).code).toBe(code);
}

/** Decrypts with the test's associated data, other bytes, or (null) none at all. */
const open = (sealed: Uint8Array, associatedData: Uint8Array | null = aad) =>
  decryptChunks(key, sealed, associatedData === null ? {} : { associatedData });

describe('truncation is STREAM_TRUNCATED', () => {
  test('dropping the final chunk at a chunk boundary', async () => {
    const sealed = await seal(3 * CHUNK + 100);
    await expectCode(open(sealed.subarray(0, STREAM_HEADER_LENGTH + 3 * SEALED_CHUNK)), 'STREAM_TRUNCATED');
    await expectCode(open(sealed.subarray(0, STREAM_HEADER_LENGTH + SEALED_CHUNK)), 'STREAM_TRUNCATED');
  });

  test('dropping the final full-size chunk of an exact-multiple body', async () => {
    const sealed = await seal(3 * CHUNK);
    await expectCode(open(sealed.subarray(0, sealed.length - SEALED_CHUNK)), 'STREAM_TRUNCATED');
  });

  test('a header with no chunk, a partial header, or nothing at all', async () => {
    const sealed = await seal(10);
    await expectCode(open(sealed.subarray(0, STREAM_HEADER_LENGTH)), 'STREAM_TRUNCATED');
    await expectCode(open(sealed.subarray(0, 7)), 'STREAM_TRUNCATED');
    await expectCode(open(new Uint8Array(0)), 'STREAM_TRUNCATED');
  });

  test('fewer bytes than a tag after a boundary', async () => {
    const sealed = await seal(2 * CHUNK + 50);
    await expectCode(open(sealed.subarray(0, STREAM_HEADER_LENGTH + 2 * SEALED_CHUNK + 15)), 'STREAM_TRUNCATED');
  });

  test('a cut inside a chunk cannot be told from tampering: DECRYPTION_FAILED', async () => {
    const sealed = await seal(3 * CHUNK + 100);
    await expectCode(open(sealed.subarray(0, sealed.length - 1)), 'DECRYPTION_FAILED');
    await expectCode(open(sealed.subarray(0, STREAM_HEADER_LENGTH + SEALED_CHUNK + 500)), 'DECRYPTION_FAILED');
  });
});

describe('data after the final chunk', () => {
  test('after a full-size final chunk is STREAM_TRAILING_DATA', async () => {
    const sealed = await seal(2 * CHUNK);
    await expectCode(open(join(sealed, new Uint8Array([0]))), 'STREAM_TRAILING_DATA');
    await expectCode(open(join(sealed, chunk(sealed, 0))), 'STREAM_TRAILING_DATA');
  });

  test('after a short final chunk fails authentication (no length framing to find the end)', async () => {
    const sealed = await seal(2 * CHUNK + 10);
    await expectCode(open(join(sealed, new Uint8Array([0]))), 'DECRYPTION_FAILED');
  });
});

describe('DECRYPTION_FAILED', () => {
  test('wrong key', async () => {
    const sealed = await seal(2 * CHUNK + 1);
    const wrong = key.slice();
    wrong[31]! ^= 1;
    await expectCode(decryptChunks(wrong, sealed, { associatedData: aad }), 'DECRYPTION_FAILED');
  });

  test('wrong, missing or unexpected associated data', async () => {
    const sealed = await seal(CHUNK + 1);
    await expectCode(open(sealed, new TextEncoder().encode('envelope header v2')), 'DECRYPTION_FAILED');
    await expectCode(open(sealed, null), 'DECRYPTION_FAILED');
    const withoutAad = await seal(CHUNK + 1, {});
    await expectCode(open(withoutAad, aad), 'DECRYPTION_FAILED');
  });

  test('associated data is bound into every chunk, not just the first or last', async () => {
    // Chunks 0 and 1 of two streams with different AAD are never interchangeable, even though
    // the attacker cannot reach them without a key: check each chunk's tag depends on the AAD by
    // re-sealing with the subkey derivation documented in stream.ts.
    const sealed = await seal(3 * CHUNK + 5);
    const header = sealed.subarray(0, STREAM_HEADER_LENGTH);
    const subkey = new Uint8Array(hkdfSync('sha256', key, header, 'milagro/stream/v1 AES-256-GCM', 32));
    for (let i = 0; i < 4; i++) {
      const nonce = new Uint8Array(12);
      nonce.set(header.subarray(9, 16));
      new DataView(nonce.buffer).setUint32(7, i);
      nonce[11] = i === 3 ? 1 : 0;
      const plain = body(3 * CHUNK + 5).subarray(i * CHUNK, (i + 1) * CHUNK);
      const withAad = createCipheriv('aes-256-gcm', subkey, nonce).setAAD(aad);
      const withoutAad = createCipheriv('aes-256-gcm', subkey, nonce);
      withAad.update(plain);
      withAad.final();
      withoutAad.update(plain);
      withoutAad.final();
      const tag = chunk(sealed, i).subarray(-16);
      expect(Buffer.from(tag).equals(withAad.getAuthTag())).toBe(true);
      expect(Buffer.from(tag).equals(withoutAad.getAuthTag())).toBe(false);
    }
  });

  test('reordered chunks', async () => {
    const sealed = await seal(3 * CHUNK + 100);
    const header = sealed.subarray(0, STREAM_HEADER_LENGTH);
    await expectCode(open(join(header, chunk(sealed, 1), chunk(sealed, 0), chunk(sealed, 2), chunk(sealed, 3))), 'DECRYPTION_FAILED');
  });

  test('a duplicated chunk', async () => {
    const sealed = await seal(3 * CHUNK + 100);
    const header = sealed.subarray(0, STREAM_HEADER_LENGTH);
    await expectCode(
      open(join(header, chunk(sealed, 0), chunk(sealed, 0), chunk(sealed, 1), chunk(sealed, 2), chunk(sealed, 3))),
      'DECRYPTION_FAILED',
    );
  });

  test('a chunk spliced in from another stream under the same key', async () => {
    const a = await seal(2 * CHUNK + 9);
    const b = await seal(2 * CHUNK + 9);
    await expectCode(open(join(a.subarray(0, STREAM_HEADER_LENGTH), chunk(a, 0), chunk(b, 1), chunk(a, 2))), 'DECRYPTION_FAILED');
  });

  test('any flipped bit: no chunk at or after it is released, and the error is typed', async () => {
    const plaintext = body(4 * CHUNK + 300);
    const sealed = await encryptChunks(key, plaintext, { associatedData: aad, chunkSize: CHUNK });
    await fc.assert(
      fc.asyncProperty(fc.nat(sealed.length - 1), fc.integer({ min: 0, max: 7 }), async (where, bit) => {
        const tampered = sealed.slice();
        tampered[where]! ^= 1 << bit;
        const released: Uint8Array[] = [];
        let error: unknown;
        try {
          for await (const p of decryptStream(key, [tampered], { associatedData: aad })) released.push(p);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(CryptoError);
        if (where < STREAM_HEADER_LENGTH) {
          expect(['INVALID_ENCODING', 'DECRYPTION_FAILED']).toContain((error as CryptoError).code);
          expect(released).toHaveLength(0);
        } else {
          expect((error as CryptoError).code).toBe('DECRYPTION_FAILED');
          const damaged = Math.floor((where - STREAM_HEADER_LENGTH) / SEALED_CHUNK);
          expect(released).toHaveLength(damaged);
          const releasedBytes = join(...released);
          expect(Buffer.from(releasedBytes).equals(plaintext.subarray(0, damaged * CHUNK))).toBe(true);
        }
      }),
      { numRuns: 80 },
    );
  });
});

describe('header and input validation', () => {
  test('unknown magic, version or AEAD id is INVALID_ENCODING', async () => {
    const sealed = await seal(10);
    for (const index of [0, 1, 2, 3, 4]) {
      const bad = sealed.slice();
      bad[index]! ^= 0x40;
      await expectCode(open(bad), 'INVALID_ENCODING');
    }
  });

  test('a declared chunk size outside 1 KiB..16 MiB is INVALID_ENCODING', async () => {
    const sealed = await seal(10);
    for (const size of [0, 1023, 16 * 1024 * 1024 + 1, 0xffffffff]) {
      const bad = sealed.slice();
      new DataView(bad.buffer).setUint32(5, size);
      await expectCode(open(bad), 'INVALID_ENCODING');
    }
  });

  test('an empty final chunk after data is refused as non-canonical', async () => {
    // Forge it with the documented key schedule: only a key holder could, but the format has
    // exactly one encoding per plaintext.
    const sealed = await seal(CHUNK);
    const header = sealed.subarray(0, STREAM_HEADER_LENGTH);
    const subkey = new Uint8Array(hkdfSync('sha256', key, header, 'milagro/stream/v1 AES-256-GCM', 32));
    const nonce = (i: number, last: boolean) => {
      const n = new Uint8Array(12);
      n.set(header.subarray(9, 16));
      new DataView(n.buffer).setUint32(7, i);
      n[11] = last ? 1 : 0;
      return n;
    };
    const sealChunk = (i: number, last: boolean, plain: Uint8Array) => {
      const c = createCipheriv('aes-256-gcm', subkey, nonce(i, last)).setAAD(aad);
      const ct = c.update(plain);
      c.final();
      return join(ct, c.getAuthTag());
    };
    const forged = join(header, sealChunk(0, false, body(CHUNK)), sealChunk(1, true, new Uint8Array(0)));
    await expectCode(open(forged), 'INVALID_ENCODING');
  });

  test('bad keys and chunk sizes are refused synchronously', () => {
    expect(() => encryptStream(new Uint8Array(16), [])).toThrow(expect.objectContaining({ code: 'INVALID_LENGTH' }));
    expect(() => decryptStream(new Uint8Array(33), [])).toThrow(expect.objectContaining({ code: 'INVALID_LENGTH' }));
    for (const chunkSize of [0, 1023, 1024.5, 16 * 1024 * 1024 + 1, Number.NaN]) {
      expect(() => encryptStream(key, [], { chunkSize })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => createEncryptStream(key, { chunkSize })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  test('a source yielding something other than bytes is INVALID_ARGUMENT', async () => {
    const pieces = [new Uint8Array(3), 'text' as unknown as Uint8Array];
    await expectCode(encryptChunks(key, new Uint8Array(0)).then(() => decryptChunks(key, 'x' as unknown as Uint8Array)), 'INVALID_ARGUMENT');
    const drain = async () => {
      for await (const _ of encryptStream(key, pieces)) void _;
    };
    await expectCode(drain(), 'INVALID_ARGUMENT');
  });
});
