/**
 * Identity documents (docs/specs/identity-v1.md §3): their typed form, deterministic DAG-CBOR
 * encoding, the bytes each signature covers, and strict decoding with every public key validated.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { BLS_POP_LENGTH, COMMITMENT_LENGTH, IDENTITY_VERSION, KEY_LENGTHS, MAX_DOCUMENT_BYTES, SIGNATURE_LENGTH } from './constants.js';
import { PkiError } from './errors.js';

/** The public keys of one generation of an identity (brief §3, "Identity keys"). */
export interface IdentityKeys {
  /** Composite signing key: Ed25519 public key (32) ‖ ML-DSA-65 public key (1952). */
  readonly sign: Uint8Array;
  /** X-Wing KEM public key (1216 bytes): what envelopes are sealed to. */
  readonly kem: Uint8Array;
  /** BLS12-381 public key, 48-byte compressed G1 (min-pk), for threshold and aggregate attestations. */
  readonly bls: Uint8Array;
  /** Optional secp256k1 public key, 33-byte compressed SEC1 (custody). */
  readonly secp256k1?: Uint8Array;
}

/** First document of an identity. Its CID is the identity. Signed by its own keys. */
export interface InceptionDocument {
  readonly v: typeof IDENTITY_VERSION;
  readonly type: 'inception';
  readonly seq: 0;
  /** Creation time, milliseconds since the Unix epoch (informative; not used for ordering). */
  readonly created: number;
  readonly keys: IdentityKeys;
  /** Pre-rotation commitment to the next generation's keys (see `commitToKeys`). */
  readonly next: Uint8Array;
  /** BLS proof of possession of `keys.bls` (draft-irtf-cfrg-bls-signature PopProve). */
  readonly pop: Uint8Array;
  readonly sigs: { readonly self: Uint8Array };
}

/** Replaces the keys: signed by the predecessor's keys and by the new ones, which must match the predecessor's commitment. */
export interface RotationDocument {
  readonly v: typeof IDENTITY_VERSION;
  readonly type: 'rotation';
  /** The identity (CID of its inception document). */
  readonly id: CID;
  /** CID of the predecessor. */
  readonly prev: CID;
  readonly seq: number;
  readonly created: number;
  readonly keys: IdentityKeys;
  readonly next: Uint8Array;
  readonly pop: Uint8Array;
  readonly sigs: { readonly self: Uint8Array; readonly prev: Uint8Array };
}

/** Ends the identity for good. Signed by the predecessor's keys. */
export interface RevocationDocument {
  readonly v: typeof IDENTITY_VERSION;
  readonly type: 'revocation';
  readonly id: CID;
  readonly prev: CID;
  readonly seq: number;
  readonly created: number;
  readonly sigs: { readonly prev: Uint8Array };
}

export type IdentityDocument = InceptionDocument | RotationDocument | RevocationDocument;
/** A document that carries keys (every type but revocation). */
export type KeyDocument = InceptionDocument | RotationDocument;

type CborMap = Record<string, unknown>;

function malformed(message: string, cause?: unknown): never {
  throw new PkiError('MALFORMED', message, cause === undefined ? undefined : { cause });
}

function keysToCbor(keys: IdentityKeys): CborMap {
  const out: CborMap = { sign: keys.sign, kem: keys.kem, bls: keys.bls };
  if (keys.secp256k1 !== undefined) out['secp256k1'] = keys.secp256k1;
  return out;
}

/** The document as a DAG-CBOR value, without `sigs`: what both signatures cover. */
function unsignedToCbor(document: IdentityDocument): CborMap {
  const out: CborMap = { v: document.v, type: document.type, seq: document.seq, created: document.created };
  if (document.type !== 'inception') {
    out['id'] = document.id;
    out['prev'] = document.prev;
  }
  if (document.type !== 'revocation') {
    out['keys'] = keysToCbor(document.keys);
    out['next'] = document.next;
    out['pop'] = document.pop;
  }
  return out;
}

function encodeCbor(value: unknown): Uint8Array {
  try {
    return dagCbor.encode(value);
  } catch (cause) {
    throw new PkiError('INVALID_ARGUMENT', 'value cannot be encoded as DAG-CBOR', { cause });
  }
}

