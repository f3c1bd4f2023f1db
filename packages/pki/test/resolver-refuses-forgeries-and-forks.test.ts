import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { IdentityResolver, isPkiError } from '../src/index.js';
import { chain, generation, inception, put, revocation, rotation } from './support/document-builder.js';
import { expectPkiError } from './support/expect-pki-error.js';
import { MemoryDocumentStore } from './support/memory-document-store.js';

describe('the resolver', () => {
  it('follows a 10-step chain to the newest document, and uses its cache afterwards', async () => {
    const store = new MemoryDocumentStore();
    const alice = await chain(store.blocks, 'alice', 10);
    const resolver = new IdentityResolver({ store });
    const resolved = await resolver.resolve(alice.id, { heads: [alice.cids[10]!] });
    expect(resolved.seq).toBe(10);
    expect(resolved.keys).toEqual(alice.generations[10]!.keys);
    expect(store.reads).toBe(11);
    expect((await resolver.resolve(alice.id, { heads: [alice.cids[10]!, alice.cids[4]!] })).seq).toBe(10);
    expect(store.reads).toBe(11);
    // An older head learned later changes nothing.
    const fresh = new IdentityResolver({ store });
    await fresh.resolve(alice.id, { heads: [alice.cids[3]!] });
    expect((await fresh.resolve(alice.id, { heads: [alice.cids[2]!] })).seq).toBe(3);
  });

  it('refuses an unknown identity, a non-document and bytes that do not match their CID', async () => {
    const store = new MemoryDocumentStore();
    const resolver = new IdentityResolver({ store });
    const unknown = CID.createV1(dagCbor.code, await sha256.digest(new Uint8Array([1, 2, 3])));
    await expectPkiError(resolver.resolve(unknown), 'NOT_FOUND');
    await expectPkiError(resolver.resolve(await store.putDag({ hello: 'world' })), 'MALFORMED');
    await expectPkiError(resolver.resolve('not a cid'), 'INVALID_ARGUMENT');

    const alice = await chain(store.blocks, 'alice', 1);
    const bob = await chain(store.blocks, 'bob', 0);
    store.blocks.set(alice.id.toString(), store.blocks.get(bob.id.toString())!); // a lying store
    await expectPkiError(new IdentityResolver({ store }).resolve(alice.id), 'MALFORMED');
  });

  it('refuses a head of another identity, and a rotation signed by a stranger', async () => {
    const store = new MemoryDocumentStore();
    const alice = await chain(store.blocks, 'alice', 2);
    const bob = await chain(store.blocks, 'bob', 2);
    const resolver = new IdentityResolver({ store });
    await expectPkiError(resolver.resolve(alice.id, { heads: [bob.cids[2]!] }), 'BROKEN_CHAIN');

    const mallory = generation('mallory');
    const forged = rotation(alice.id, alice.id, 1, mallory, alice.generations[1]!, generation('mallory-next'));
    await expectPkiError(resolver.resolve(alice.id, { heads: [await put(store.blocks, forged)] }), 'BAD_SIGNATURE');
    expect((await resolver.resolve(alice.id, { heads: [alice.cids[2]!] })).seq).toBe(2);
  });

  it('pre-rotation: whoever steals the current keys cannot rotate to keys of their own', async () => {
    const store = new MemoryDocumentStore();
    const alice = await chain(store.blocks, 'alice', 1);
    const stolen = alice.generations[1]!; // current keys at seq 1
    const thiefKeys = generation('thief');
    const takeover = rotation(alice.id, alice.cids[1]!, 2, stolen, thiefKeys, generation('thief-next'));
    await expectPkiError(new IdentityResolver({ store }).resolve(alice.id, { heads: [await put(store.blocks, takeover)] }), 'BROKEN_CHAIN');
    // The owner's rotation to the committed keys still goes through.
    const honest = rotation(alice.id, alice.cids[1]!, 2, stolen, alice.generations[2]!, generation('alice-next'));
    expect((await new IdentityResolver({ store }).resolve(alice.id, { heads: [await put(store.blocks, honest)] })).seq).toBe(2);
  });

  it('reports a fork with both documents, at any depth, and keeps reporting it', async () => {
    const store = new MemoryDocumentStore();
    const alice = await chain(store.blocks, 'alice', 3);
    const g = alice.generations;
    // A second valid successor of document 1 (same committed keys, another next commitment), then one more step.
    const rival2 = rotation(alice.id, alice.cids[1]!, 2, g[1]!, g[2]!, generation('alice-rival-3'), 99);
    const rival2Cid = await put(store.blocks, rival2);
    const rival3 = rotation(alice.id, rival2Cid, 3, g[2]!, generation('alice-rival-3'), generation('alice-rival-4'));
    const rival3Cid = await put(store.blocks, rival3);

    const resolver = new IdentityResolver({ store });
    expect((await resolver.resolve(alice.id, { heads: [alice.cids[3]!] })).seq).toBe(3);
    const error = await resolver.resolve(alice.id, { heads: [rival3Cid] }).catch((e: unknown) => e);
    expect(isPkiError(error, 'FORKED')).toBe(true);
    expect((error as Error).message).toContain(alice.cids[2]!.toString());
    expect((error as Error).message).toContain(rival2Cid.toString());
    await expectPkiError(resolver.resolve(alice.id), 'FORKED');
    // Learning the branches in the other order is the same fork.
    await expectPkiError(new IdentityResolver({ store }).resolve(alice.id, { heads: [rival3Cid, alice.cids[3]!] }), 'FORKED');
  });

  it('refuses anything after a revocation, and a revocation signed by anyone but the current keys', async () => {
    const store = new MemoryDocumentStore();
    const alice = await chain(store.blocks, 'alice', 1);
    const g = alice.generations;
    const byThief = revocation(alice.id, alice.cids[1]!, 2, generation('thief'));
    await expectPkiError(new IdentityResolver({ store }).resolve(alice.id, { heads: [await put(store.blocks, byThief)] }), 'BAD_SIGNATURE');
    const revoked = await put(store.blocks, revocation(alice.id, alice.cids[1]!, 2, g[1]!));
    const after = await put(store.blocks, rotation(alice.id, revoked, 3, g[1]!, g[2]!, g[3] ?? generation('x')));
    await expectPkiError(new IdentityResolver({ store }).resolve(alice.id, { heads: [after] }), 'REVOKED');
    await expectPkiError(new IdentityResolver({ store }).resolve(alice.id, { heads: [revoked] }), 'REVOKED');
  });

  it('refuses a chain that starts anywhere but an inception', async () => {
    const store = new MemoryDocumentStore();
    const alice = await chain(store.blocks, 'alice', 1);
    await expectPkiError(new IdentityResolver({ store }).resolve(alice.cids[1]!), 'BROKEN_CHAIN');
    const lone = await put(store.blocks, inception(generation('carol'), generation('carol-next')));
    await expectPkiError(new IdentityResolver({ store }).resolve(alice.id, { heads: [lone] }), 'BROKEN_CHAIN');
  });

  it('serialises concurrent resolutions of one identity', async () => {
    const store = new MemoryDocumentStore();
    const alice = await chain(store.blocks, 'alice', 3);
    const resolver = new IdentityResolver({ store });
    const results = await Promise.all([resolver.resolve(alice.id, { heads: [alice.cids[3]!] }), resolver.resolve(alice.id), resolver.resolve(alice.id, { heads: [alice.cids[2]!] })]);
    expect(results.map((r) => r.seq)).toEqual([3, 3, 3]);
    expect(store.reads).toBe(4);
  });
});
