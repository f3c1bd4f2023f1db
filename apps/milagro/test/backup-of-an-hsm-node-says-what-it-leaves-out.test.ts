/**
 * A node whose key store is a PKCS#11 HSM (SoftHSM2) backs itself up on schedule to a fiduciary node:
 * its keys are non-extractable on the token, so the backup holds the rest of the node (databases,
 * messaging journal, IPFS blocks, config) and says so loudly: a warning when the schedule starts,
 * and `notBackedUp` in every `backup-made` line. The backup is signed on the HSM and accepted (pinned)
 * by the fiduciary. The HSM's own backup mechanism covers the token (docs/specs/backup.md §9).
 */
import { generateSwarmKey } from '@milagro/node';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSoftHsmToken, softHsmSkipReason, type SoftHsmToken } from '../../../packages/keystore/test/softhsm-token.js';
import { jsonRequest } from '../../../tools/jest/dta-cluster.js';
import { waitFor } from '../../../tools/jest/peer-process.js';
import type { ServerProcess } from '../../../tools/jest/server-process.js';
import { runMilagro, startMilagro } from './support/milagro-command.js';

jest.setTimeout(600_000);

const describeWithHsm = softHsmSkipReason === undefined ? describe : describe.skip;

describeWithHsm('a node with an HSM key store', () => {
  let root: string;
  let token: SoftHsmToken;
  let env: Record<string, string>;
  const running: ServerProcess[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'milagro-backup-hsm-'));
    writeFileSync(join(root, 'swarm.key'), generateSwarmKey(), { mode: 0o600 });
    token = createSoftHsmToken();
    env = {
      MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the hsm backup test',
      MILAGRO_DTA_ADMIN_TOKEN: 'operator-token-for-hsm-backups',
      MILAGRO_HSM_PIN: readFileSync(token.pinFile, 'utf8').trim(),
      SOFTHSM2_CONF: process.env['SOFTHSM2_CONF']!,
    };
  });
  afterAll(async () => {
    for (const server of running) await server.kill();
    token.remove();
    rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  async function init(name: string, peers: readonly string[], keyStore: readonly string[]): Promise<string> {
    const config = join(root, name, 'config.yaml');
    const args = ['init', '--yes', '--config', config, '--data-dir', 'data', '--roles', 'dta', '--http-port', '0', '--swarm-key-file', join(root, 'swarm.key'), '--json', ...keyStore];
    const result = await runMilagro([...args, ...peers.flatMap((peer) => ['--peer', peer])], env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    return config;
  }

  async function start(config: string): Promise<ServerProcess> {
    const server = await startMilagro(config, env);
    running.push(server);
    return server;
  }

  const events = (server: ServerProcess, event: string): Array<Record<string, unknown>> => server.logs.filter((line) => line['event'] === event);

  it('backs up everything but the token, says so, and the fiduciary pins it', async () => {
    const fiduciaryConfig = await init('fiduciary', [], ['--scrypt-log-n', '10']);
    appendFileSync(fiduciaryConfig, '\nbackupFiduciary: {}\n');
    const fiduciary = await start(fiduciaryConfig);
    const { identity: fiduciaryId, addresses } = (await jsonRequest(`${fiduciary.url}/v1/node`)).body as unknown as { identity: string; addresses: string[] };

    const config = await init('hsm', addresses, ['--keystore', 'pkcs11', '--pkcs11-module', token.module, '--pkcs11-token-label', token.tokenLabel]);
    appendFileSync(config, `\nbackup:\n  fiduciaries: [${fiduciaryId}]\n  threshold: 1\n  every: 3s\n  onStart: true\n  timeout: 1m\n`);
    const node = await start(config);
    const warning = events(node, 'backup-incomplete');
    expect(warning).toHaveLength(1);
    expect(warning[0]!['level']).toBe(40); // pino's warn
    expect(String(warning[0]!['msg'])).toMatch(/scheduled backups do NOT contain the PKCS#11 key store: its keys stay on the HSM token \(non-extractable\); back the token up with the HSM's own mechanism/);

    await waitFor('a scheduled backup', () => events(node, 'backup-made').length >= 1, 240_000, 250);
    const made = events(node, 'backup-made')[0] as { manifest: string; pinnedBy: string[]; notBackedUp: string[] };
    expect(made.pinnedBy).toEqual([fiduciaryId]);
    expect(made.notBackedUp).toEqual([expect.stringMatching(/^the PKCS#11 key store/)]);
    await waitFor('the fiduciary pinned it', () => events(fiduciary, 'deposit-pinned').some((line) => line['manifest'] === made.manifest), 30_000, 100);
    // The node kept no key file of its own: the keys are on the token.
    expect(existsSync(join(root, 'hsm', 'data', 'keys'))).toBe(false);
    await node.stop();
  });
});
