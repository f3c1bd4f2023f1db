/**
 * Issue 11, "scheduled by config", with real processes: three D-TAs run `milagro start` with a
 * `backupFiduciary` section (fiduciaries inside the running node, one inbox), and a fourth node runs
 * `milagro start` with a `backup` section (every 3 s, 2 of 3, all three must pin). While it keeps
 * serving, it makes at least two backups, chained by `prev`, each pinned by the three fiduciaries,
 * with its metrics saying so; `backup create` beside it points at the schedule. With one fiduciary
 * stopped, runs fail (logged, counted) and are tried again at each tick while the node keeps serving.
 * Then, with the node's data dir destroyed, `backup restore` brings back the newest with the other two (the restore mechanics are those of backup-restores-a-dta-with-two-of-three-fiduciaries).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { jsonRequest } from '../../../tools/jest/dta-cluster.js';
import { waitFor } from '../../../tools/jest/peer-process.js';
import type { ServerProcess } from '../../../tools/jest/server-process.js';
import { BackupNodes, events, metric, nodeInfo } from './support/backup-nodes.js';
import { runMilagro } from './support/milagro-command.js';

jest.setTimeout(600_000);

const env = { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the scheduled backup test', MILAGRO_DTA_ADMIN_TOKEN: 'operator-token-for-scheduled-backups' };

let nodes: BackupNodes;
let root: string;

beforeAll(() => {
  nodes = new BackupNodes('milagro-backup-scheduled-', env);
  root = nodes.root;
});
afterAll(() => nodes.close());

const init = (name: string, peers: readonly string[]): ReturnType<BackupNodes['init']> => nodes.init(name, peers);
const start = (config: string): Promise<ServerProcess> => nodes.start(config);

const hash = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

it('a running node backs itself up on schedule to fiduciary nodes, keeps serving, and the newest backup restores with 2 of 3', async () => {
  // Three D-TAs that are also backup fiduciaries, each dialling those before it.
  const fiduciaries: Array<{ server: ServerProcess; identity: string; addresses: string[] }> = [];
  for (const name of ['f1', 'f2', 'f3']) {
    const { config } = await init(name, fiduciaries.flatMap((f) => f.addresses));
    appendFileSync(config, '\nbackupFiduciary:\n  releaseLimit: { releases: 3, window: 24h }\n');
    const server = await start(config);
    fiduciaries.push({ server, ...(await nodeInfo(server.url)) });
  }
  const ids = fiduciaries.map((f) => f.identity);

  // The node, backed up every 3 s from its start on, sealed 2 of 3, pinned by all three.
  const { config, recoverySecret } = await init('node', fiduciaries.flatMap((f) => f.addresses));
  appendFileSync(config, `\nbackup:\n  fiduciaries: ${JSON.stringify(ids)}\n  threshold: 2\n  confirmations: 3\n  every: 3s\n  onStart: true\n  timeout: 20s\n`);
  const dataDir = join(root, 'node', 'data');
  const node = await start(config);
  const { identity } = await nodeInfo(node.url);
  expect(events(node, 'backup-scheduled')).toHaveLength(1);

  // It keeps serving while it backs up: every request in the meantime is answered.
  let served = 0;
  await waitFor(
    'two scheduled backups',
    async () => {
      expect((await jsonRequest(`${node.url}/v1/node`)).status).toBe(200);
      expect((await jsonRequest(`${node.url}/readyz`)).status).toBe(200);
      served++;
      return events(node, 'backup-made').length >= 2;
    },
    240_000,
    500,
  );
  expect(served).toBeGreaterThan(0);
  const made = events(node, 'backup-made');
  const [first, second] = made as Array<{ manifest: string; prev: string | null; pinnedBy: string[]; files: number; notBackedUp: string[] }>;
  // Chained: the second names the first; each pinned by every fiduciary; nothing left out (file key store, SQLite).
  expect(second!.prev).toBe(first!.manifest);
  for (const backup of [first!, second!]) {
    expect([...backup.pinnedBy].sort()).toEqual([...ids].sort());
    expect(backup.files).toBeGreaterThan(3);
    expect(backup.notBackedUp).toEqual([]);
  }
  // (Their log lines were written before their confirmations left; the pipes may still be catching up.)
  for (const f of fiduciaries) {
    await waitFor('deposit-pinned lines', () => {
      const pinned = events(f.server, 'deposit-pinned').map((line) => line['manifest']);
      return pinned.includes(first!.manifest) && pinned.includes(second!.manifest);
    }, 30_000, 100);
  }
  const scraped = await fetch(`${node.url}/metrics`).then((response) => response.text());
  expect(metric(scraped, 'milagro_backup_successes_total')).toBeGreaterThanOrEqual(2);
  expect(metric(scraped, 'milagro_backup_last_success_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 600);
  const fiduciaryMetrics = await fetch(`${fiduciaries[0]!.server.url}/metrics`).then((response) => response.text());
  expect(fiduciaryMetrics).toMatch(/milagro_backup_fiduciary_events_total\{event="deposit-pinned"\} [1-9]/);

  // `backup create` beside the running node points at its schedule.
  const create = await runMilagro(['backup', 'create', '--config', config, '--fiduciary', ids[0]!, '--threshold', '1', '--json'], env);
  expect(create.code).toBe(2);
  expect(create.stdout).toMatch(/backs itself up every 3 s/);

  // A fiduciary goes offline: runs now fail (2 of the 3 confirmations), are logged and counted, are
  // tried again at the next tick, and the node keeps serving.
  await fiduciaries[2]!.server.stop();
  const failedBefore = events(node, 'backup-failed').length;
  await waitFor('two failed runs', async () => {
    expect((await jsonRequest(`${node.url}/v1/node`)).status).toBe(200);
    return events(node, 'backup-failed').length >= failedBefore + 2;
  }, 240_000, 500);
  expect(events(node, 'backup-failed').at(-1)).toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/fiduciaries (confirmed|cannot be messaged)/) });
  const afterFailures = await fetch(`${node.url}/metrics`).then((response) => response.text());
  expect(metric(afterFailures, 'milagro_backup_failures_total')).toBeGreaterThanOrEqual(2);

  // Stop the node (a run in progress ends with it); the newest backup is the head it recorded, at the end of one chain.
  const keys = hash(join(dataDir, 'keys'));
  const peerKey = hash(join(dataDir, 'ipfs', 'peer.key'));
  await node.stop();
  const all = events(node, 'backup-made') as Array<{ manifest: string; prev: string | null }>;
  for (let i = 1; i < all.length; i++) expect(all[i]!.prev).toBe(all[i - 1]!.manifest);
  const newest = String((JSON.parse(readFileSync(join(dataDir, 'backup', 'head.json'), 'utf8')) as { manifest: string }).manifest);
  expect(newest).toBe(all.at(-1)!.manifest);

  // Disaster: the data dir is gone and one fiduciary is offline; the other two release the newest.
  rmSync(dataDir, { recursive: true, force: true });
  const restored = await runMilagro(['backup', 'restore', '--config', config, '--manifest', newest, '--json'], { ...env, MILAGRO_RECOVERY_SECRET: recoverySecret });
  if (restored.code !== 0) throw new Error(`backup restore failed: ${restored.stdout}\n${restored.stderr}`);
  const out = JSON.parse(restored.stdout) as { node: string; releasedBy: string[] };
  expect(out.node).toBe(identity);
  expect([...out.releasedBy].sort()).toEqual([ids[0]!, ids[1]!].sort());
  expect({ keys: hash(join(dataDir, 'keys')), peerKey: hash(join(dataDir, 'ipfs', 'peer.key')) }).toEqual({ keys, peerKey });
  // The run file of the live process it was taken from is not restored.
  expect(() => readFileSync(join(dataDir, 'milagro.run.json'))).toThrow();
  for (const f of fiduciaries.slice(0, 2)) await waitFor('share-released lines', () => events(f.server, 'share-released').length === 1, 30_000, 100);
});
