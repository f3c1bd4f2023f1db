import { compositeVerify, utf8ToBytes } from '@milagro/crypto';
import { isKeyStoreError, MemoryKeyStore } from '@milagro/keystore';
import { openEnvelope, sealEnvelope, xwingRecipientKey, encodeEnvelope } from '@milagro/envelope';
import {
  IdentityResolver,
  createIdentity,
  identitySigner,
  loadIdentity,
  revokeIdentity,
  rotateIdentity,
} from '../src/index.js';
import { expectPkiError } from './support/expect-pki-error.js';
import { MemoryDocumentStore } from './support/memory-document-store.js';

describe('an identity from inception to revocation', () => {
  const store = new MemoryDocumentStore();
  const keyStore = new MemoryKeyStore();
  const options = { keyStore, store };

  it('is created with its keys in the key store and published under its own CID', async () => {
    const alice = await createIdentity({ ...options, labelPrefix: 'alice', secp256k1: true });
    expect(alice.id.equals(alice.head)).toBe(true);
    expect(alice.document.type).toBe('inception');
    expect(store.pinned.has(alice.id.toString())).toBe(true);
    const labels = (await keyStore.list()).map((key) => key.label);
    for (const generation of [0, 1]) {
      for (const type of ['ed25519', 'ml-dsa-65', 'x-wing', 'bls12-381', 'secp256k1']) expect(labels).toContain(`alice/${generation}/${type}`);
    }
    const kem = await keyStore.publicKey({ label: 'alice/0/x-wing' });
    expect(alice.document.keys.kem).toEqual(kem);
    expect(alice.document.keys.secp256k1).toEqual(await keyStore.publicKey({ label: 'alice/0/secp256k1' }));

    const resolved = await new IdentityResolver({ store }).resolve(alice.id.toString());
    expect(resolved.seq).toBe(0);
    expect(resolved.head.equals(alice.id)).toBe(true);
    expect(resolved.keys.sign).toEqual(alice.document.keys.sign);
  });

  it('refuses a second identity under the same prefix', async () => {
    await expectPkiError(createIdentity({ ...options, labelPrefix: 'alice' }), 'INVALID_ARGUMENT');
  });

  it('rotates to the pre-rotated keys; resolvers given the head follow, and old signing keys are retired', async () => {
    let alice = await loadIdentity({ ...options, labelPrefix: 'alice' });
    const inceptionNext = alice.document.next;
    alice = await rotateIdentity(alice, options);
    expect(alice.document.seq).toBe(1);
    expect(alice.document.keys.kem).toEqual(await keyStore.publicKey({ label: 'alice/1/x-wing' }));
    expect(inceptionNext).not.toEqual(alice.document.next);
    const retired = await keyStore.describe({ label: 'alice/0/ed25519' }).then(() => 'still there', (e: unknown) => e);
    expect(isKeyStoreError(retired, 'NOT_FOUND')).toBe(true);
    // Generation 0's KEM key stays: envelopes sealed to it must still open.
    await keyStore.describe({ label: 'alice/0/x-wing' });
    alice = await rotateIdentity(alice, options);
    alice = await rotateIdentity(alice, options);

    const resolver = new IdentityResolver({ store });
    expect((await resolver.resolve(alice.id)).seq).toBe(0); // no head learned yet: the inception is all it knows
    const resolved = await resolver.resolve(alice.id, { heads: [alice.head.toString()] });
    expect(resolved.seq).toBe(3);
    expect(resolved.keys.sign).toEqual(alice.document.keys.sign);
    // Learned heads stay learned.
    expect((await resolver.resolve(alice.id)).seq).toBe(3);
  });

  it('signs envelopes through the key store with keys the resolver vouches for', async () => {
    const alice = await loadIdentity({ ...options, labelPrefix: 'alice' });
    const resolved = await new IdentityResolver({ store }).resolve(alice.id, { heads: [alice.head] });
    const signer = identitySigner(alice, keyStore);
    const message = utf8ToBytes('order 42');
    const context = utf8ToBytes('milagro test');
    expect(compositeVerify(resolved.keys.sign, message, await signer.sign(message, context), context)).toBe(true);

    const bobKeys = new MemoryKeyStore();
    const bob = await createIdentity({ keyStore: bobKeys, store, labelPrefix: 'bob' });
    const bobResolved = await new IdentityResolver({ store }).resolve(bob.id);
    const envelope = await sealEnvelope({
      from: signer,
      to: [{ id: bob.id.toString(), publicKey: bobResolved.keys.kem }],
      type: 'milagro/test/note',
      body: utf8ToBytes('hello bob'),
    });
    const bobKem = xwingRecipientKey(bob.id.toString(), await bobKeys.exportSecret({ label: 'bob/0/x-wing' }));
    const opened = await openEnvelope(encodeEnvelope(envelope), { sender: { id: resolved.id.toString(), publicKey: resolved.keys.sign }, recipient: bobKem });
    expect(new TextDecoder().decode(opened.body)).toBe('hello bob');
  });

  it('repeating a rotation from a stale state returns the recorded document instead of forking', async () => {
    const alice = await loadIdentity({ ...options, labelPrefix: 'alice' });
    const stale = { ...alice };
    const again = await rotateIdentity(await loadIdentity({ ...options, labelPrefix: 'alice' }), options);
    const replay = await rotateIdentity(stale, options);
    expect(replay.head.equals(again.head)).toBe(true);
    const resolver = new IdentityResolver({ store });
    expect((await resolver.resolve(alice.id, { heads: [again.head, replay.head] })).seq).toBe(4);
  });

  it('once revoked, never resolves, rotates or loads again', async () => {
    const alice = await loadIdentity({ ...options, labelPrefix: 'alice' });
    const resolver = new IdentityResolver({ store });
    await resolver.resolve(alice.id, { heads: [alice.head] });
    const revocation = await revokeIdentity(alice, options);
    expect(revocation.document.seq).toBe(alice.document.seq + 1);
    expect((await revokeIdentity(alice, options)).cid.equals(revocation.cid)).toBe(true);

    await expectPkiError(resolver.resolve(alice.id, { heads: [revocation.cid] }), 'REVOKED');
    await expectPkiError(resolver.resolve(alice.id), 'REVOKED'); // remembered
    await expectPkiError(new IdentityResolver({ store }).resolve(alice.id, { heads: [revocation.cid] }), 'REVOKED');
    await expectPkiError(rotateIdentity(alice, options), 'REVOKED');
    await expectPkiError(loadIdentity({ ...options, labelPrefix: 'alice' }), 'REVOKED');
  });
});
