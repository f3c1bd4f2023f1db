/**
 * `milagro identity rotate` publishes a rotation to the pre-rotated keys; `identity show` reports the
 * new document (offline and from the running node); rotation refuses while the node runs. Another
 * node then resolves the rotated identity: it accepts the rotated node's realm proposal and DKG
 * messages, signed by the new keys and naming the new head.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonRequest } from '../../../tools/jest/dta-cluster.js';
import type { ServerProcess } from '../../../tools/jest/server-process.js';
import { runMilagro, startMilagro, type CommandResult } from './support/milagro-command.js';

jest.setTimeout(900_000);

const env = { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the rotation test', MILAGRO_DTA_ADMIN_TOKEN: 'operator-token-for-milagro-tests-0123' };
let root: string;
const servers: ServerProcess[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'milagro-rotate-'));
});
afterAll(async () => {
  for (const server of servers) await server.kill();
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

function parsed(result: CommandResult): Record<string, unknown> {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

it('rotate, show the new document, refuse while running; a peer accepts the rotated node in a realm', async () => {
  const configA = join(root, 'a.yaml');
  const { identity } = parsed(await runMilagro(['init', '--yes', '--config', configA, '--data-dir', 'a', '--http-port', '0', '--scrypt-log-n', '10', '--json'], env));

  const before = parsed(await runMilagro(['identity', 'show', '--config', configA, '--json'], env));
  expect(before).toMatchObject({ ok: true, running: false, identity, head: identity, rotations: 0 });

  const rotated = parsed(await runMilagro(['identity', 'rotate', '--config', configA, '--json'], env));
  expect(rotated).toMatchObject({ ok: true, identity, previousHead: identity, rotations: 1 });
  expect(rotated['head']).not.toBe(identity);
  // Pre-rotation honoured: the new keys are the ones the inception document committed to, so they differ from the old.
  const keysOf = (shown: Record<string, unknown>): Record<string, { fingerprint: string }> => shown['keys'] as Record<string, { fingerprint: string }>;
  expect(keysOf(rotated)['ed25519']!.fingerprint).not.toBe(keysOf(before)['ed25519']!.fingerprint);
  expect(keysOf(rotated)['ml-dsa-65']!.fingerprint).not.toBe(keysOf(before)['ml-dsa-65']!.fingerprint);
  expect(rotated['nextKeysCommitment']).not.toBe(before['nextKeysCommitment']);

  const after = parsed(await runMilagro(['identity', 'show', '--config', configA, '--json'], env));
  expect(after).toMatchObject({ running: false, identity, head: rotated['head'], rotations: 1, keys: rotated['keys'] });

  // The node starts on the rotated identity; rotation refuses while it runs, show asks the node.
  const a = await startMilagro(configA, env);
  servers.push(a);
  const refused = await runMilagro(['identity', 'rotate', '--config', configA, '--json'], env);
  expect(refused.code).toBe(2);
  expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, error: { message: expect.stringContaining('the node is running') } });
  const live = parsed(await runMilagro(['identity', 'show', '--config', configA, '--json'], env));
  expect(live).toMatchObject({ running: true, identity, head: rotated['head'], rotations: 1 });
  expect(Object.fromEntries(Object.entries(keysOf(live)).map(([type, key]) => [type, key.fingerprint]))).toEqual(
    Object.fromEntries(Object.entries(keysOf(rotated)).map(([type, key]) => [type, key.fingerprint])),
  );

  // Another node that has only ever known the identity CID: it must resolve A to the rotated keys to accept A's proposal and DKG messages.
  const addresses = (await jsonRequest(`${a.url}/v1/node`)).body['addresses'] as string[];
  const configB = join(root, 'b.yaml');
  parsed(await runMilagro(['init', '--yes', '--config', configB, '--data-dir', 'b', '--http-port', '0', '--scrypt-log-n', '10', '--trusted-proposer', String(identity), ...addresses.flatMap((address) => ['--peer', address]), '--json'], env));
  const b = await startMilagro(configB, env);
  servers.push(b);

  const realm = parsed(await runMilagro(['realm', 'create', 'duo', '--config', configA, '--member', b.url, '--threshold', '2', '--mfa-service', String(identity), '--wait', '--timeout', '600', '--json'], env));
  expect(realm).toMatchObject({ ok: true, realmId: 'duo', state: 'active', threshold: 2 });
  const atB = parsed(await runMilagro(['realm', 'status', 'duo', '--config', configB, '--wait', '--timeout', '600', '--json'], env));
  expect(atB).toMatchObject({ state: 'active', proposer: identity, groupPublicKey: realm['groupPublicKey'] });
});
