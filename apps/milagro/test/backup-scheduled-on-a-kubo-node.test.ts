/**
 * Scheduled backups of a node whose IPFS is a Kubo daemon (tools/kubo, test profile, loopback): the
 * daemon's repository is not in the data dir, so it stores the backup's blocks itself, and unpins the
 * envelope and manifest once the fiduciary (an embedded node running `milagro start` with a
 * `backupFiduciary` section) has pinned them.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonRequest } from '../../../tools/jest/dta-cluster.js';
import { waitFor } from '../../../tools/jest/peer-process.js';
import type { ServerProcess } from '../../../tools/jest/server-process.js';
import { findKuboBinary, startKubo, type KuboDaemon } from '../../../tools/kubo/kubo-daemon.js';
import { runMilagro, startMilagro } from './support/milagro-command.js';

jest.setTimeout(300_000);

const env = { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the kubo backup test', MILAGRO_DTA_ADMIN_TOKEN: 'operator-token-for-kubo-backups' };
const binary = findKuboBinary();
let root: string;
let daemon: KuboDaemon | undefined;
const running: ServerProcess[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'milagro-backup-kubo-'));
  if (binary !== undefined) daemon = await startKubo({ binary });
});
afterAll(async () => {
  for (const server of running) await server.kill();
  await daemon?.stop();
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

async function init(name: string, args: readonly string[]): Promise<string> {
  const config = join(root, name, 'config.yaml');
  const result = await runMilagro(['init', '--yes', '--config', config, '--data-dir', 'data', '--roles', 'dta', '--http-port', '0', '--scrypt-log-n', '10', '--json', ...args], env);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return config;
}

async function pinned(cid: string): Promise<boolean> {
  const response = await fetch(`${daemon!.apiUrl}/api/v0/pin/ls?arg=${cid}&type=all`, { method: 'POST' });
  return response.status === 200;
}

it('a Kubo node backs itself up to an embedded fiduciary and unpins the backup in the daemon once deposited', async () => {
  if (daemon === undefined) {
    if (process.env['CI'] !== undefined) throw new Error('no Kubo binary: run tools/kubo/install.sh');
    console.warn('skipped: no Kubo binary (tools/kubo/install.sh)');
    return;
  }
  const fiduciaryConfig = await init('fiduciary', daemon.swarm.flatMap((address) => ['--peer', address]));
  appendFileSync(fiduciaryConfig, '\nbackupFiduciary: {}\n');
  const fiduciary = await startMilagro(fiduciaryConfig, env);
  running.push(fiduciary);
  const { identity: fiduciaryId, addresses } = (await jsonRequest(`${fiduciary.url}/v1/node`)).body as unknown as { identity: string; addresses: string[] };

  const config = await init('kubo-node', ['--ipfs', daemon.apiUrl, ...addresses.flatMap((address) => ['--peer', address])]);
  appendFileSync(config, `\nbackup:\n  fiduciaries: [${fiduciaryId}]\n  threshold: 1\n  every: 3s\n  onStart: true\n  timeout: 1m\n`);
  const node = await startMilagro(config, env);
  running.push(node);

  await waitFor('a scheduled backup', () => node.logs.some((line) => line['event'] === 'backup-made'), 240_000, 250);
  const made = node.logs.find((line) => line['event'] === 'backup-made') as { manifest: string; pinnedBy: string[] };
  expect(made.pinnedBy).toEqual([fiduciaryId]);
  await waitFor('the fiduciary pinned it', () => fiduciary.logs.some((line) => line['event'] === 'deposit-pinned' && line['manifest'] === made.manifest), 30_000, 100);
  // The fiduciary holds it now; the daemon let go of it (its garbage collection may drop the blocks).
  expect(await pinned(made.manifest)).toBe(false);
  // (The query works: the node's identity document is pinned in the daemon.)
  const { identity } = (await jsonRequest(`${node.url}/v1/node`)).body as unknown as { identity: string };
  expect(await pinned(identity)).toBe(true);
  await node.stop();
});
