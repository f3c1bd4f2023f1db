/**
 * A backup is checked under the node key of its time: after the node rotates its identity keys, the
 * fiduciaries still verify and release, the chain still lists, and the backup still restores. A
 * manifest that links a document of another identity is refused.
 */
import { identitySigner, IdentityResolver, rotateIdentity } from '@milagro/pki';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackup, generateRecoverySecret, listBackups, manifestValue, nodeKeyAtBackup, recoveryPublicKey, requestShares, restoreBackup, signManifest } from '../src/index.js';
import { backUpNode, createParty, digestTree, DirectoryBlockStore, fiduciaryKey, FiduciaryParty, MemoryBus, writeNodeFixture } from './support/backup-world.js';

jest.setTimeout(120_000);

describe('a backup made before a key rotation', () => {
  let root: string;
  let fiduciaries: FiduciaryParty[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'milagro-backup-rotation-'));
  });
  afterAll(async () => {
    for (const f of fiduciaries) await f.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('still verifies, lists and restores after the node rotated its keys', async () => {
    const store = await DirectoryBlockStore.create(join(root, 'blocks'));
    const bus = new MemoryBus();
    const node = await createParty('node', store);
    fiduciaries = [await FiduciaryParty.start('f1', root, store, bus), await FiduciaryParty.start('f2', root, store, bus)];
    const source = await writeNodeFixture(join(root, 'source'));
    const secret = generateRecoverySecret();
    const backup = await backUpNode(node, store, {
      source,
      fiduciaries: fiduciaries.map((f) => fiduciaryKey(f.party)),
      threshold: 2,
      secret,
    });
    const rotated = await rotateIdentity(node.identity, { keyStore: node.keyStore, store });
    const resolver = new IdentityResolver({ store });
    // The resolver has seen the rotation (as peers do from the node's messages): its current key is the new one.
    const current = await resolver.resolve(node.id, { heads: [rotated.head] });
    expect(current.head.equals(rotated.head)).toBe(true);
    expect(current.keys.sign).not.toEqual(node.identity.document.keys.sign);
    expect(await nodeKeyAtBackup(resolver, store, backup.manifest)).toEqual(node.identity.document.keys.sign);

    expect((await listBackups(store, backup.cid, resolver)).map((b) => b.cid.toString())).toEqual([backup.cid.toString()]);
    const restorer = await createParty('restorer', store);
    const collected = await requestShares({ messenger: bus.messenger(restorer.id), requesterKem: restorer.identity.document.keys.kem, store, resolver, manifest: backup.cid, recoverySecret: secret, timeoutMs: 30_000 });
    const target = join(root, 'restored');
    await restoreBackup({ store, manifest: backup.cid, nodeSigningKey: collected.nodeSigningKey, shares: collected.shares, dataDir: target });
    const expected = await digestTree(source.dataDir);
    delete expected['keys.lock'];
    expect(await digestTree(target)).toEqual(expected);
  });

  it('refuses a manifest that links another identity\'s document', async () => {
    const store = await DirectoryBlockStore.create(join(root, 'blocks-2'));
    const node = await createParty('node', store);
    const stranger = await createParty('stranger', store);
    const backup = await createBackup({
      source: { files: [] },
      signer: identitySigner(node.identity, node.keyStore),
      identity: node.identity.head,
      store,
      fiduciaries: [{ id: stranger.id, publicKey: stranger.identity.document.keys.kem }],
      threshold: 1,
      recovery: recoveryPublicKey(generateRecoverySecret()),
    });
    const forged = await signManifest({ ...backup.manifest, identity: stranger.identity.head }, identitySigner(node.identity, node.keyStore));
    const cid = await store.putDag(manifestValue(forged));
    await expect(listBackups(store, cid, new IdentityResolver({ store }))).rejects.toMatchObject({ name: 'BackupError', code: 'MALFORMED' });
  });
});
