/**
 * A fiduciary's per-node quota (`maxBytesPerNode`): a deposit that would make it keep more of one
 * node's backups than that is refused with QUOTA_EXCEEDED, naming the setting; retired backups do
 * not count, so once the node retired an old one the next deposit fits. Other nodes are not affected.
 */
import { identitySigner } from '@milagro/pki';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { depositBackup, generateRecoverySecret, retireBackups, type CreatedBackup } from '../src/index.js';
import { backUpNode, createParty, DirectoryBlockStore, fiduciaryKey, FiduciaryParty, MemoryBus, type Party, writeNodeFixture } from './support/backup-world.js';

jest.setTimeout(120_000);

let root: string;
let store: DirectoryBlockStore;
const bus = new MemoryBus();
let fiduciary: FiduciaryParty;
let node: Party;
const secret = generateRecoverySecret();

async function backUp(party: Party): Promise<CreatedBackup> {
  return backUpNode(party, store, { source: await writeNodeFixture(join(root, `source-${Math.random().toString(36).slice(2)}`)), fiduciaries: [fiduciaryKey(fiduciary.party)], threshold: 1, secret });
}

async function deposit(party: Party, backup: CreatedBackup): ReturnType<typeof depositBackup> {
  const messenger = bus.messenger(party.id);
  await messenger.consumed(bus.inbox(party.id).length);
  return depositBackup({ messenger, manifest: backup.cid, fiduciaries: [fiduciary.id], timeoutMs: 30_000 });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'milagro-backup-quota-'));
  store = await DirectoryBlockStore.create(join(root, 'blocks'));
  node = await createParty('node', store);
  // Room for one backup of the fixture (about 40 KB of archive) and a half.
  const probe = await backUpNode(node, store, { source: await writeNodeFixture(join(root, 'probe')), fiduciaries: [{ id: node.id, publicKey: node.identity.document.keys.kem }], threshold: 1, secret });
  fiduciary = await FiduciaryParty.start('fiduciary', root, store, bus, { maxBytesPerNode: Math.floor(probe.manifest.size * 1.5) });
});

afterAll(async () => {
  await fiduciary.stop();
  await rm(root, { recursive: true, force: true });
});

it('refuses the deposit over the quota, counts no retired backup, and leaves other nodes alone', async () => {
  const first = await backUp(node);
  expect((await deposit(node, first)).pinned).toEqual([fiduciary.id]);
  const second = await backUp(node);
  const refused = deposit(node, second);
  await expect(refused).rejects.toMatchObject({ name: 'BackupError', code: 'QUOTA_EXCEEDED' });
  await expect(refused).rejects.toThrow(/at most \d+ bytes of backups per node \(backupFiduciary\.maxBytesPerNode\).*retire old backups \(backup\.keep\)/);
  expect(fiduciary.events).toContainEqual(expect.objectContaining({ event: 'request-refused', code: 'QUOTA_EXCEEDED' }));

  // Another node has its own allowance.
  const other = await createParty('other', store);
  expect((await deposit(other, await backUp(other))).pinned).toEqual([fiduciary.id]);

  // Retired, the first no longer counts: the second fits now.
  const messenger = bus.messenger(node.id);
  await messenger.consumed(bus.inbox(node.id).length);
  const retired = await retireBackups({ messenger, signer: identitySigner(node.identity, node.keyStore), requests: new Map([[fiduciary.id, [first.cid]]]), timeoutMs: 30_000 });
  expect(retired.retiredBy).toEqual([fiduciary.id]);
  expect((await deposit(node, second)).pinned).toEqual([fiduciary.id]);
});
