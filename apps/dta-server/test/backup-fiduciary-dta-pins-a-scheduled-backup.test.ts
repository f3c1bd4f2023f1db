/**
 * Issue 11 in the single-role servers, with real processes: a D-TA server with `backupFiduciary: {}`
 * serves as a backup fiduciary, and a second D-TA server with a `backup` section (every 3 s, from its
 * start on) backs itself up to it while serving. Its scheduled backups are pinned by the fiduciary
 * (its log and metrics say so), chained by `prev`, and the node records the newest as its head; a
 * restore drill (`milagro backup verify`) of it passes with the fiduciary's release.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRecoverySecret, recoveryPublicKey, writeRecoveryPublicKey } from '@milagro/backup';
import { generateSwarmKey } from '@milagro/node';
import { jsonRequest, restartDta, type DtaProcess } from '../../../tools/jest/dta-cluster.js';
import { waitFor } from '../../../tools/jest/peer-process.js';
import type { ServerProcess } from '../../../tools/jest/server-process.js';
import { runMilagro } from '../../milagro/test/support/milagro-command.js';

jest.setTimeout(300_000);

let root: string;
const swarmKey = generateSwarmKey();
const running: DtaProcess[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'dta-backup-fiduciary-'));
});
afterAll(async () => {
  for (const dta of running) await dta.server.kill();
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

/** A D-TA server (the config of tools/jest/dta-cluster.ts) with extra top-level sections. */
async function startDtaWith(name: string, peers: readonly string[], sections: Record<string, unknown>): Promise<DtaProcess> {
  const dataDir = join(root, name);
  const configPath = join(root, `${name}.json`);
  writeFileSync(
    configPath,
    JSON.stringify({ dataDir, http: { port: 0 }, ipfs: { peers, swarmKey: { env: 'TEST_SWARM_KEY' } }, keyStore: { kind: 'file', scryptLogN: 10 }, dta: {}, log: { level: 'info' }, ...sections }),
  );
  const dta: DtaProcess = { name, dataDir, configPath, server: undefined as unknown as ServerProcess, id: '', addrs: [] };
  await restartDta(dta, swarmKey);
  running.push(dta);
  return dta;
}

const events = (server: ServerProcess, event: string): Array<Record<string, unknown>> => server.logs.filter((line) => line['event'] === event);

it('a D-TA server with backupFiduciary pins the scheduled backups of a server that backs itself up', async () => {
  const fiduciary = await startDtaWith('fiduciary', [], { backupFiduciary: {} });

  // The node's owner holds the recovery secret; the node keeps only its public key.
  const node = { dataDir: join(root, 'node') };
  const recoverySecret = generateRecoverySecret();
  await writeRecoveryPublicKey(node.dataDir, recoveryPublicKey(recoverySecret));
  const backedUp = await startDtaWith('node', fiduciary.addrs, { backup: { fiduciaries: [fiduciary.id], threshold: 1, every: '3s', onStart: true, timeout: '60s' } });
  expect(events(backedUp.server, 'backup-scheduled')).toHaveLength(1);

  // It keeps serving while it backs up.
  await waitFor(
    'two scheduled backups',
    async () => {
      expect((await jsonRequest(`${backedUp.server.url}/v1/node`)).status).toBe(200);
      return events(backedUp.server, 'backup-made').length >= 2;
    },
    180_000,
    500,
  );
  const [first, second] = events(backedUp.server, 'backup-made') as Array<{ manifest: string; prev: string | null; pinnedBy: string[]; files: number; notBackedUp: string[] }>;
  expect(second!.prev).toBe(first!.manifest);
  for (const backup of [first!, second!]) {
    expect(backup.pinnedBy).toEqual([fiduciary.id]);
    expect(backup.files).toBeGreaterThan(3);
    expect(backup.notBackedUp).toEqual([]);
  }
  expect(events(backedUp.server, 'backup-failed')).toEqual([]);

  // The fiduciary pinned both (its log lines may lag the node's behind its pipe) and counts them.
  await waitFor('deposit-pinned lines', () => {
    const pinned = events(fiduciary.server, 'deposit-pinned').map((line) => line['manifest']);
    return pinned.includes(first!.manifest) && pinned.includes(second!.manifest);
  }, 30_000, 100);
  expect(events(fiduciary.server, 'deposit-pinned').every((line) => line['node'] === backedUp.id)).toBe(true);
  const metrics = await fetch(`${fiduciary.server.url}/metrics`).then((response) => response.text());
  expect(metrics).toMatch(/milagro_backup_fiduciary_events_total\{event="deposit-pinned"\} [1-9]/);

  // Once it stops, the head of its chain is one of the backups it made (whose line may still be in the pipe).
  await backedUp.server.stop();
  const head = JSON.parse(readFileSync(join(node.dataDir, 'backup', 'head.json'), 'utf8')) as { manifest: string };
  await waitFor('the head among the backups made', () => events(backedUp.server, 'backup-made').some((line) => line['manifest'] === head.manifest), 30_000, 100);

  // A restore drill of the head, with a milagro config naming the node's data dir: the fiduciary releases its share.
  writeFileSync(join(root, 'swarm.key'), swarmKey, { mode: 0o600 });
  const config = join(root, 'node.yaml');
  writeFileSync(config, JSON.stringify({ roles: ['dta'], dataDir: node.dataDir, ipfs: { peers: fiduciary.addrs, swarmKey: { file: join(root, 'swarm.key') } }, keyStore: { kind: 'file', scryptLogN: 10 } }));
  const drill = await runMilagro(['backup', 'verify', '--config', config, '--json'], { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of node', MILAGRO_RECOVERY_SECRET: recoverySecret });
  if (drill.code !== 0) throw new Error(`backup verify failed: ${drill.stdout}\n${drill.stderr}`);
  expect(JSON.parse(drill.stdout)).toMatchObject({ ok: true, manifest: head.manifest, node: backedUp.id, releasedBy: [fiduciary.id] });
});
