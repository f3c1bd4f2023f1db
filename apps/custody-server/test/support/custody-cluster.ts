/**
 * Real custody servers for end-to-end tests: each apps/custody-server in its own OS process
 * (embedded Helia node on a private network, file key store, SQLite), started from a JSON config in
 * a temporary root, restartable on the same data directory, and driven over HTTP.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonRequest } from '../../../../tools/jest/dta-cluster.js';
import { spawnServer, type ServerProcess } from '../../../../tools/jest/server-process.js';

const ENTRY = join(__dirname, '..', '..', 'src', 'main.ts');

export interface OperatorProcess {
  readonly name: string;
  readonly configPath: string;
  server: ServerProcess;
  id: string;
  addrs: string[];
}

/** Starts `apps/custody-server` as `name` (scrypt lowered for tests), peering with `peers`. */
export async function startOperator(name: string, options: { root: string; swarmKey: string; peers: readonly string[]; roundTimeoutMs?: number }): Promise<OperatorProcess> {
  const configPath = join(options.root, `${name}.json`);
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir: join(options.root, name),
      http: { port: 0 },
      ipfs: { peers: options.peers, swarmKey: { env: 'TEST_SWARM_KEY' } },
      keyStore: { kind: 'file', scryptLogN: 10 },
      custody: { protocolRoundTimeoutMs: options.roundTimeoutMs ?? 60_000 },
      log: { level: 'info' },
    }),
  );
  const operator: OperatorProcess = { name, configPath, server: undefined as unknown as ServerProcess, id: '', addrs: [] };
  await restartOperator(operator, options.swarmKey);
  return operator;
}

export async function restartOperator(operator: OperatorProcess, swarmKey: string): Promise<void> {
  operator.server = await spawnServer({
    entry: ENTRY,
    args: ['--config', operator.configPath],
    env: { MILAGRO_KEYSTORE_PASSPHRASE: `passphrase of ${operator.name}`, TEST_SWARM_KEY: swarmKey },
  });
  const { body } = await jsonRequest(`${operator.server.url}/v1/node`);
  operator.id = String(body['identity']);
  operator.addrs = body['addresses'] as string[];
}

/** `count` operators, each peering with those before it. */
export async function startOperators(options: { root: string; swarmKey: string; count: number; roundTimeoutMs?: number }): Promise<OperatorProcess[]> {
  const operators: OperatorProcess[] = [];
  for (let i = 1; i <= options.count; i += 1) operators.push(await startOperator(`operator-${i}`, { ...options, peers: operators.flatMap((o) => o.addrs) }));
  return operators;
}
