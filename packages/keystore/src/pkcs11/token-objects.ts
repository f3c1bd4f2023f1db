// How keys are laid out on the token: attribute templates, curve identifiers, the KEK and the data
// objects that hold software keys wrapped under it.
import { KeyType as P11KeyType, ObjectClass, type ITemplate } from 'graphene-pk11';
import { KeyStoreError } from '../errors.js';
import type { KeyType } from '../key-store.js';

/** CKA_APPLICATION of the data objects holding wrapped software keys. */
export const WRAPPED_KEY_APPLICATION = 'milagro-keystore/1';
/** CKA_LABEL of the key-encryption keys; their CKA_ID is an 8-byte big-endian generation number. */
export const KEK_LABEL = 'milagro-keystore/kek';

/** Vendor-neutral mechanism numbers graphene has no names for (PKCS#11 v3.0). */
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
/** CKK_EC_EDWARDS (PKCS#11 v3.0), the key type of Ed25519 keys. */
export const CKK_EC_EDWARDS = 0x40;
/** CKM_EDDSA (PKCS#11 v3.0 §6.3.14). */
export const CKM_EDDSA = 0x1057;

// DER-encoded curve OIDs for CKA_EC_PARAMS.
const EC_PARAMS: Partial<Record<KeyType, string>> = {
  'p-256': '06082a8648ce3d030107', // 1.2.840.10045.3.1.7 prime256v1
  secp256k1: '06052b8104000a', // 1.3.132.0.10
  ed25519: '06032b6570', // 1.3.101.112 id-Ed25519 (RFC 8410)
};
// PrintableString "edwards25519": the PKCS#11 v3.0 alternative some tokens return.
const EDWARDS25519_NAME = '130c656477617264733235353139';

/** CKA_EC_PARAMS for an ECDSA or EdDSA key type. */
export function ecParams(type: KeyType): Buffer {
  const hex = EC_PARAMS[type];
  if (!hex) throw new KeyStoreError('UNSUPPORTED', `${type} keys have no EC parameters`);
  return Buffer.from(hex, 'hex');
}

/** The key type of a token key object, or undefined for keys this store does not manage. */
export function keyTypeOf(p11Type: number, params: Buffer | undefined): KeyType | undefined {
  if (p11Type === P11KeyType.AES) return 'aes-256';
  const hex = params?.toString('hex');
  if (p11Type === P11KeyType.EC) {
    if (hex === EC_PARAMS['p-256']) return 'p-256';
    if (hex === EC_PARAMS.secp256k1) return 'secp256k1';
  }
  if (p11Type === CKK_EC_EDWARDS && (hex === EC_PARAMS.ed25519 || hex === EDWARDS25519_NAME)) return 'ed25519';
  return undefined;
}

/** CKA_EC_POINT is a DER OCTET STRING around the point on most tokens; some return the bare point. */
export function decodeEcPoint(value: Buffer): Uint8Array {
  if (value.length >= 2 && value[0] === 0x04) {
    if (value[1] === value.length - 2) return new Uint8Array(value.subarray(2));
    if (value[1] === 0x81 && value[2] === value.length - 3) return new Uint8Array(value.subarray(3));
  }
  return new Uint8Array(value);
}

/** DER OCTET STRING around a point, for CKA_EC_POINT (points here are under 128 bytes). */
export function encodeEcPoint(point: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([0x04, point.length]), point]);
}

/** Attributes every HSM-resident private or secret key gets: on the token, never readable or exportable. */
export function residentKeyTemplate(id: Buffer, label: string): ITemplate {
  return { token: true, private: true, sensitive: true, extractable: false, id, label };
}

/** Template of a public-key object beside an HSM-resident private key. */
export function publicKeyTemplate(type: KeyType, id: Buffer, label: string): ITemplate {
  return {
    class: ObjectClass.PUBLIC_KEY,
    keyType: type === 'ed25519' ? CKK_EC_EDWARDS : P11KeyType.EC,
    token: true,
    private: false,
    verify: true,
    id,
    label,
    paramsECDSA: ecParams(type),
  };
}

