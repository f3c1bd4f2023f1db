/**
 * Retention at a fiduciary: only the node a backup is of retires it, in a request it signed for
 * this fiduciary (a stranger, another node, or a request whose signature is not the sender's are
 * refused, each refusal an entry of the audit chain); the body is unpinned, the signed manifest
 * stays (the chain stays walkable); a restore of a retired backup fails as RETIRED; a replay changes
 * nothing; a retirement that arrives before its deposit makes the deposit be refused; all of it
 * survives a restart (its database). On SQLite and on PostgreSQL (when its server binaries are installed).
 */
import { identitySigner, IdentityResolver } from '@milagro/pki';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dagCbor from '@ipld/dag-cbor';
import type { CID } from 'multiformats/cid';
import {
  depositBackup,
  generateRecoverySecret,
  listBackups,
  MESSAGE_TYPES,
  pruneBackups,
  readEnvelope,
  readRetentionRecord,
  requestShares,
  retireBackups,
  signRetireClaim,
  type CreatedBackup,
} from '../src/index.js';
import { sqlAdaptersUnderTest, type DatabaseLocation } from '../../../tools/jest/test-database.js';
import { backUpNode, createParty, DirectoryBlockStore, fiduciaryKey, FiduciaryParty, MemoryBus, type Party, writeNodeFixture } from './support/backup-world.js';

jest.setTimeout(180_000);

