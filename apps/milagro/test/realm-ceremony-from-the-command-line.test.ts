/**
 * The D-TA ceremony with the `milagro` command on three nodes: two members trust the proposer with
 * `realm join` (one before its first start, one while running, which then needs a restart), the
 * proposer runs `realm create --wait`, and every member holds the active realm with one group key.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { jsonRequest } from '../../../tools/jest/dta-cluster.js';
import type { ServerProcess } from '../../../tools/jest/server-process.js';
import { runMilagro, startMilagro, type CommandResult } from './support/milagro-command.js';

jest.setTimeout(900_000);

const env = { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the realm test', MILAGRO_DTA_ADMIN_TOKEN: 'operator-token-for-milagro-tests-0123' };
let root: string;
const servers: ServerProcess[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'milagro-realm-'));
});
afterAll(async () => {
  for (const server of servers) await server.kill();
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

function parsed(result: CommandResult): Record<string, unknown> {
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

async function initNode(name: string, peers: readonly string[]): Promise<string> {
  const config = join(root, `${name}.yaml`);
  parsed(await runMilagro(['init', '--yes', '--config', config, '--data-dir', name, '--http-port', '0', '--scrypt-log-n', '10', ...peers.flatMap((peer) => ['--peer', peer]), '--json'], env));
  return config;
}

async function start(config: string): Promise<ServerProcess> {
  const server = await startMilagro(config, env);
  servers.push(server);
  return server;
}

async function addressesOf(server: ServerProcess): Promise<string[]> {
  return (await jsonRequest(`${server.url}/v1/node`)).body['addresses'] as string[];
}

it('join, join, create --wait: three D-TAs hold the realm', async () => {
  const config1 = await initNode('dta-1', []);
  const dta1 = await start(config1);
  const proposer = String((await jsonRequest(`${dta1.url}/v1/node`)).body['identity']);

  // dta-2 trusts the proposer before its first start, naming it by URL.
  const config2 = await initNode('dta-2', await addressesOf(dta1));
  const joined = parsed(await runMilagro(['realm', 'join', '--proposer', dta1.url, '--config', config2, '--json'], env));
  expect(joined).toMatchObject({ ok: true, proposer, changed: true, restartNeeded: false, trustedProposers: [proposer] });
  expect(readFileSync(config2, 'utf8')).toContain('# D-TA identities allowed to propose realms to this one.');
  const again = parsed(await runMilagro(['realm', 'join', '--proposer', proposer, '--config', config2, '--json'], env));
  expect(again).toMatchObject({ changed: false, trustedProposers: [proposer] });
  const dta2 = await start(config2);

  // dta-3 joins while running: the change needs a restart. Its first run stays apart from the others and
  // the consortium's peers are added to its config before the restart (an operator's edit): a node that
  // restarts while connected is not reachable by its peers' bitswap afterwards (an IPFS-layer problem
  // seen here and in 5bf4ad2, reported separately), which this test is not about.
  const config3 = await initNode('dta-3', []);
  let dta3 = await start(config3);
  const joinedLive = parsed(await runMilagro(['realm', 'join', '--proposer', proposer, '--config', config3, '--json'], env));
  expect(joinedLive).toMatchObject({ changed: true, restartNeeded: true, identity: expect.any(String) });
  await dta3.stop();
  const edited = parseDocument(readFileSync(config3, 'utf8'));
  edited.setIn(['ipfs', 'peers'], [...(await addressesOf(dta1)), ...(await addressesOf(dta2))]);
  writeFileSync(config3, edited.toString());
  dta3 = await start(config3);

  // More shares needed than members: a usage error, refused before anything is sent.
  const badThreshold = await runMilagro(['realm', 'create', 'trio', '--config', config1, '--member', dta2.url, '--member', dta3.url, '--threshold', '4', '--mfa-service', proposer, '--json'], env);
  expect(badThreshold.code).toBe(2);
  expect(JSON.parse(badThreshold.stdout)).toMatchObject({ ok: false, error: { message: expect.stringContaining('--threshold') } });

  const created = parsed(await runMilagro(['realm', 'create', 'trio', '--config', config1, '--member', dta2.url, '--member', dta3.url, '--threshold', '2', '--mfa-service', proposer, '--wait', '--timeout', '600', '--json'], env));
  expect(created).toMatchObject({ ok: true, realmId: 'trio', state: 'active', threshold: 2, members: [proposer, expect.any(String), joinedLive['identity']] });
  for (const config of [config2, config3]) {
    const shown = parsed(await runMilagro(['realm', 'status', 'trio', '--config', config, '--wait', '--timeout', '600', '--json'], env));
    expect(shown).toMatchObject({ state: 'active', proposer, groupPublicKey: created['groupPublicKey'] });
  }
  // The same realm again is refused by the node (409): a usage error.
  const twice = await runMilagro(['realm', 'create', 'trio', '--config', config1, '--member', dta2.url, '--member', dta3.url, '--threshold', '2', '--mfa-service', proposer, '--json'], env);
  expect(twice.code).toBe(2);
});
