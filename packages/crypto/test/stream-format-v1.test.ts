// Re-derives a sealed stream byte for byte from the format written in the TSDoc of src/stream.ts,
// using node:crypto only, so the documentation (which goes into the envelope spec) and the code
// cannot drift apart.
import { createCipheriv, hkdfSync } from 'node:crypto';
import { encryptChunks, STREAM_HEADER_LENGTH } from '../src/stream.js';

function sealPerSpec(key: Uint8Array, header: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const chunkSize = view.getUint32(5);
  const prefix = header.subarray(9, 16);
  const subkey = Buffer.from(hkdfSync('sha256', key, header, Buffer.from('milagro/stream/v1 AES-256-GCM', 'ascii'), 32));
  const n = Math.max(1, Math.ceil(plaintext.length / chunkSize));
  const out: Buffer[] = [Buffer.from(header)];
  for (let i = 0; i < n; i++) {
    const nonce = Buffer.alloc(12);
    Buffer.from(prefix).copy(nonce, 0);
    nonce.writeUInt32BE(i, 7);
    nonce[11] = i === n - 1 ? 0x01 : 0x00;
    const cipher = createCipheriv('aes-256-gcm', subkey, nonce);
    cipher.setAAD(aad);
    out.push(cipher.update(plaintext.subarray(i * chunkSize, (i + 1) * chunkSize)), cipher.final(), cipher.getAuthTag());
  }
  return Buffer.concat(out);
}

const key = Uint8Array.from({ length: 32 }, (_, i) => i);
const aad = new TextEncoder().encode('milagro envelope header');

test.each([
  [0, 1024],
  [1, 1024],
  [1024, 1024],
  [2560, 1024],
  [3 * 4096, 4096],
  [70_000, 65536],
])('a %i-byte body with %i-byte chunks matches the documented format', async (length, chunkSize) => {
  const plaintext = Uint8Array.from({ length }, (_, i) => (i * 13) & 0xff);
  const sealed = await encryptChunks(key, plaintext, { associatedData: aad, chunkSize });
  const header = sealed.subarray(0, STREAM_HEADER_LENGTH);
  expect(Array.from(header.subarray(0, 5))).toEqual([0x6d, 0x73, 0x74, 0x01, 0x01]);
  expect(new DataView(header.buffer, header.byteOffset).getUint32(5)).toBe(chunkSize);
  expect(Buffer.from(sealed).equals(sealPerSpec(key, header, plaintext, aad))).toBe(true);
});
