/**
 * X-Wing as an HPKE KEM (draft-connolly-cfrg-xwing-kem §5.6, KEM id 0x647a) for `@hpke/core`,
 * backed by this package's X-Wing (`../xwing.ts`) so HPKE gets the WebCrypto X25519 fast path.
 * Internal: the public API is `hpkeSeal` / `hpkeOpen`.
 * @module
 */
import { KemId } from '@hpke/core';
import type { KemInterface, RecipientContextParams, SenderContextParams } from '@hpke/core';
import { shake256 } from '@noble/hashes/sha3.js';
import { CryptoError } from '../errors.js';
import { randomBytes } from '../random.js';
import { XWING_LENGTHS, XWingDecapsulationKey, xwingEncapsulate, type XWingDecapsulator } from '../xwing.js';

const ALGORITHM = { name: 'X-Wing' } as const;

/** A public X-Wing key in the `CryptoKey` shape that `@hpke/core` passes around. */
export class XWingPublicKeyHandle implements CryptoKey {
  readonly type = 'public' as const;
  readonly extractable = true;
  readonly algorithm = ALGORITHM;
  readonly usages: KeyUsage[] = [];
  constructor(readonly bytes: Uint8Array) {}
}

/** A private X-Wing key, holding the expanded decapsulation key. */
export class XWingPrivateKeyHandle implements CryptoKey {
  readonly type = 'private' as const;
  readonly extractable = false;
  readonly algorithm = ALGORITHM;
  readonly usages: KeyUsage[] = ['deriveBits'];
  constructor(readonly key: XWingDecapsulator) {}
}

/** The X-Wing KEM in `@hpke/core`'s `KemInterface`. */
export class XWingHpkeKem implements KemInterface {
  readonly id = KemId.XWing;
  readonly secretSize = XWING_LENGTHS.sharedSecret;
  readonly encSize = XWING_LENGTHS.ciphertext;
  readonly publicKeySize = XWING_LENGTHS.publicKey;
  readonly privateKeySize = XWING_LENGTHS.secretKey;

  async serializePublicKey(key: CryptoKey): Promise<ArrayBuffer> {
    return toArrayBuffer(publicKeyBytes(key));
  }

  async deserializePublicKey(key: ArrayBufferLike | ArrayBufferView): Promise<CryptoKey> {
    const bytes = toBytes(key);
    checkLength(bytes, XWING_LENGTHS.publicKey, 'X-Wing public key');
    return new XWingPublicKeyHandle(bytes.slice());
  }

  async serializePrivateKey(): Promise<ArrayBuffer> {
    // The expanded key must never leave the process (draft §5.5.1); keep the 32-byte seed instead.
    throw new CryptoError('INVALID_ARGUMENT', 'expanded X-Wing private keys are not serialisable');
  }

  async deserializePrivateKey(key: ArrayBufferLike | ArrayBufferView): Promise<CryptoKey> {
    return new XWingPrivateKeyHandle(XWingDecapsulationKey.fromSecretKey(toBytes(key)));
  }

  async importKey(format: 'raw' | 'jwk', key: ArrayBuffer | JsonWebKey, isPublic = true): Promise<CryptoKey> {
    if (format !== 'raw' || !(key instanceof ArrayBuffer)) {
      throw new CryptoError('INVALID_ARGUMENT', 'only raw X-Wing keys can be imported');
    }
    return isPublic ? this.deserializePublicKey(key) : this.deserializePrivateKey(key);
  }

  async generateKeyPair(): Promise<CryptoKeyPair> {
    const key = XWingDecapsulationKey.fromSecretKey(randomBytes(XWING_LENGTHS.secretKey));
    return { privateKey: new XWingPrivateKeyHandle(key), publicKey: new XWingPublicKeyHandle(key.publicKey) };
  }

  /** DeriveKeyPair(ikm) = GenerateKeyPairDerand(SHAKE256(ikm, 32 bytes)), draft §5.6. */
  async deriveKeyPair(ikm: ArrayBufferLike | ArrayBufferView): Promise<CryptoKeyPair> {
    const key = XWingDecapsulationKey.fromSecretKey(shake256(toBytes(ikm), { dkLen: XWING_LENGTHS.secretKey }));
    return { privateKey: new XWingPrivateKeyHandle(key), publicKey: new XWingPublicKeyHandle(key.publicKey) };
  }

  /** `params.ekm`, when given, is the 64-byte `eseed` of the derandomised encapsulation (tests only). */
  async encap(params: SenderContextParams): Promise<{ sharedSecret: ArrayBuffer; enc: ArrayBuffer }> {
    const eseed = params.ekm === undefined || isKeyPair(params.ekm) ? undefined : toBytes(params.ekm);
    const { sharedSecret, ciphertext } = await xwingEncapsulate(publicKeyBytes(params.recipientPublicKey), eseed);
    return { sharedSecret: toArrayBuffer(sharedSecret), enc: toArrayBuffer(ciphertext) };
  }

  async decap(params: RecipientContextParams): Promise<ArrayBuffer> {
    const recipientKey = isKeyPair(params.recipientKey) ? params.recipientKey.privateKey : params.recipientKey;
    if (!(recipientKey instanceof XWingPrivateKeyHandle)) {
      throw new CryptoError('INVALID_ARGUMENT', 'recipient key is not an X-Wing private key');
    }
    return toArrayBuffer(await recipientKey.key.decapsulate(toBytes(params.enc)));
  }
}

function publicKeyBytes(key: CryptoKey): Uint8Array {
  if (!(key instanceof XWingPublicKeyHandle)) {
    throw new CryptoError('INVALID_ARGUMENT', 'key is not an X-Wing public key');
  }
  return key.bytes;
}

function isKeyPair(value: unknown): value is CryptoKeyPair {
  return typeof value === 'object' && value !== null && 'privateKey' in value && 'publicKey' in value;
}

function toBytes(data: ArrayBufferLike | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

function checkLength(bytes: Uint8Array, expected: number, what: string): void {
  if (bytes.length !== expected) {
    throw new CryptoError('INVALID_LENGTH', `${what} must be ${expected} bytes, got ${bytes.length}`);
  }
}
