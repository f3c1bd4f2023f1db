/**
 * Real custody servers for end-to-end tests: each apps/custody-server in its own OS process
 * (embedded Helia node on a private network, file key store, SQLite), started from a JSON config in
 * a temporary root, restartable on the same data directory, and driven over HTTP.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonRequest } from '../../../../tools/jest/dta-cluster.js';
import { namespacedEntry, type NetworkNamespace } from '../../../../tools/jest/netns.js';
import { spawnServer, type ServerProcess } from '../../../../tools/jest/server-process.js';

const ENTRY = join(__dirname, '..', '..', 'src', 'main.ts');

export interface OperatorProcess {
  readonly name: string;
  readonly configPath: string;
  server: ServerProcess;
  id: string;
  addrs: string[];
  /** The network namespace it runs in (tools/jest/netns.ts), listening on the namespace's address; absent: the root namespace. */
  readonly netns?: NetworkNamespace;
}

/**
 * Starts `apps/custody-server` as `name` (scrypt lowered for tests), peering with `peers`. `listen`:
 * its libp2p listen addresses (default: the node's own). `netns`: it runs inside that namespace, HTTP
 * and libp2p on the namespace's address only.
 */
export async function startOperator(
  name: string,
  options: { root: string; swarmKey: string; peers: readonly string[]; roundTimeoutMs?: number; listen?: readonly string[]; netns?: NetworkNamespace },
): Promise<OperatorProcess> {
  const configPath = join(options.root, `${name}.json`);
  const listen = options.netns === undefined ? options.listen : [`/ip4/${options.netns.address}/tcp/0`];
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir: join(options.root, name),
      http: { port: 0, ...(options.netns === undefined ? {} : { host: options.netns.address }) },
      ipfs: { peers: options.peers, ...(listen === undefined ? {} : { listen }), swarmKey: { env: 'TEST_SWARM_KEY' } },
      keyStore: { kind: 'file', scryptLogN: 10 },
      custody: { protocolRoundTimeoutMs: options.roundTimeoutMs ?? 60_000 },
      log: { level: 'info' },
    }),
  );
  const operator: OperatorProcess = { name, configPath, server: undefined as unknown as ServerProcess, id: '', addrs: [], ...(options.netns === undefined ? {} : { netns: options.netns }) };
  await restartOperator(operator, options.swarmKey);
  return operator;
}

export async function restartOperator(operator: OperatorProcess, swarmKey: string): Promise<void> {
  const args = ['--config', operator.configPath];
  operator.server = await spawnServer({
    ...(operator.netns === undefined ? { entry: ENTRY, args } : namespacedEntry(operator.netns, ENTRY, args)),
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
