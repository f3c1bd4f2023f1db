/**
 * Regression (found by the scheduled-backup process test): a fiduciary handled its inbox one message
 * at a time, so a deposit whose blocks had become unreachable (the depositing node stopped mid-run)
 * held every later release request for the deposit's whole retry deadline, 10 minutes. Deposits now
 * run beside the inbox: the owner's restore is answered while the deposit is still being tried.
 */
import { IdentityResolver } from '@milagro/pki';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { generateRecoverySecret, MESSAGE_TYPES, requestShares } from '../src/index.js';
import { encodeManifestNotice } from '../src/backup-messages.js';
import { backUpNode, createParty, DirectoryBlockStore, fiduciaryKey, FiduciaryParty, MemoryBus, writeNodeFixture } from './support/backup-world.js';

jest.setTimeout(120_000);

it('answers a release request while a deposit of unreachable blocks is still being tried', async () => {
  const root = await mkdtemp(join(tmpdir(), 'milagro-backup-stalled-'));
  const store = await DirectoryBlockStore.create(join(root, 'blocks'));
  const bus = new MemoryBus();
  const fiduciaries = [await FiduciaryParty.start('f1', root, store, bus), await FiduciaryParty.start('f2', root, store, bus)];
  try {
    const node = await createParty('node', store);
    const secret = generateRecoverySecret();
    const backup = await backUpNode(node, store, {
      source: await writeNodeFixture(join(root, 'source')),
      fiduciaries: fiduciaries.map((f) => fiduciaryKey(f.party)),
      threshold: 2,
      secret,
    });
    // A deposit of a manifest no one can serve: each fiduciary keeps trying to fetch it.
    const unreachable = CID.createV1(0x71, await sha256.digest(randomBytes(32)));
    for (const f of fiduciaries) await bus.messenger(node.id).send(f.id, { type: MESSAGE_TYPES.deposit, body: encodeManifestNotice(unreachable) });
    await new Promise((resolve) => setTimeout(resolve, 500));

    const restorer = await createParty('restorer', store);
    const collected = await requestShares({
      messenger: bus.messenger(restorer.id),
      requesterKem: restorer.identity.document.keys.kem,
      store,
      resolver: new IdentityResolver({ store }),
      manifest: backup.cid,
      recoverySecret: secret,
      timeoutMs: 30_000,
    });
    expect(collected.shares).toHaveLength(2);
    // The stalled deposit was neither pinned nor refused yet: it is still being tried.
    for (const f of fiduciaries) expect(f.events.filter((event) => event.event !== 'share-released')).toEqual([]);
  } finally {
    for (const f of fiduciaries) await f.stop();
    await rm(root, { recursive: true, force: true });
  }
});