describe.each(sqlAdaptersUnderTest())('retiring backups at a fiduciary (%s)', (adapter, databases) => {
  if (databases.reportIfMissing(`backup retirement on ${adapter}`)) return;
  let root: string;
  let location: DatabaseLocation;
  let store: DirectoryBlockStore;
  const bus = new MemoryBus();
  let node: Party;
  let other: Party;
  let fiduciary: FiduciaryParty;
  let resolver: IdentityResolver;
  const secret = generateRecoverySecret();
  const backups: CreatedBackup[] = [];
  let otherBackup: CreatedBackup;

  async function backUp(party: Party, prev?: CID): Promise<CreatedBackup> {
    const created = await backUpNode(party, store, {
      source: await writeNodeFixture(join(root, `source-${Math.random().toString(36).slice(2)}`)),
      fiduciaries: [fiduciaryKey(fiduciary.party)],
      threshold: 1,
      secret,
      ...(prev === undefined ? {} : { prev }),
    });
    // The node's own pins are not the fiduciary's (they share this store).
    store.pinned.delete(created.cid.toString());
    store.pinned.delete(created.manifest.envelope.toString());
    return created;
  }

  /** `party`'s messenger, reading only what arrives from now on (as a node's session does). */
  async function fresh(party: Party): Promise<ReturnType<MemoryBus['messenger']>> {
    const messenger = bus.messenger(party.id);
    await messenger.consumed(bus.inbox(party.id).length);
    return messenger;
  }

  const deposit = async (party: Party, created: CreatedBackup): ReturnType<typeof depositBackup> =>
    depositBackup({ messenger: await fresh(party), manifest: created.cid, fiduciaries: [fiduciary.id], timeoutMs: 30_000 });

  function restore(manifest: CID): ReturnType<typeof requestShares> {
    return createParty(`restorer-${Math.random().toString(36).slice(2)}`, store).then((restorer) =>
      requestShares({ messenger: bus.messenger(restorer.id), requesterKem: restorer.identity.document.keys.kem, store, resolver, manifest, recoverySecret: secret, timeoutMs: 30_000 }),
    );
  }

  /** Sends a retire request from `from`, signed by `signer`, and returns the answer (the refusal's code or 'retired'). */
  async function retireAs(from: Party, signer: Party, manifests: CID[]): Promise<string> {
    const issued = Date.now();
    const signature = await signRetireClaim(identitySigner(signer.identity, signer.keyStore), { node: from.id, fiduciary: fiduciary.id, manifests, issued });
    const messenger = bus.messenger(from.id);
    const seen = bus.inbox(from.id).length;
    await messenger.send(fiduciary.id, { type: MESSAGE_TYPES.retire, body: dagCbor.encode({ v: 1, manifests, issued, sig: signature }) });
    for (;;) {
      const answer = bus.inbox(from.id).slice(seen).find((m) => m.type === MESSAGE_TYPES.retired || m.type === MESSAGE_TYPES.refusal);
      if (answer !== undefined) return answer.type === MESSAGE_TYPES.retired ? 'retired' : String((dagCbor.decode(answer.body) as { code: string }).code);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'milagro-backup-retire-'));
    store = await DirectoryBlockStore.create(join(root, 'blocks'));
    location = await databases.newLocation(join(root, 'fiduciary.sqlite'));
    resolver = new IdentityResolver({ store });
    node = await createParty('node', store);
    other = await createParty('other', store);
    fiduciary = await FiduciaryParty.start('fiduciary', root, store, bus, { open: () => location.open() });
    for (let i = 0; i < 3; i++) {
      const created = await backUp(node, backups.at(-1)?.cid);
      expect((await deposit(node, created)).pinned).toEqual([fiduciary.id]);
      backups.push(created);
    }
    otherBackup = await backUp(other);
    await deposit(other, otherBackup);
  });

  afterAll(async () => {
    await fiduciary.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('pins each backup in parts: its envelope (the body) and its manifest alone', () => {
    for (const backup of [...backups, otherBackup]) {
      expect(store.pinned.has(backup.cid.toString())).toBe(true);
      expect(store.pinned.has(backup.manifest.envelope.toString())).toBe(true);
    }
  });

  it('refuses a stranger, another node, and a request not signed by its sender, and audits each refusal', async () => {
    const stranger = await createParty('stranger', store);
    const [oldest] = backups;
    // A stranger holding nothing here; another node (which does hold backups here) naming this node's backup.
    expect(await retireAs(stranger, stranger, [oldest!.cid])).toBe('NOT_AUTHORISED');
    expect(await retireAs(other, other, [oldest!.cid])).toBe('NOT_AUTHORISED');
    // The node's messenger, but a signature by someone else.
    expect(await retireAs(node, other, [oldest!.cid])).toBe('NOT_AUTHORISED');
    const log = await fiduciary.service.auditLog();
    expect(log.map((entry) => entry.event)).toEqual(['retire-refused', 'retire-refused', 'retire-refused']);
    expect(store.pinned.has(oldest!.manifest.envelope.toString())).toBe(true);
    expect(await fiduciary.service.retired(node.id)).toEqual([]);
    expect(fiduciary.events.filter((event) => event.event === 'request-refused' && event.type === MESSAGE_TYPES.retire)).toHaveLength(3);
  });

  it('retires on the node\'s signed request: body unpinned, manifest kept, restore says RETIRED, the chain still lists', async () => {
    const [oldest, middle, newest] = backups;
    const bodyOf = async (backup: CreatedBackup): Promise<CID[]> => {
      const { body } = await readEnvelope(store, backup.manifest.envelope);
      return [backup.manifest.envelope, ...('blocks' in body ? body.blocks : [])];
    };
    const oldestBody = await bodyOf(oldest!);
    const signer = identitySigner(node.identity, node.keyStore);
    const outcome = await retireBackups({ messenger: await fresh(node), signer, requests: new Map([[fiduciary.id, [oldest!.cid]]]), timeoutMs: 30_000 });
    expect(outcome).toMatchObject({ retiredBy: [fiduciary.id], refused: [], unanswered: [] });
    expect(store.pinned.has(oldest!.manifest.envelope.toString())).toBe(false);
    expect(store.pinned.has(oldest!.cid.toString())).toBe(true);
    for (const kept of [middle!, newest!, otherBackup]) expect(store.pinned.has(kept.manifest.envelope.toString())).toBe(true);
    // A store that can delete blocks gets the body's space back at once: envelope and body blocks are gone, the manifest is not.
    const newestBody = await bodyOf(newest!);
    for (const block of oldestBody) expect(await store.has(block)).toBe(false);
    expect(await store.has(oldest!.cid)).toBe(true);
    for (const block of newestBody) expect(await store.has(block)).toBe(true);
    expect(fiduciary.events).toContainEqual(expect.objectContaining({ event: 'backup-retired', node: node.id, manifests: [oldest!.cid.toString()], unpinned: 1, deletedBlocks: expect.any(Number) }));
    expect((fiduciary.events.find((event) => event.event === 'backup-retired') as { deletedBlocks: number }).deletedBlocks).toBe(oldestBody.length);
    expect(await fiduciary.service.retired(node.id)).toEqual([oldest!.cid.toString()]);
    const log = await fiduciary.service.auditLog();
    expect(log[0]).toMatchObject({ event: 'retire', manifest: oldest!.cid.toString(), requester: node.id });

    await expect(restore(oldest!.cid)).rejects.toMatchObject({ code: 'RETIRED', message: expect.stringMatching(/RETIRED.*retired by its node on \d{4}-/) });
    expect((await restore(newest!.cid)).shares).toHaveLength(1);
    // Manifests stay: the whole chain is still walkable from the newest.
    expect((await listBackups(store, newest!.cid, resolver)).map((b) => b.cid.toString())).toEqual([newest!, middle!, oldest!].map((b) => b.cid.toString()));

    // A replay is answered the same and changes nothing (no second audit entry).
    const entries = (await fiduciary.service.auditLog()).length;
    expect(await retireAs(node, node, [oldest!.cid])).toBe('retired');
    expect(await fiduciary.service.auditLog()).toHaveLength(entries);
  });

  it('a retirement that arrives before its deposit makes the deposit be refused', async () => {
    const early = await backUp(node, backups.at(-1)!.cid);
    expect(await retireAs(node, node, [early.cid])).toBe('retired');
    await expect(deposit(node, early)).rejects.toMatchObject({ code: 'NOT_AUTHORISED', message: expect.stringMatching(/RETIRED/) });
    expect(store.pinned.has(early.manifest.envelope.toString())).toBe(false);
  });

  it('after a restart: still retired, still RETIRED, and the node\'s prune keeps the newest', async () => {
    const party = fiduciary.party;
    await fiduciary.stop();
    fiduciary = await FiduciaryParty.start('fiduciary', root, store, bus, { party, open: () => location.open() });
    const [oldest, middle, newest] = backups;
    expect(await fiduciary.service.retired(node.id)).toHaveLength(2);
    await expect(restore(oldest!.cid)).rejects.toMatchObject({ code: 'RETIRED' });

    // pruneBackups from the chain (as `milagro backup prune` does): keep 1 retires the middle one only
    // behind the newest, which the fiduciary confirmed (the record says so).
    const dataDir = join(root, 'node-data');
    const chain = await listBackups(store, newest!.cid, resolver);
    const { writeRetentionRecord } = await import('../src/index.js');
    await writeRetentionRecord(dataDir, [{ manifest: newest!.cid.toString(), created: newest!.manifest.created, fiduciaries: [fiduciary.id], threshold: 1, pinnedBy: [fiduciary.id], retiredBy: [] }]);
    const pruned = await pruneBackups({ dataDir, keep: 1, messenger: await fresh(node), signer: identitySigner(node.identity, node.keyStore), chain, timeoutMs: 30_000 });
    expect(pruned).toMatchObject({ retired: [middle!.cid.toString(), oldest!.cid.toString()], pending: [], kept: [newest!.cid.toString()] });
    expect(store.pinned.has(middle!.manifest.envelope.toString())).toBe(false);
    expect(store.pinned.has(newest!.manifest.envelope.toString())).toBe(true);
    expect((await readRetentionRecord(dataDir)).map((entry) => entry.retiredBy.length)).toEqual([0, 1, 1]);
    // Pruning again asks nothing more.
    expect(await pruneBackups({ dataDir, keep: 1, messenger: await fresh(node), signer: identitySigner(node.identity, node.keyStore), timeoutMs: 30_000 })).toMatchObject({ retired: [], pending: [] });
  });
});
