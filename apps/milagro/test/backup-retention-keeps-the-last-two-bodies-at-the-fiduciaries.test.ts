/**
 * Retention with real processes (docs/specs/backup.md §10): two D-TAs serve as backup fiduciaries,
 * a node backs itself up every 3 s, 2 of 2, `keep: 2`.
 * - After four and more backups the older ones are retired at both fiduciaries as the node goes.
 * - With one fiduciary stopped the runs fail and nothing more is retired (no newer backup is confirmed).
 * - Restarted (every hour, so it then stays still), its next backup retires what the failed runs
 *   deposited at the other fiduciary too; `backup prune` beside the running node is refused, and by
 *   hand afterwards finds nothing left to retire.
 * - Read from the fiduciaries' own IPFS repositories (stopped): only the last two bodies are pinned
 *   and held (retired ones are deleted); every manifest still is (the chain stays walkable).
 * - The newest restores (drill); a retired one fails as RETIRED; `backup list` marks them.
 * - Another node's prune naming this node's backups is refused by the fiduciaries (and they say so).
 */
import { createEmbeddedNode } from '@milagro/ipfs';
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../../tools/jest/mfa-cluster.js';
import { waitFor } from '../../../tools/jest/peer-process.js';
import type { ServerProcess } from '../../../tools/jest/server-process.js';
import { BackupNodes, events, metric, nodeInfo } from './support/backup-nodes.js';
import { runMilagro } from './support/milagro-command.js';

jest.setTimeout(1_200_000);

