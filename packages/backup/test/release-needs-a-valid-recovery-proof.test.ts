/**
 * A fiduciary releases its share only against a recovery proof by the backup's recovery key that
 * names the requester and its KEM key and is fresh: a wrong secret, a stale proof, a proof replayed
 * by another identity and a request for a backup it does not hold a share of are refused, answered
 * with a refusal, and leave its audit chain empty.
 */
import { IdentityResolver } from '@milagro/pki';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateRecoverySecret,
  MESSAGE_TYPES,
  proveRecovery,
  requestShares,
  type CreatedBackup,
} from '../src/index.js';
import { decodeRefusal, encodeReleaseRequest } from '../src/backup-messages.js';
import { backUpNode, createParty, DirectoryBlockStore, fiduciaryKey, FiduciaryParty, MemoryBus, type Party, writeNodeFixture } from './support/backup-world.js';

jest.setTimeout(120_000);

describe('a fiduciary releases only against a valid recovery proof', () => {
  let root: string;
  let store: DirectoryBlockStore;
  const bus = new MemoryBus();
  let fiduciaries: FiduciaryParty[];
  let backup: CreatedBackup;
  let resolver: IdentityResolver;
  const secret = generateRecoverySecret();

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'milagro-backup-proof-'));
    store = await DirectoryBlockStore.create(join(root, 'blocks'));
    resolver = new IdentityResolver({ store });
    const node = await createParty('node', store);
    fiduciaries = [await FiduciaryParty.start('f1', root, store, bus), await FiduciaryParty.start('f2', root, store, bus)];
    backup = await backUpNode(node, store, {
      source: await writeNodeFixture(join(root, 'source')),
      fiduciaries: fiduciaries.map((f) => fiduciaryKey(f.party)),
      threshold: 2,
      secret,
    });
  });

  afterAll(async () => {
    for (const f of fiduciaries) await f.stop();
    await rm(root, { recursive: true, force: true });
  });

  async function expectNoRelease(): Promise<void> {
    for (const f of fiduciaries) expect(await f.service.auditLog()).toEqual([]);
  }

  /** Sends a raw release request as `from` and waits for the first fiduciary's refusal. */
  async function refusalFor(from: Party, body: Uint8Array): Promise<{ code: string }> {
    const messenger = bus.messenger(from.id);
    const seen = bus.inbox(from.id).length;
    await messenger.send(fiduciaries[0]!.id, { type: MESSAGE_TYPES.releaseRequest, body });
    for (let i = 0; i < 600; i++) {
      const answer = bus.inbox(from.id).slice(seen).find((m) => m.from === fiduciaries[0]!.id);
      if (answer !== undefined) {
        expect(answer.type).toBe(MESSAGE_TYPES.refusal);
        return decodeRefusal(answer.body);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('no answer');
  }

  it('refuses a wrong recovery secret (NOT_AUTHORISED from every fiduciary)', async () => {
    const restorer = await createParty('wrong-secret', store);
    await expect(
      requestShares({ messenger: bus.messenger(restorer.id), requesterKem: restorer.identity.document.keys.kem, store, resolver, manifest: backup.cid, recoverySecret: generateRecoverySecret(), timeoutMs: 30_000 }),
    ).rejects.toMatchObject({ name: 'BackupError', code: 'NOT_AUTHORISED' });
    await expectNoRelease();
  });

  it('refuses a stale proof', async () => {
    const restorer = await createParty('stale', store);
    const issued = Date.now() - 60 * 60 * 1000;
    const proof = proveRecovery(secret, { manifest: backup.cid, requester: restorer.id, requesterKem: restorer.identity.document.keys.kem, issued });
    expect((await refusalFor(restorer, encodeReleaseRequest({ manifest: backup.cid, issued, proof }))).code).toBe('NOT_AUTHORISED');
    await expectNoRelease();
  });

  it('refuses a valid proof replayed by another identity', async () => {
    const owner = await createParty('owner', store);
    const thief = await createParty('thief', store);
    const issued = Date.now();
    const proof = proveRecovery(secret, { manifest: backup.cid, requester: owner.id, requesterKem: owner.identity.document.keys.kem, issued });
    expect((await refusalFor(thief, encodeReleaseRequest({ manifest: backup.cid, issued, proof }))).code).toBe('NOT_AUTHORISED');
    await expectNoRelease();
  });

  it('refuses a release request for a manifest that does not exist', async () => {
    const restorer = await createParty('nothing', store);
    const missing = await store.putDag({ v: 1, nothing: true });
    const issued = Date.now();
    const proof = proveRecovery(secret, { manifest: missing, requester: restorer.id, requesterKem: restorer.identity.document.keys.kem, issued });
    expect((await refusalFor(restorer, encodeReleaseRequest({ manifest: missing, issued, proof }))).code).toBe('MALFORMED');
    await expectNoRelease();
  });

  it('releases to the owner with the right secret (the control case)', async () => {
    const restorer = await createParty('owner-2', store);
    const collected = await requestShares({ messenger: bus.messenger(restorer.id), requesterKem: restorer.identity.document.keys.kem, store, resolver, manifest: backup.cid, recoverySecret: secret, timeoutMs: 30_000 });
    expect(collected.shares).toHaveLength(2);
    for (const f of fiduciaries) expect(await f.service.auditLog()).toHaveLength(1);
  });
});
