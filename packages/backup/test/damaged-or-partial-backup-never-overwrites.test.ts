/**
 * A backup whose blocks were altered, a backup with a block missing, and a restore with a forged
 * share are all refused, and the node being restored over keeps every byte it had: the body is
 * decrypted into a staging directory and moved into place only after it authenticated completely.
 */
import { IdentityResolver } from '@milagro/pki';
import { decodeEnvelope, type EnvelopeShare } from '@milagro/envelope';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRecoverySecret, requestShares, restoreBackup, type CreatedBackup } from '../src/index.js';
import { backUpNode, createParty, digestTree, DirectoryBlockStore, fiduciaryKey, FiduciaryParty, MemoryBus, writeNodeFixture } from './support/backup-world.js';

jest.setTimeout(120_000);

describe('a damaged or partial backup never overwrites the node', () => {
  let root: string;
  let store: DirectoryBlockStore;
  let fiduciaries: FiduciaryParty[];
  let backup: CreatedBackup;
  let shares: readonly EnvelopeShare[];
  let nodeSigningKey: Uint8Array;
  let live: string;
  let before: Record<string, string>;
  const secret = generateRecoverySecret();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'milagro-backup-damage-'));
    store = await DirectoryBlockStore.create(join(root, 'blocks'));
    const bus = new MemoryBus();
    const node = await createParty('node', store);
    fiduciaries = [await FiduciaryParty.start('f1', root, store, bus), await FiduciaryParty.start('f2', root, store, bus)];
    const resolver = new IdentityResolver({ store });
    // A 3 MiB body: four blocks, so there is a middle block to damage.
    const source = await writeNodeFixture(join(root, 'source'), { bigFileBytes: 3 * 1024 * 1024 });
    backup = await backUpNode(node, store, {
      source,
      fiduciaries: fiduciaries.map((f) => fiduciaryKey(f.party)),
      threshold: 2,
      secret,
    });
    const restorer = await createParty('restorer', store);
    const collected = await requestShares({ messenger: bus.messenger(restorer.id), requesterKem: restorer.identity.document.keys.kem, store, resolver, manifest: backup.cid, recoverySecret: secret, timeoutMs: 30_000 });
    shares = collected.shares;
    nodeSigningKey = collected.nodeSigningKey;
    // The node as it is now, which a bad restore must leave alone.
    live = (await writeNodeFixture(join(root, 'live'))).dataDir;
    before = await digestTree(live);
  });

  afterAll(async () => {
    for (const f of fiduciaries) await f.stop();
    await rm(root, { recursive: true, force: true });
  });

  async function expectUntouched(): Promise<void> {
    expect(await digestTree(live)).toEqual(before);
    expect((await readdir(join(root, 'live'))).filter((name) => name.includes('restoring'))).toEqual([]);
  }

  async function blocks(): Promise<string[]> {
    const envelope = decodeEnvelope(await store.get(backup.manifest.envelope));
    return 'blocks' in envelope.body ? envelope.body.blocks.map((cid) => cid.toString()) : [];
  }

  it('restores over the live node when the backup is whole (the control case)', async () => {
    const target = join(root, 'control', 'data');
    await restoreBackup({ store, manifest: backup.cid, nodeSigningKey, shares, dataDir: target });
    expect(Object.keys(await digestTree(target))).toContain('ipfs/blocks/big');
  });

  it('refuses a backup with one flipped byte in a body block', async () => {
    const cid = (await blocks())[2]!;
    const bytes = await store.get(cid);
    const original = bytes.slice();
    bytes[1000] = (bytes[1000] ?? 0) ^ 0x01;
    await writeFile(store.path(cid), bytes);
    try {
      await expect(restoreBackup({ store, manifest: backup.cid, nodeSigningKey, shares, dataDir: live, replace: true })).rejects.toMatchObject({ name: 'BackupError', code: 'TAMPERED' });
      await expectUntouched();
    } finally {
      await writeFile(store.path(cid), original);
    }
  });

  it('refuses a backup whose last block is missing', async () => {
    const all = await blocks();
    const cid = all[all.length - 1]!;
    const original = await store.get(cid);
    await store.remove(cid);
    try {
      await expect(restoreBackup({ store, manifest: backup.cid, nodeSigningKey, shares, dataDir: live, replace: true })).rejects.toMatchObject({ code: 'TRUNCATED' });
      await expectUntouched();
    } finally {
      await writeFile(store.path(cid), original);
    }
  });

  it('refuses a forged share, and too few shares', async () => {
    const forged = shares.map((share, i) => (i === 0 ? { ...share, value: new Uint8Array(32).fill(7) } : share));
    await expect(restoreBackup({ store, manifest: backup.cid, nodeSigningKey, shares: forged, dataDir: live, replace: true })).rejects.toMatchObject({ code: 'TAMPERED' });
    await expect(restoreBackup({ store, manifest: backup.cid, nodeSigningKey, shares: shares.slice(0, 1), dataDir: live, replace: true })).rejects.toMatchObject({ code: 'NOT_ENOUGH_SHARES' });
    await expectUntouched();
  });

  it('refuses a manifest signed by another key, and a non-empty target unless asked to replace it', async () => {
    const stranger = await createParty('stranger', store);
    await expect(restoreBackup({ store, manifest: backup.cid, nodeSigningKey: stranger.identity.document.keys.sign, shares, dataDir: live, replace: true })).rejects.toMatchObject({ code: 'MALFORMED' });
    await expect(restoreBackup({ store, manifest: backup.cid, nodeSigningKey, shares, dataDir: live })).rejects.toMatchObject({ code: 'TARGET_NOT_EMPTY' });
    await expectUntouched();
  });

  it('replaces the live node only when the backup is whole', async () => {
    await restoreBackup({ store, manifest: backup.cid, nodeSigningKey, shares, dataDir: live, replace: true });
    expect(await digestTree(live)).not.toEqual(before);
    expect(Object.keys(await digestTree(live))).toContain('ipfs/blocks/big');
  });
});
