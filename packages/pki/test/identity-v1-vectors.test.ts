/**
 * Checks the published identity-v1 vectors (test/vectors/identity-v1.json) as another
 * implementation would: every document decodes, re-encodes to the same bytes, has the stated CID
 * and signed-bytes digest, its keys have the stated DAG-CBOR and commitment, each predecessor holds
 * its successor's commitment, and each chain resolves as stated; each negative vector fails with its
 * code. The same checks run on a freshly generated set, so the generator cannot drift from the file.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { bytesToHex, hexToBytes, sha256 } from '@milagro/crypto';
import { CID } from 'multiformats/cid';
import { commitToKeys, decodeIdentityDocument, documentCid, encodeIdentityDocument, IdentityResolver, isPkiError, signedBytes } from '../src/index.js';
import { MemoryDocumentStore } from './support/memory-document-store.js';
import committed from './vectors/identity-v1.json';
import { generateVectors, type VectorFile } from './vectors/identity-v1-vectors.js';

async function storeOf(hexBlocks: string[]): Promise<MemoryDocumentStore> {
  const store = new MemoryDocumentStore();
  for (const hex of hexBlocks) {
    const bytes = hexToBytes(hex);
    store.blocks.set((await documentCid(bytes)).toString(), bytes);
  }
  return store;
}

async function checkFile(file: VectorFile): Promise<void> {
  for (const chain of file.chains) {
    let previousNext: string | undefined;
    for (const vector of chain.documents) {
      const bytes = hexToBytes(vector.document);
      const document = decodeIdentityDocument(bytes);
      expect(bytesToHex(encodeIdentityDocument(document))).toBe(vector.document);
      expect((await documentCid(bytes)).toString()).toBe(vector.cid);
      expect(bytesToHex(sha256(signedBytes(document)))).toBe(vector.signedBytesSha256);
      if (document.type !== 'revocation') {
        const keys = dagCbor.decode<Record<string, Uint8Array>>(hexToBytes(vector.keysCbor!));
        expect(keys).toEqual({ ...document.keys });
        expect(bytesToHex(commitToKeys(document.keys))).toBe(vector.keysCommitment);
        if (previousNext !== undefined) expect(vector.keysCommitment).toBe(previousNext);
        previousNext = bytesToHex(document.next);
      }
    }
    expect(chain.identity).toBe(chain.documents[0]!.cid);
    const store = await storeOf(chain.documents.map((d) => d.document));
    const head = chain.documents[chain.documents.length - 1]!.cid;
    const outcome = await new IdentityResolver({ store }).resolve(chain.identity, { heads: [head] }).then(
      (resolved) => ({ seq: resolved.seq }),
      (error: unknown) => ({ error: isPkiError(error) ? error.code : String(error) }),
    );
    expect(outcome).toEqual(chain.resolves);
  }
  for (const vector of file.negative) {
    const store = await storeOf(vector.blocks);
    const error = await new IdentityResolver({ store }).resolve(CID.parse(vector.identity), { heads: vector.heads }).then(
      () => 'resolved',
      (e: unknown) => (isPkiError(e) ? e.code : String(e)),
    );
    expect(`${vector.name}: ${error}`).toBe(`${vector.name}: ${vector.error}`);
  }
}

describe('identity-v1 test vectors', () => {
  it('the committed vectors check out', async () => {
    expect(committed.chains.length).toBeGreaterThanOrEqual(3);
    expect(committed.negative.length).toBeGreaterThanOrEqual(6);
    await checkFile(committed as VectorFile);
  });

  it('a freshly generated set checks out the same way', async () => {
    await checkFile(await generateVectors());
  });
});
