/**
 * A node started by `milagro start` keeps its identity across a clean restart (SIGTERM) and, after a
 * crash (SIGKILL), comes back with its identity and its committed state: a realm it created.
 * `milagro status` reports the running node, and a second `milagro start` on its data dir is refused.
 * A node running both roles answers both roles' routes.
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
const env = { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the restart test', MILAGRO_DTA_ADMIN_TOKEN: ADMIN_TOKEN, MILAGRO_MFA_ADMIN_TOKEN: ADMIN_TOKEN };
let root: string;
let server: ServerProcess | undefined;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'milagro-restart-'));
});
afterEach(async () => {
  await server?.kill();
  server = undefined;
});
afterAll(() => rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));

async function identityOf(url: string): Promise<string> {
  return String((await jsonRequest(`${url}/v1/node`)).body['identity']);
}

it('start, SIGTERM, start keeps the identity; SIGKILL, start recovers identity and realm', async () => {
  const config = join(root, 'dta.yaml');
  const init = await runMilagro(['init', '--yes', '--config', config, '--data-dir', 'dta', '--roles', 'dta', '--http-port', '0', '--scrypt-log-n', '10', '--json'], env);
  expect({ code: init.code, stderr: init.stderr }).toEqual({ code: 0, stderr: '' });
  const { identity } = JSON.parse(init.stdout) as { identity: string };

  server = await startMilagro(config, env);
  expect(await identityOf(server.url)).toBe(identity);
  await waitFor('ready', async () => (await jsonRequest(`${server!.url}/readyz`)).status === 200, 30_000, 200);
  const status = await runMilagro(['status', '--config', config, '--json'], env);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, running: true, ready: true, roles: ['dta'], identity, url: server.url });
  // A second process on the same data dir is refused, and the first one keeps running.
  const second = await runMilagro(['start', '--config', config], env);
  expect(second.code).toBe(1);
  expect(second.stderr).toMatch(/is in use by process \d+ on .*: stop that process first/);
  expect((await jsonRequest(`${server.url}/readyz`)).status).toBe(200);

  await server.stop();
  expect(await server.exited).toBe(0);
  const stopped = await runMilagro(['status', '--config', config, '--json'], env);
  expect(stopped.code).toBe(1);
  expect(JSON.parse(stopped.stdout)).toMatchObject({ ok: false, running: false });

  server = await startMilagro(config, env);
  expect(await identityOf(server.url)).toBe(identity);

  // Committed state: a one-member realm, active once its (local) DKG has run.
  const created = await jsonRequest(`${server.url}/v1/realms`, { bearer: ADMIN_TOKEN, json: { realmId: 'solo', threshold: 1, members: [identity], mfaService: identity } });
  expect(created.status).toBe(202);
  await waitFor('realm active', async () => (await jsonRequest(`${server!.url}/v1/realms/solo`)).body['state'] === 'active', 120_000, 250);
  const before = (await jsonRequest(`${server.url}/v1/realms/solo`)).body;

  await server.kill();
  server = await startMilagro(config, env);
  expect(await identityOf(server.url)).toBe(identity);
  const after = await jsonRequest(`${server.url}/v1/realms/solo`);
  expect(after.status).toBe(200);
  expect(after.body).toMatchObject({ state: 'active', groupPublicKey: before['groupPublicKey'] });
});

it('a node with roles [dta, mfa] answers both roles\' routes on one server', async () => {
  const config = join(root, 'both.yaml');
  const init = await runMilagro(
    ['init', '--yes', '--config', config, '--data-dir', 'both', '--roles', 'dta,mfa', '--http-port', '0', '--scrypt-log-n', '10',
      '--mfa-issuer', 'https://login.acme.example', '--mfa-realm', 'acme', '--mfa-threshold', '1', '--mfa-dta', 'bafyreidta1=https://dta1.acme.example', '--json'],
    env,
  );
  expect({ code: init.code, stderr: init.stderr }).toEqual({ code: 0, stderr: '' });
  const { identity } = JSON.parse(init.stdout) as { identity: string };

  server = await startMilagro(config, env);
  expect(await identityOf(server.url)).toBe(identity);
  // D-TA routes.
  const realms = await jsonRequest(`${server.url}/v1/realms`, { method: 'GET', bearer: ADMIN_TOKEN });
  expect(realms.status).toBe(200);
  // MFA routes: the JWKS answers; not ready until the realm's D-TAs send server-secret shares.
  expect((await jsonRequest(`${server.url}/.well-known/jwks.json`)).status).toBe(200);
  const readyz = await jsonRequest(`${server.url}/readyz`);
  expect(readyz.status).toBe(503);
  expect(readyz.body['failing']).toEqual(['server-secret']);
  const operations = Object.values((await jsonRequest(`${server.url}/openapi.json`)).body['paths'] as Record<string, Record<string, { operationId: string }>>).flatMap((path) => Object.values(path).map((op) => op.operationId));
  expect(operations).toEqual(expect.arrayContaining(['getNode', 'createRealm', 'requestRegistration', 'loginPass1']));
  await server.stop();
  expect(await server.exited).toBe(0);
});