const env = { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the backup retention test', MILAGRO_DTA_ADMIN_TOKEN: 'operator-token-for-backup-retention' };

let nodes: BackupNodes;
beforeAll(() => {
  nodes = new BackupNodes('milagro-backup-retention-', env);
});
afterAll(() => nodes.close());

interface Made {
  readonly manifest: string;
  readonly pinnedBy: readonly string[];
  readonly retired: readonly string[];
  readonly retirePending: readonly string[];
}

interface Fiduciary {
  readonly name: string;
  readonly config: string;
  server: ServerProcess;
  readonly identity: string;
  readonly addresses: string[];
}

const made = (server: ServerProcess): Made[] => events(server, 'backup-made') as unknown as Made[];
const retiredBy = (server: ServerProcess): Set<string> => new Set(made(server).flatMap((line) => line.retired));

it('keeps the last two backups at the fiduciaries, retires the rest only behind a confirmed one, and a retired one says RETIRED', async () => {
  const fiduciaries: Fiduciary[] = [];
  for (const name of ['f1', 'f2']) {
    // Fixed IPFS ports: a fiduciary restarts where the node and the other fiduciary dial it.
    const { config } = await nodes.init(name, fiduciaries.flatMap((f) => f.addresses), { ipfsPort: await freePort() });
    appendFileSync(config, '\nbackupFiduciary: {}\n');
    const server = await nodes.start(config);
    fiduciaries.push({ name, config, server, ...(await nodeInfo(server.url)) });
  }
  const ids = fiduciaries.map((f) => f.identity);
  const { config, recoverySecret } = await nodes.init('node', fiduciaries.flatMap((f) => f.addresses));
  const dataDir = join(nodes.root, 'node', 'data');
  appendFileSync(config, `\nbackup:\n  fiduciaries: ${JSON.stringify(ids)}\n  threshold: 2\n  every: 3s\n  onStart: true\n  timeout: 30s\n  keep: 2\n`);
  let node = await nodes.start(config);

  // 1. Four and more backups; after each, every one but the newest two is retired at both fiduciaries.
  await waitFor(
    'four backups, all but the newest two retired',
    () => {
      const lines = made(node);
      const retired = retiredBy(node);
      return lines.length >= 4 && lines.slice(0, -2).every((line) => retired.has(line.manifest)) && lines.at(-1)!.retirePending.length === 0;
    },
    600_000,
    250,
  );
  const early = made(node);
  for (const line of early) expect([...line.pinnedBy].sort()).toEqual([...ids].sort());
  const scraped = await fetch(`${node.url}/metrics`).then((response) => response.text());
  expect(metric(scraped, 'milagro_backup_retired_total')).toBeGreaterThanOrEqual(2);
  expect(metric(scraped, 'milagro_backup_retire_pending')).toBe(0);
  for (const f of fiduciaries) {
    await waitFor(`${f.name} logs its retirements`, () => events(f.server, 'backup-retired').length > 0, 60_000, 100);
    const text = await fetch(`${f.server.url}/metrics`).then((response) => response.text());
    expect(text).toMatch(/milagro_backup_fiduciary_events_total\{event="backup-retired"\} [1-9]/);
  }

  // 2. f2 stops: with 2 of 2 no run can be confirmed, so runs fail and nothing more is retired.
  await fiduciaries[1]!.server.stop();
  const failedBefore = events(node, 'backup-failed').length;
  await waitFor('two failed runs', () => events(node, 'backup-failed').length >= failedBefore + 2, 600_000, 250);
  const firstFailure = node.logs.indexOf(events(node, 'backup-failed')[failedBefore]!);
  const afterFailure = node.logs.slice(firstFailure);
  expect(afterFailure.filter((line) => line['event'] === 'backup-made' || line['event'] === 'backups-retired')).toEqual([]);
  await node.stop();
  // The failed runs' deposits (pinned by f1 alone) are in the node's record, marked failed.
  const failedDeposits = (JSON.parse(readFileSync(join(dataDir, 'backup', 'retention.json'), 'utf8')) as { backups: Array<{ manifest: string; failed?: boolean }> }).backups
    .filter((entry) => entry.failed === true)
    .map((entry) => entry.manifest);
  expect(failedDeposits.length).toBeGreaterThanOrEqual(2);

  // 3. f2 back; the node restarted to back up once and then stay still for an hour.
  fiduciaries[1]!.server = await nodes.start(fiduciaries[1]!.config);
  writeFileSync(config, readFileSync(config, 'utf8').replace('every: 3s', 'every: 1h').replace('timeout: 30s', 'timeout: 5m'));
  node = await nodes.start(config);
  await waitFor('the backup after the restart', () => made(node).length >= 1, 600_000, 250);
  const last = made(node)[0]!;
  expect(last.retirePending).toEqual([]);
  // Its retirement covers the failed runs' deposits and the backup before the previous newest.
  for (const manifest of failedDeposits) expect(last.retired).toContain(manifest);
  const chain = [...early.map((line) => line.manifest), last.manifest];
  const kept = [early.at(-1)!.manifest, last.manifest];
  const retired = chain.filter((manifest) => !kept.includes(manifest));
  expect(retired.every((manifest) => retiredBy(node).has(manifest) || early.some((line) => line.retired.includes(manifest)))).toBe(true);

  // `backup prune` beside the running node points at its own retention; by hand afterwards there is nothing left.
  const beside = await runMilagro(['backup', 'prune', '--config', config, '--keep', '2', '--json'], env);
  expect(beside.code).toBe(2);
  expect(beside.stdout).toMatch(/retires old backups itself .*keeps 2/);
  await node.stop();
  const pruned = await runMilagro(['backup', 'prune', '--config', config, '--keep', '2', '--json'], env);
  if (pruned.code !== 0) throw new Error(`backup prune failed: ${pruned.stdout}\n${pruned.stderr}`);
  expect(JSON.parse(pruned.stdout)).toMatchObject({ ok: true, keep: 2, retired: [], pending: [], kept: [last.manifest, early.at(-1)!.manifest] });

  // 4. What the fiduciaries hold, from their own repositories: the two newest bodies, every manifest.
  for (const f of fiduciaries) await f.server.stop();
  for (const f of fiduciaries) {
    const ipfs = await createEmbeddedNode({ dataDir: join(nodes.root, f.name, 'data', 'ipfs'), peers: [], listen: [] });
    try {
      // A failed run's deposit reached f1 only if f1 fetched it before that run's blocks went away.
      const fetched: string[] = [];
      for (const manifest of failedDeposits) if (f.name === 'f1' && (await ipfs.store.has(manifest))) fetched.push(manifest);
      for (const manifest of [...chain, ...fetched]) {
        const { envelope } = await ipfs.store.getDag<{ envelope: { toString(): string } }>(manifest, { timeoutMs: 10_000 });
        // Retired bodies are not only unpinned but deleted (ContentStore.remove): the disk space is back.
        expect({ fiduciary: f.name, manifest, pinned: await ipfs.store.isPinned(manifest), body: await ipfs.store.isPinned(envelope.toString()), held: await ipfs.store.has(envelope.toString()) }).toEqual({
          fiduciary: f.name,
          manifest,
          pinned: true,
          body: kept.includes(manifest),
          held: kept.includes(manifest),
        });
      }
    } finally {
      await ipfs.stop();
    }
  }

  // 5. The newest restores; a retired one fails as RETIRED, and the list says which are.
  for (const f of fiduciaries) f.server = await nodes.start(f.config);
  const drill = await runMilagro(['backup', 'verify', '--config', config, '--json'], { ...env, MILAGRO_RECOVERY_SECRET: recoverySecret });
  if (drill.code !== 0) throw new Error(`backup verify failed: ${drill.stdout}\n${drill.stderr}`);
  expect(JSON.parse(drill.stdout)).toMatchObject({ ok: true, drill: true, manifest: last.manifest });
  const old = await runMilagro(['backup', 'verify', '--config', config, '--manifest', retired[0]!, '--json'], { ...env, MILAGRO_RECOVERY_SECRET: recoverySecret });
  expect(old.code).toBe(1);
  expect(JSON.parse(old.stdout)).toMatchObject({ ok: false, error: { code: 'RETIRED', message: expect.stringMatching(/RETIRED.*retired by its node on/) } });
  const listed = await runMilagro(['backup', 'list', '--config', config, '--json'], env);
  if (listed.code !== 0) throw new Error(`backup list failed: ${listed.stdout}\n${listed.stderr}`);
  const rows = (JSON.parse(listed.stdout) as { backups: Array<{ manifest: string; status: string }> }).backups;
  expect(rows.map((row) => row.manifest)).toEqual([...chain].reverse());
  expect(rows.map((row) => row.status)).toEqual(chain.map((manifest) => (kept.includes(manifest) ? 'kept' : 'retired')).reverse());

  // 6. Another node (its own identity, signing its own requests) cannot retire this node's backups.
  const { config: otherConfig } = await nodes.init('other', fiduciaries.flatMap((f) => f.addresses));
  const otherBackup = join(nodes.root, 'other', 'data', 'backup');
  mkdirSync(otherBackup, { recursive: true });
  for (const file of ['head.json', 'retention.json']) cpSync(join(dataDir, 'backup', file), join(otherBackup, file));
  const foreign = await runMilagro(['backup', 'prune', '--config', otherConfig, '--keep', '1', '--json'], env);
  expect(foreign.code).toBe(1);
  const refusedOut = JSON.parse(foreign.stdout) as { ok: boolean; retired: string[]; refused: Array<{ fiduciary: string; code: string; message: string }> };
  expect(refusedOut.ok).toBe(false);
  expect(refusedOut.retired).toEqual([]);
  expect(refusedOut.refused.map((r) => [r.fiduciary, r.code]).sort()).toEqual(ids.map((id) => [id, 'NOT_AUTHORISED']).sort());
  expect(refusedOut.refused[0]!.message).toMatch(/belong to another node/);
  for (const f of fiduciaries) {
    await waitFor(`${f.name} logs the refusal`, () => events(f.server, 'request-refused').some((line) => line['type'] === 'milagro/backup/retire' && line['code'] === 'NOT_AUTHORISED'), 60_000, 100);
  }
  // And the node's newest but one is still there to restore.
  const stillThere = await runMilagro(['backup', 'verify', '--config', config, '--manifest', early.at(-1)!.manifest, '--json'], { ...env, MILAGRO_RECOVERY_SECRET: recoverySecret });
  if (stillThere.code !== 0) throw new Error(`backup verify of the kept backup failed: ${stillThere.stdout}\n${stillThere.stderr}`);
});
