/**
 * ChaCha20-Poly1305 (RFC 8439) as an HPKE AEAD (id 0x0003) for `@hpke/core`, whose own AEADs are
 * WebCrypto-only and so lack it. The cipher is `@noble/ciphers`'. Internal.
 * @module
 */
import { AeadId } from '@hpke/core';
import type { AeadEncryptionContext, AeadInterface } from '@hpke/core';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';

/** ChaCha20-Poly1305 in `@hpke/core`'s `AeadInterface`. */
export class ChaCha20Poly1305Aead implements AeadInterface {
  readonly id = AeadId.Chacha20Poly1305;
  readonly keySize = 32;
  readonly nonceSize = 12;
  readonly tagSize = 16;

  createEncryptionContext(key: ArrayBufferLike | ArrayBufferView): AeadEncryptionContext {
    const rawKey = toBytes(key).slice();
    return {
      seal: async (iv, data, aad) => toArrayBuffer(chacha20poly1305(rawKey, toBytes(iv), toBytes(aad)).encrypt(toBytes(data))),
      // noble throws on a bad tag; @hpke/core turns any throw here into its OpenError.
      open: async (iv, data, aad) => toArrayBuffer(chacha20poly1305(rawKey, toBytes(iv), toBytes(aad)).decrypt(toBytes(data))),
    };
  }
}

function toBytes(data: ArrayBufferLike | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : bytes.slice().buffer;
}
