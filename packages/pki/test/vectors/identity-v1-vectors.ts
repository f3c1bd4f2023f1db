/**
 * The identity-v1 test vectors (docs/specs/identity-v1.md §9): what generate.ts writes to
 * identity-v1.json and what identity-v1-vectors.test.ts checks, on the committed file and on a
 * fresh set. Keys come from fixed seeds; ML-DSA-65 signing is hedged, so each run signs anew.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { bytesToHex, sha256 } from '@milagro/crypto';
import type { CID } from 'multiformats/cid';
import { commitToKeys, documentCid, encodeIdentityDocument, signedBytes, type IdentityDocument, type IdentityKeys } from '../../src/index.js';
import { generation, inception, put, revocation, rotation, type Generation } from '../support/document-builder.js';

export interface DocumentVector {
  /** What the document is, e.g. "alice seq 1 (rotation)". */
  readonly name: string;
  readonly cid: string;
  /** The document's DAG-CBOR bytes. */
  readonly document: string;
  /** SHA-256 of the bytes both signatures cover (the document without `sigs`). */
  readonly signedBytesSha256: string;
  /** For key documents: DAG-CBOR of `keys` and the commitment a predecessor must hold for them. */
  readonly keysCbor?: string;
  readonly keysCommitment?: string;
}

export interface ChainVector {
  readonly identity: string;
  readonly documents: DocumentVector[];
  /** Resolving `identity` with the last document as head gives this: the newest seq, or an error code. */
  readonly resolves: { readonly seq: number } | { readonly error: string };
}

export interface NegativeVector {
  readonly name: string;
  /** Identity to resolve, the documents (hex) available in the store, and the heads to pass. */
  readonly identity: string;
  readonly blocks: string[];
  readonly heads: string[];
  readonly error: string;
}

export interface VectorFile {
  readonly description: string;
  readonly generator: string;
  readonly chains: ChainVector[];
  readonly negative: NegativeVector[];
}

function keysVector(keys: IdentityKeys): Pick<DocumentVector, 'keysCbor' | 'keysCommitment'> {
  const value: Record<string, Uint8Array> = { sign: keys.sign, kem: keys.kem, bls: keys.bls };
  if (keys.secp256k1 !== undefined) value['secp256k1'] = keys.secp256k1;
  return { keysCbor: bytesToHex(dagCbor.encode(value)), keysCommitment: bytesToHex(commitToKeys(keys)) };
}

function documentVector(name: string, cid: CID, document: IdentityDocument): DocumentVector {
  return {
    name,
    cid: cid.toString(),
    document: bytesToHex(encodeIdentityDocument(document)),
    signedBytesSha256: bytesToHex(sha256(signedBytes(document))),
    ...(document.type === 'revocation' ? {} : keysVector(document.keys)),
  };
}

/** Builds a chain: inception, `rotations` rotations, and a revocation when `revoke`. */
async function chainVector(name: string, rotations: number, revoke: boolean, withSecp256k1: boolean): Promise<ChainVector> {
  const blocks = new Map<string, Uint8Array>();
  const g: Generation[] = Array.from({ length: rotations + 2 }, (_, i) => generation(`${name}-${i}`, withSecp256k1));
  const documents: IdentityDocument[] = [inception(g[0]!, g[1]!)];
  const cids = [await put(blocks, documents[0]!)];
  for (let seq = 1; seq <= rotations; seq++) {
    documents.push(rotation(cids[0]!, cids[seq - 1]!, seq, g[seq - 1]!, g[seq]!, g[seq + 1]!));
    cids.push(await put(blocks, documents[seq]!));
  }
  if (revoke) {
    documents.push(revocation(cids[0]!, cids[rotations]!, rotations + 1, g[rotations]!));
    cids.push(await put(blocks, documents[rotations + 1]!));
  }
  return {
    identity: cids[0]!.toString(),
    documents: documents.map((d, i) => documentVector(`${name} seq ${i} (${d.type})`, cids[i]!, d)),
    resolves: revoke ? { error: 'REVOKED' } : { seq: rotations },
  };
}