/** What a data object holding a wrapped software key stores in CKA_VALUE. */
export interface WrappedKeyRecord {
  readonly id: string;
  readonly label: string;
  readonly type: KeyType;
  readonly publicKey?: Uint8Array;
  /** Generation of the KEK it is wrapped under. */
  readonly kek: number;
  /** AES-KEY-WRAP-PAD output. */
  readonly wrapped: Uint8Array;
}

/** Encodes a wrapped-key record as JSON for CKA_VALUE. */
export function encodeWrappedKeyRecord(record: WrappedKeyRecord): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: record.id,
      label: record.label,
      type: record.type,
      ...(record.publicKey ? { publicKey: Buffer.from(record.publicKey).toString('base64') } : {}),
      kek: record.kek,
      wrapped: Buffer.from(record.wrapped).toString('base64'),
    }),
  );
}

/** Decodes a wrapped-key record; `CORRUPTED` if it is not one. */
export function decodeWrappedKeyRecord(value: Buffer): WrappedKeyRecord {
  try {
    const raw = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    if (
      typeof raw.id !== 'string' ||
      typeof raw.label !== 'string' ||
      typeof raw.type !== 'string' ||
      typeof raw.kek !== 'number' ||
      typeof raw.wrapped !== 'string'
    ) {
      throw new Error('missing fields');
    }
    const base = {
      id: raw.id,
      label: raw.label,
      type: raw.type as KeyType,
      kek: raw.kek,
      wrapped: new Uint8Array(Buffer.from(raw.wrapped, 'base64')),
    };
    return typeof raw.publicKey === 'string'
      ? { ...base, publicKey: new Uint8Array(Buffer.from(raw.publicKey, 'base64')) }
      : base;
  } catch (cause) {
    throw new KeyStoreError('CORRUPTED', 'a wrapped-key object on the token is not readable', { cause });
  }
}

/**
 * The plaintext handed to C_WrapKey: a header binding id, label, type and public key (AES key wrap
 * has no associated data, so the binding travels inside), the secret's length, the secret, and zero
 * padding to a multiple of 8 bytes. Padding ourselves makes KWP add none, which sidesteps tokens
 * (SoftHSM 2.6) that return KWP-padded plaintext on unwrap; the explicit length makes either safe.
 */
export function frameSecret(record: Omit<WrappedKeyRecord, 'wrapped' | 'kek'>, secret: Uint8Array): Buffer {
  const header = Buffer.from(bindingOf(record), 'utf8');
  const body = Buffer.alloc(2 + header.length + 4 + secret.length);
  body.writeUInt16BE(header.length, 0);
  header.copy(body, 2);
  body.writeUInt32BE(secret.length, 2 + header.length);
  body.set(secret, 2 + header.length + 4);
  const padded = Buffer.alloc(Math.ceil(body.length / 8) * 8);
  body.copy(padded);
  body.fill(0);
  return padded;
}

/** Inverse of {@link frameSecret}; `CORRUPTED` if the frame is malformed or bound to another key. */
export function unframeSecret(record: Omit<WrappedKeyRecord, 'wrapped' | 'kek'>, frame: Uint8Array): Uint8Array {
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.length);
  const corrupted = () => new KeyStoreError('CORRUPTED', `wrapped key ${record.id} failed its integrity check`);
  if (buf.length < 6) throw corrupted();
  const headerLength = buf.readUInt16BE(0);
  if (2 + headerLength + 4 > buf.length) throw corrupted();
  if (buf.subarray(2, 2 + headerLength).toString('utf8') !== bindingOf(record)) throw corrupted();
  const secretLength = buf.readUInt32BE(2 + headerLength);
  const start = 2 + headerLength + 4;
  if (start + secretLength > buf.length || buf.subarray(start + secretLength).some((b) => b !== 0)) throw corrupted();
  return new Uint8Array(buf.subarray(start, start + secretLength));
}

function bindingOf(record: Omit<WrappedKeyRecord, 'wrapped' | 'kek'>): string {
  const publicKey = record.publicKey ? Buffer.from(record.publicKey).toString('base64') : '';
  return `${WRAPPED_KEY_APPLICATION}\0${JSON.stringify([record.id, record.label, record.type, publicKey])}`;
}