/** DAG-CBOR of a key set: the input of the pre-rotation commitment. */
export function encodeKeys(keys: IdentityKeys): Uint8Array {
  return encodeCbor(keysToCbor(keys));
}

/** The exact bytes every signature of `document` covers: its DAG-CBOR without `sigs`. */
export function signedBytes(document: IdentityDocument | Omit<IdentityDocument, 'sigs'>): Uint8Array {
  return encodeCbor(unsignedToCbor(document as IdentityDocument));
}

/** A whole document as a DAG-CBOR data-model value (what `DocumentStore.putDag` stores). */
export function identityDocumentValue(document: IdentityDocument): CborMap {
  const value = unsignedToCbor(document);
  const sigs: CborMap = {};
  if ('self' in document.sigs) sigs['self'] = document.sigs.self;
  if ('prev' in document.sigs) sigs['prev'] = document.sigs.prev;
  value['sigs'] = sigs;
  return value;
}

/** Deterministic DAG-CBOR of a whole document: the bytes stored in IPFS and addressed by its CID. */
export function encodeIdentityDocument(document: IdentityDocument): Uint8Array {
  return encodeCbor(identityDocumentValue(document));
}

/** CIDv1 (DAG-CBOR, sha2-256) of encoded document bytes. */
export async function documentCid(bytes: Uint8Array): Promise<CID> {
  return CID.createV1(dagCbor.code, await sha256.digest(bytes));
}

// ---------------------------------------------------------------------------------------------
// Strict decoding

function isMap(value: unknown): value is CborMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && CID.asCID(value) === null;
}

function exactFields(map: CborMap, required: readonly string[], optional: readonly string[], what: string): void {
  for (const field of required) if (!(field in map)) malformed(`${what} lacks "${field}"`);
  for (const field of Object.keys(map)) {
    if (!required.includes(field) && !optional.includes(field)) malformed(`${what} has an unknown field "${field}"`);
  }
}

function bytesField(map: CborMap, field: string, length: number, what: string): Uint8Array {
  const value = map[field];
  if (!(value instanceof Uint8Array) || value.length !== length) malformed(`${what}.${field} must be ${length} bytes`);
  return value;
}

function uintField(map: CborMap, field: string, what: string): number {
  const value = map[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) malformed(`${what}.${field} must be a non-negative integer`);
  return value;
}

function cidField(map: CborMap, field: string, what: string): CID {
  const cid = CID.asCID(map[field]);
  if (cid === null || cid.version !== 1 || cid.code !== dagCbor.code || cid.multihash.code !== sha256.code) {
    malformed(`${what}.${field} must be a CIDv1 of a DAG-CBOR block hashed with sha2-256`);
  }
  return cid;
}

/** Decodes a key set: exact fields and lengths, and a secp256k1 key on its curve. */
function decodeKeys(value: unknown): IdentityKeys {
  if (!isMap(value)) malformed('keys must be a map');
  exactFields(value, ['sign', 'kem', 'bls'], ['secp256k1'], 'keys');
  const sign = bytesField(value, 'sign', KEY_LENGTHS.sign, 'keys');
  const kem = bytesField(value, 'kem', KEY_LENGTHS.kem, 'keys');
  // The BLS key's subgroup check (the costly one) is part of verification: see verifyKeyHolder.
  const blsKey = bytesField(value, 'bls', KEY_LENGTHS.bls, 'keys');
  if (!('secp256k1' in value)) return { sign, kem, bls: blsKey };
  const secp = bytesField(value, 'secp256k1', KEY_LENGTHS.secp256k1, 'keys');
  try {
    secp256k1.Point.fromBytes(secp).assertValidity();
  } catch (cause) {
    malformed('keys.secp256k1 is not a valid compressed secp256k1 point', cause);
  }
  return { sign, kem, bls: blsKey, secp256k1: secp };
}

