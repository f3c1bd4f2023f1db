/**
 * Two real `milagro` nodes: A runs [dta], B runs [dta, mfa] and is the realm's MFA service. B's one
 * inbox reader must hand the realm protocol messages from A to B's D-TA (the DKG completes on both)
 * and A's server-secret share to B's MFA role (B turns ready).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonRequest } from '../../../tools/jest/dta-cluster.js';
import { waitFor } from '../../../tools/jest/peer-process.js';
import type { ServerProcess } from '../../../tools/jest/server-process.js';
import { runMilagro, startMilagro } from './support/milagro-command.js';

jest.setTimeout(600_000);

const ADMIN_TOKEN = 'operator-token-for-milagro-tests-0123';
const env = { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the two-node test', MILAGRO_DTA_ADMIN_TOKEN: ADMIN_TOKEN, MILAGRO_MFA_ADMIN_TOKEN: ADMIN_TOKEN };
let root: string;
const servers: ServerProcess[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'milagro-two-nodes-'));
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.kill()));
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

async function init(name: string, flags: readonly string[]): Promise<string> {
  const config = join(root, `${name}.yaml`);
  const result = await runMilagro(['init', '--yes', '--config', config, '--data-dir', name, '--http-port', '0', '--scrypt-log-n', '10', '--json', ...flags], env);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return config;
}

it('D-TA messages reach the D-TA and the server share reaches the MFA role of the same node', async () => {
  const a = await startMilagro(await init('a', ['--roles', 'dta']), env);
  servers.push(a);
  const aNode = (await jsonRequest(`${a.url}/v1/node`)).body as { identity: string; addresses: string[] };

  const bConfig = await init('b', [
    '--roles', 'dta,mfa', ...aNode.addresses.flatMap((address) => ['--peer', address]), '--trusted-proposer', aNode.identity,
    '--mfa-issuer', 'https://login.acme.example', '--mfa-realm', 'acme', '--mfa-threshold', '1', '--mfa-dta', `${aNode.identity}=${a.url}`,
  ]);
  const b = await startMilagro(bConfig, env);
  servers.push(b);
  const bId = String((await jsonRequest(`${b.url}/v1/node`)).body['identity']);
  expect((await jsonRequest(`${b.url}/readyz`)).body['failing']).toEqual(['server-secret']);

  const created = await jsonRequest(`${a.url}/v1/realms`, { bearer: ADMIN_TOKEN, json: { realmId: 'acme', threshold: 1, members: [aNode.identity, bId], mfaService: bId } });
  expect(created.status).toBe(202);
  for (const server of [a, b]) {
    await waitFor('realm active', async () => (await jsonRequest(`${server.url}/v1/realms/acme`)).body['state'] === 'active', 240_000, 500);
  }
  await waitFor('B ready (server secret combined)', async () => (await jsonRequest(`${b.url}/readyz`)).status === 200, 120_000, 500);
  expect(b.logs.some((line) => line['event'] === 'message-ignored')).toBe(false);
});
