/**
 * Builds identity documents directly from in-memory secret keys, without a key store: for test
 * vectors (deterministic keys from names) and for attackers who hold some keys but not others.
 */
import * as dagCbor from '@ipld/dag-cbor';
import {
  compositeKeyPairFromSeed,
  compositeSign,
  createBlsSignatures,
  nobleBackend,
  sha256,
  utf8ToBytes,
  xwingKeyPairFromSeed,
} from '@milagro/crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { CID } from 'multiformats/cid';
import {
  commitToKeys,
  documentCid,
  encodeIdentityDocument,
  signedBytes,
  type IdentityDocument,
  type IdentityKeys,
  type InceptionDocument,
  type RevocationDocument,
  type RotationDocument,
} from '../../src/index.js';

const bls = createBlsSignatures(nobleBackend);
const SELF = utf8ToBytes('milagro identity v1 self');
const PREV = utf8ToBytes('milagro identity v1 prev');

/** One generation's key pairs, derived from a name so vectors are reproducible. */
export interface Generation {
  readonly keys: IdentityKeys;
  readonly signSecret: Uint8Array;
  readonly blsSecret: Uint8Array;
}

export function generation(name: string, withSecp256k1 = false): Generation {
  const seed = (purpose: string): Uint8Array => sha256(utf8ToBytes(`milagro pki test ${purpose} ${name}`));
  const sign = compositeKeyPairFromSeed(seed('sign'));
  const blsSecret = bls.keyGen(seed('bls'));
  const keys: IdentityKeys = {
    sign: sign.publicKey,
    kem: xwingKeyPairFromSeed(seed('kem')).publicKey,
    bls: bls.skToPk(blsSecret),
    ...(withSecp256k1 ? { secp256k1: secp256k1.getPublicKey(seed('secp256k1'), true) } : {}),
  };
  return { keys, signSecret: sign.secretKey, blsSecret };
}

export const CREATED = 1_780_000_000_000;

export function inception(current: Generation, next: Generation): InceptionDocument {
  const unsigned = { v: 1, type: 'inception', seq: 0, created: CREATED, keys: current.keys, next: commitToKeys(next.keys), pop: bls.popProve(current.blsSecret) } as const;
  return { ...unsigned, sigs: { self: compositeSign(current.signSecret, signedBytes(unsigned), SELF) } };
}

/** A rotation to `current` (signed by it), authorised by `previous`'s signing key. */
export function rotation(
  id: CID,
  prev: CID,
  seq: number,
  previous: Generation,
  current: Generation,
  next: Generation,
  created = CREATED + seq,
): RotationDocument {
  const unsigned = { v: 1, type: 'rotation', id, prev, seq, created, keys: current.keys, next: commitToKeys(next.keys), pop: bls.popProve(current.blsSecret) } as const;
  const payload = signedBytes(unsigned);
  return { ...unsigned, sigs: { self: compositeSign(current.signSecret, payload, SELF), prev: compositeSign(previous.signSecret, payload, PREV) } };
}

export function revocation(id: CID, prev: CID, seq: number, previous: Generation): RevocationDocument {
  const unsigned = { v: 1, type: 'revocation', id, prev, seq, created: CREATED + seq } as const;
  return { ...unsigned, sigs: { prev: compositeSign(previous.signSecret, signedBytes(unsigned), PREV) } };
}

/** Stores a document as its exact encoding (as any DAG-CBOR store would) and returns its CID. */
export async function put(blocks: Map<string, Uint8Array>, document: IdentityDocument): Promise<CID> {
  const bytes = encodeIdentityDocument(document);
  const cid = await documentCid(bytes);
  blocks.set(cid.toString(), bytes);
  return cid;
}

/** A chain of `rotations` rotations after the inception; generation i is named `${name}-${i}`. */
export async function chain(
  blocks: Map<string, Uint8Array>,
  name: string,
  rotations: number,
): Promise<{ id: CID; cids: CID[]; documents: IdentityDocument[]; generations: Generation[] }> {
  const generations = Array.from({ length: rotations + 2 }, (_, i) => generation(`${name}-${i}`));
  const documents: IdentityDocument[] = [inception(generations[0]!, generations[1]!)];
  const cids = [await put(blocks, documents[0]!)];
  const id = cids[0]!;
  for (let seq = 1; seq <= rotations; seq++) {
    const document = rotation(id, cids[seq - 1]!, seq, generations[seq - 1]!, generations[seq]!, generations[seq + 1]!);
    documents.push(document);
    cids.push(await put(blocks, document));
  }
  return { id, cids, documents, generations };
}

export { dagCbor };