/**
 * Decodes document bytes. Refuses anything that is not exactly a canonical version 1 document:
 * oversized input, non-canonical DAG-CBOR, unknown or missing fields, wrong lengths, a secp256k1
 * key off its curve. Signatures and the BLS key (a subgroup check) are NOT checked here: a decoded
 * document is not usable until `verifyInception` / `verifySuccessor` accept it.
 * @throws PkiError `MALFORMED` or `UNSUPPORTED_VERSION`.
 */
export function decodeIdentityDocument(bytes: Uint8Array): IdentityDocument {
  if (!(bytes instanceof Uint8Array)) throw new PkiError('INVALID_ARGUMENT', 'document bytes must be a Uint8Array');
  if (bytes.length > MAX_DOCUMENT_BYTES) malformed(`document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch (cause) {
    malformed('document is not valid DAG-CBOR', cause);
  }
  if (!isMap(value)) malformed('document must be a map');
  if (value['v'] !== IDENTITY_VERSION) {
    if (typeof value['v'] === 'number') throw new PkiError('UNSUPPORTED_VERSION', `identity document version ${String(value['v'])} is not supported`);
    malformed('document.v must be 1');
  }
  const document = decodeFields(value);
  // DAG-CBOR has one encoding per value: anything else (e.g. unsorted keys) is a second address for the same document.
  const canonical = encodeIdentityDocument(document);
  if (canonical.length !== bytes.length || !canonical.every((byte, i) => byte === bytes[i])) malformed('document is not canonical DAG-CBOR');
  return document;
}

function decodeFields(value: CborMap): IdentityDocument {
  const type = value['type'];
  const created = uintField(value, 'created', 'document');
  const seq = uintField(value, 'seq', 'document');
  const sigs = value['sigs'];
  if (!isMap(sigs)) malformed('document.sigs must be a map');
  switch (type) {
    case 'inception': {
      exactFields(value, ['v', 'type', 'seq', 'created', 'keys', 'next', 'pop', 'sigs'], [], 'inception');
      if (seq !== 0) malformed('inception.seq must be 0');
      exactFields(sigs, ['self'], [], 'inception.sigs');
      return {
        v: IDENTITY_VERSION,
        type,
        seq: 0,
        created,
        keys: decodeKeys(value['keys']),
        next: bytesField(value, 'next', COMMITMENT_LENGTH, 'inception'),
        pop: bytesField(value, 'pop', BLS_POP_LENGTH, 'inception'),
        sigs: { self: bytesField(sigs, 'self', SIGNATURE_LENGTH, 'inception.sigs') },
      };
    }
    case 'rotation': {
      exactFields(value, ['v', 'type', 'id', 'prev', 'seq', 'created', 'keys', 'next', 'pop', 'sigs'], [], 'rotation');
      if (seq === 0) malformed('rotation.seq must be at least 1');
      exactFields(sigs, ['self', 'prev'], [], 'rotation.sigs');
      return {
        v: IDENTITY_VERSION,
        type,
        id: cidField(value, 'id', 'rotation'),
        prev: cidField(value, 'prev', 'rotation'),
        seq,
        created,
        keys: decodeKeys(value['keys']),
        next: bytesField(value, 'next', COMMITMENT_LENGTH, 'rotation'),
        pop: bytesField(value, 'pop', BLS_POP_LENGTH, 'rotation'),
        sigs: { self: bytesField(sigs, 'self', SIGNATURE_LENGTH, 'rotation.sigs'), prev: bytesField(sigs, 'prev', SIGNATURE_LENGTH, 'rotation.sigs') },
      };
    }
    case 'revocation': {
      exactFields(value, ['v', 'type', 'id', 'prev', 'seq', 'created', 'sigs'], [], 'revocation');
      if (seq === 0) malformed('revocation.seq must be at least 1');
      exactFields(sigs, ['prev'], [], 'revocation.sigs');
      return {
        v: IDENTITY_VERSION,
        type,
        id: cidField(value, 'id', 'revocation'),
        prev: cidField(value, 'prev', 'revocation'),
        seq,
        created,
        sigs: { prev: bytesField(sigs, 'prev', SIGNATURE_LENGTH, 'revocation.sigs') },
      };
    }
    default:
      return malformed('document.type must be "inception", "rotation" or "revocation"');
  }
}