function hexOf(document: IdentityDocument): string {
  return bytesToHex(encodeIdentityDocument(document));
}

async function negativeVectors(): Promise<NegativeVector[]> {
  const blocks = new Map<string, Uint8Array>();
  const g = [0, 1, 2, 3].map((i) => generation(`dave-${i}`));
  const doc0 = inception(g[0]!, g[1]!);
  const id = await put(blocks, doc0);
  const doc1 = rotation(id, id, 1, g[0]!, g[1]!, g[2]!);
  const cid1 = await put(blocks, doc1);
  const base = { identity: id.toString() };
  const out: NegativeVector[] = [];

  const flipped = encodeIdentityDocument(doc0);
  // DAG-CBOR orders map keys by length, so find the self-signature by its bytes; flip a bit of its ML-DSA half.
  const at = Buffer.from(flipped).indexOf(Buffer.from(doc0.sigs.self.subarray(0, 64))) + 64 + 1000;
  flipped[at]! ^= 0x01;
  out.push({ name: 'inception with one flipped bit in its self-signature', identity: (await documentCid(flipped)).toString(), blocks: [bytesToHex(flipped)], heads: [], error: 'BAD_SIGNATURE' });

  const thief = generation('dave-thief');
  const takeover = rotation(id, cid1, 2, g[1]!, thief, g[3]!);
  out.push({ name: 'rotation signed by the current keys to keys that do not match the commitment', ...base, blocks: [hexOf(doc0), hexOf(doc1), hexOf(takeover)], heads: [(await put(blocks, takeover)).toString()], error: 'BROKEN_CHAIN' });

  const unauthorised = rotation(id, cid1, 2, thief, g[2]!, g[3]!);
  out.push({ name: 'rotation to the committed keys without the current keys\u2019 signature', ...base, blocks: [hexOf(doc0), hexOf(doc1), hexOf(unauthorised)], heads: [(await put(blocks, unauthorised)).toString()], error: 'BAD_SIGNATURE' });

  const rival = rotation(id, id, 1, g[0]!, g[1]!, g[3]!, 12345);
  out.push({ name: 'two valid rotations of the inception (a fork)', ...base, blocks: [hexOf(doc0), hexOf(doc1), hexOf(rival)], heads: [cid1.toString(), (await put(blocks, rival)).toString()], error: 'FORKED' });

  const skipped = rotation(id, id, 2, g[0]!, g[1]!, g[2]!);
  out.push({ name: 'rotation whose seq skips a number', ...base, blocks: [hexOf(doc0), hexOf(skipped)], heads: [(await put(blocks, skipped)).toString()], error: 'BROKEN_CHAIN' });

  const v2 = dagCbor.encode({ ...dagCbor.decode<Record<string, unknown>>(encodeIdentityDocument(doc0)), v: 2 });
  out.push({ name: 'document of format version 2', identity: (await documentCid(v2)).toString(), blocks: [bytesToHex(v2)], heads: [], error: 'UNSUPPORTED_VERSION' });
  return out;
}

export async function generateVectors(): Promise<VectorFile> {
  return {
    description:
      'Milagro identity documents, format v1 (docs/specs/identity-v1.md §9). Keys of generation i of <name> come from the seeds SHA-256("milagro pki test <purpose> <name>-<i>") for purpose sign (composite seed), kem (X-Wing seed), bls (IKM of KeyGen), secp256k1 (secret scalar). Hex is lowercase.',
    generator: 'packages/pki/test/vectors/generate.ts (keys from fixed seeds; ML-DSA-65 signing is hedged, so a rerun gives new signatures and CIDs that verify the same way)',
    chains: [await chainVector('alice', 3, false, false), await chainVector('bob', 1, true, false), await chainVector('carol', 0, false, true)],
    negative: await negativeVectors(),
  };
}
