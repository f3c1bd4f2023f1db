/**
 * A fiduciary releases a node's backups at most `releaseLimit.releases` times per window, counted in
 * its database: the request over the limit is refused with RATE_LIMITED (the restoring side gets
 * that code and when the next release is possible), the refusal is an entry of the audit chain
 * like the releases, a restart of the fiduciary does not reset the count, and once the window has
 * passed the owner is served again. Refused proofs (a wrong secret) do not use up the allowance.
 * On SQLite and on PostgreSQL (when its server binaries are installed).
 */
import { identityRecipientKey, identitySigner, IdentityResolver } from '@milagro/pki';
import type { SqlDatabase } from '@milagro/storage';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BackupFiduciary,
  generateRecoverySecret,
  requestShares,
  type CreatedBackup,
  type FiduciaryEvent,
} from '../src/index.js';
import { sqlAdaptersUnderTest, type DatabaseLocation } from '../../../tools/jest/test-database.js';
import { backUpNode, createParty, DirectoryBlockStore, fiduciaryKey, MemoryBus, type Party, writeNodeFixture } from './support/backup-world.js';

jest.setTimeout(120_000);

const HOUR = 60 * 60 * 1000;

describe.each(sqlAdaptersUnderTest())('the release rate limit (%s)', (adapter, databases) => {
  if (databases.reportIfMissing(`backup release rate limit on ${adapter}`)) return;
  let root: string;
  let location: DatabaseLocation;
  let store: DirectoryBlockStore;
  const bus = new MemoryBus();
  let fiduciary: Party;
  let backup: CreatedBackup;
  let resolver: IdentityResolver;
  const secret = generateRecoverySecret();
  let clock = Date.now();
  let service: BackupFiduciary | undefined;
  let db: SqlDatabase | undefined;
  const events: FiduciaryEvent[] = [];

  /** Opens the fiduciary on its database file; a reopened one reads only messages sent from now on. */
  async function openFiduciary(): Promise<BackupFiduciary> {
    db = await location.open();
    const messenger = bus.messenger(fiduciary.id);
    await messenger.consumed(bus.inbox(fiduciary.id).length);
    service = await BackupFiduciary.open({
      messenger,
      store,
      resolver: new IdentityResolver({ store }),
      signer: identitySigner(fiduciary.identity, fiduciary.keyStore),
      recipient: await identityRecipientKey(fiduciary.identity, fiduciary.keyStore),
      db,
      releaseLimit: { releases: 2, windowMs: HOUR },
      now: () => clock,
      onEvent: (event) => events.push(event),
    });
    service.start();
    return service;
  }

  async function closeFiduciary(): Promise<void> {
    await service?.close();
    await db?.close();
    service = undefined;
    db = undefined;
  }

  function restore(recoverySecret = secret): ReturnType<typeof requestShares> {
    return createParty(`restorer-${Math.random().toString(36).slice(2)}`, store).then((restorer) =>
      requestShares({ messenger: bus.messenger(restorer.id), requesterKem: restorer.identity.document.keys.kem, store, resolver, manifest: backup.cid, recoverySecret, timeoutMs: 30_000, now: () => clock }),
    );
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'milagro-backup-rate-'));
    store = await DirectoryBlockStore.create(join(root, 'blocks'));
    location = await databases.newLocation(join(root, 'fiduciary.sqlite'));
    resolver = new IdentityResolver({ store });
    const node = await createParty('node', store);
    fiduciary = await createParty('fiduciary', store);
    backup = await backUpNode(node, store, {
      source: await writeNodeFixture(join(root, 'source')),
      fiduciaries: [fiduciaryKey(fiduciary)],
      threshold: 1,
      secret,
    });
    await openFiduciary();
  });

  afterAll(async () => {
    await closeFiduciary();
    await rm(root, { recursive: true, force: true });
  });

  it('releases twice in the window, refuses the third with RATE_LIMITED, and audits the refusal', async () => {
    // A wrong secret is refused before the limit is consulted and uses none of it.
    await expect(restore(generateRecoverySecret())).rejects.toMatchObject({ code: 'NOT_AUTHORISED' });
    expect((await restore()).shares).toHaveLength(1);
    clock += 10 * 60 * 1000;
    expect((await restore()).shares).toHaveLength(1);
    clock += 10 * 60 * 1000;
    const refused = restore();
    await expect(refused).rejects.toMatchObject({ name: 'BackupError', code: 'RATE_LIMITED' });
    await expect(refused).rejects.toThrow(/limit 2\); the next release is possible after \d{4}-\d\d-\d\dT/);
    const log = await service!.auditLog();
    expect(log.map((entry) => entry.event)).toEqual(['release-refused', 'release', 'release']);
    const limited = events.filter((event) => event.event === 'release-rate-limited');
    expect(limited).toHaveLength(1);
    expect(limited[0]).toMatchObject({ audit: log[0]!.cid });
  });

  it('still refuses after the fiduciary restarts (the count is in its database)', async () => {
    await closeFiduciary();
    await openFiduciary();
    clock += 10 * 60 * 1000;
    await expect(restore()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    expect((await service!.auditLog()).map((entry) => entry.event)).toEqual(['release-refused', 'release-refused', 'release', 'release']);
  });

  it('serves the owner again once the oldest release has left the window', async () => {
    // The first release was 30 minutes ago; 31 minutes on, only the second is within the hour.
    clock += 31 * 60 * 1000;
    expect((await restore()).shares).toHaveLength(1);
    await expect(restore()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    const log = await service!.auditLog();
    expect(log.map((entry) => entry.event)).toEqual(['release-refused', 'release', 'release-refused', 'release-refused', 'release', 'release']);
    // The chain stays one chain: every entry's sequence number follows the previous one.
    expect(log.map((entry) => entry.seq)).toEqual([6, 5, 4, 3, 2, 1]);
  });
});
