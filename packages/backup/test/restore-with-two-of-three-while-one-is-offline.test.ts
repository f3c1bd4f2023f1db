/**
 * A node's data dir backed up to three fiduciaries (2 of 3), restored into a fresh directory by a
 * new identity with the owner's recovery secret while one fiduciary is offline: every file matches,
 * each release is in the releasing fiduciary's audit chain, and a second backup links the first.
 */
import { identitySigner } from '@milagro/pki';
import { decodeEnvelope } from '@milagro/envelope';
import { IdentityResolver } from '@milagro/pki';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createBackup,
  generateRecoverySecret,
  listBackups,
  recoveryPublicKey,
  requestShares,
  restoreBackup,
  depositBackup,
  AUDIT_TYPE,
} from '../src/index.js';
import { backUpNode, createParty, digestTree, DirectoryBlockStore, FiduciaryParty, MemoryBus, type Party, writeNodeFixture } from './support/backup-world.js';

jest.setTimeout(120_000);

describe('backup to 2 of 3 fiduciaries and restore with one offline', () => {
  let root: string;
  let store: DirectoryBlockStore;
  const bus = new MemoryBus();
  let node: Party;
  let online: FiduciaryParty[];
  let offline: Party;
  const secret = generateRecoverySecret();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'milagro-backup-test-'));
    store = await DirectoryBlockStore.create(join(root, 'blocks'));
    node = await createParty('node', store);
    online = [await FiduciaryParty.start('f1', root, store, bus), await FiduciaryParty.start('f2', root, store, bus)];
    offline = await createParty('f3', store);
  });

  afterAll(async () => {
    for (const f of online) await f.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('restores every file and the database rows, and the chain lists both backups', async () => {
    const source = await writeNodeFixture(join(root, 'live'));
    const resolver = new IdentityResolver({ store });
    const fiduciaries = await Promise.all([online[0]!.id, offline.id, online[1]!.id].map(async (id) => ({ id, publicKey: (await resolver.resolve(id)).keys.kem })));
    const first = await backUpNode(node, store, {
      source,
      fiduciaries,
      threshold: 2,
      secret,
    });
    expect(first.manifest.files).toBe(9); // config, keys, journal, 5 blocks, database (not the lock)
    const deposited = await depositBackup({ messenger: bus.messenger(node.id), manifest: first.cid, fiduciaries: fiduciaries.map((f) => f.id), minimum: 2, timeoutMs: 30_000 });
    expect([...deposited.pinned].sort()).toEqual(online.map((f) => f.id).sort());
    const second = await createBackup({
      source,
      signer: identitySigner(node.identity, node.keyStore),
      identity: node.identity.head,
      store,
      fiduciaries,
      threshold: 2,
      recovery: recoveryPublicKey(secret),
      prev: first.cid,
    });
    const chain = await listBackups(store, second.cid, resolver);
    expect(chain.map((b) => b.cid.toString())).toEqual([second.cid.toString(), first.cid.toString()]);

    // A fresh machine: a new identity asks for the shares of the newest backup.
    const restorer = await createParty('restorer', store);
    const collected = await requestShares({
      messenger: bus.messenger(restorer.id),
      requesterKem: restorer.identity.document.keys.kem,
      store,
      resolver,
      manifest: second.cid,
      recoverySecret: secret,
      timeoutMs: 30_000,
    });
    expect(collected.shares).toHaveLength(2);
    expect(collected.releasedBy.map((r) => r.fiduciary).sort()).toEqual(online.map((f) => f.id).sort());

    const target = join(root, 'restored', 'data');
    const configDir = join(root, 'restored');
    const restored = await restoreBackup({ store, manifest: second.cid, nodeSigningKey: collected.nodeSigningKey, shares: collected.shares, dataDir: target, configDir });
    expect(restored.files).toBe(9);
    const expected = await digestTree(source.dataDir);
    delete expected['keys.lock'];
    expect(await digestTree(target)).toEqual(expected);
    expect(await readFile(join(configDir, 'config.yaml'), 'utf8')).toBe(await readFile(source.configFile, 'utf8'));

    // Each release is an audit entry, sealed by and to the fiduciary, named in the release.
    for (const fiduciary of online) {
      const log = await fiduciary.service.auditLog();
      expect(log).toHaveLength(1);
      expect(log[0]!.requester).toBe(restorer.id);
      expect(collected.releasedBy.find((r) => r.fiduciary === fiduciary.id)?.audit).toBe(log[0]!.cid);
      const audit = decodeEnvelope(await store.get(log[0]!.cid));
      expect(audit.header.type).toBe(AUDIT_TYPE);
      expect(audit.header.from).toBe(fiduciary.id);
      expect(store.pinned.has(log[0]!.cid)).toBe(true);
      expect(await fiduciary.service.deposits(node.id)).toEqual([first.cid.toString()]);
    }
  });
});
