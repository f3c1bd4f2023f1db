/**
 * Real D-TA servers for end-to-end tests: each apps/dta-server in its own OS process (embedded Helia
 * node on a private network, file key store, SQLite), started from a JSON config in a temporary
 * root, restartable on the same data directory, and driven over HTTP with the operator token.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnServer, type ServerProcess } from './server-process.js';
import { waitFor } from './peer-process.js';

const DTA_ENTRY = fileURLToPath(new URL('../../apps/dta-server/src/main.ts', import.meta.url));
export const DTA_ADMIN_TOKEN = 'operator-token-for-tests-0123456789';

/** A JSON answer: status, content type and parsed body (`{}` when empty). */
export interface JsonAnswer {
  readonly status: number;
  readonly type: string;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** `fetch` with a JSON body (`json`, POST unless `method` says otherwise) and an optional bearer token. */
export async function jsonRequest(url: string, init: RequestInit & { json?: unknown; bearer?: string } = {}): Promise<JsonAnswer> {
  const { json, bearer, headers, ...rest } = init;
  const merged: Record<string, string> = { ...(headers as Record<string, string> | undefined) };
  if (json !== undefined) merged['content-type'] = 'application/json';
  if (bearer !== undefined) merged['authorization'] = `Bearer ${bearer}`;
  const response = await fetch(url, { ...rest, headers: merged, ...(json === undefined ? {} : { body: JSON.stringify(json), method: rest.method ?? 'POST' }) });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

export interface DtaProcess {
  readonly name: string;
  readonly dataDir: string;
  readonly configPath: string;
  server: ServerProcess;
  /** Identity CID string. */
  id: string;
  /** libp2p multiaddrs (with /p2p/<peer id>). */
  addrs: string[];
}

export interface StartDtaOptions {
  /** Temporary root holding `<name>/` and `<name>.json`. */
  readonly root: string;
  readonly swarmKey: string;
  readonly trustedProposers: readonly string[];
  readonly peers: readonly string[];
  /** Browser origins allowed to call the D-TA (a page fetching client shares with the SDK). */
  readonly corsOrigins?: readonly string[];
  /** The config's `ipfs` section instead of an embedded node with `peers` and the swarm key (e.g. `{ kubo: { url } }`). */
  readonly ipfs?: Record<string, unknown>;
}

/** Starts `apps/dta-server` as `name` (plugins on, scrypt lowered for tests). */
export async function startDta(name: string, options: StartDtaOptions): Promise<DtaProcess> {
  const dataDir = join(options.root, name);
  const configPath = join(options.root, `${name}.json`);
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir,
      http: { port: 0, ...(options.corsOrigins === undefined ? {} : { cors: { origins: options.corsOrigins } }) },
      ipfs: options.ipfs ?? { peers: options.peers, swarmKey: { env: 'TEST_SWARM_KEY' } },
      keyStore: { kind: 'file', scryptLogN: 10 },
      dta: { trustedProposers: options.trustedProposers, protocolRoundTimeoutMs: 60_000, plugins: { 'safeguard-secret': {}, 'bitcoin-address': { network: 'regtest' } } },
      log: { level: 'info' },
    }),
  );
  const dta: DtaProcess = { name, dataDir, configPath, server: undefined as unknown as ServerProcess, id: '', addrs: [] };
  await restartDta(dta, options.swarmKey);
  return dta;
}

/** (Re)starts a D-TA process on its data directory; refreshes its id and addresses. */
export async function restartDta(dta: DtaProcess, swarmKey: string): Promise<void> {
  dta.server = await spawnServer({
    entry: DTA_ENTRY,
    args: ['--config', dta.configPath],
    env: { MILAGRO_KEYSTORE_PASSPHRASE: `passphrase of ${dta.name}`, MILAGRO_DTA_ADMIN_TOKEN: DTA_ADMIN_TOKEN, TEST_SWARM_KEY: swarmKey },
  });
  const { body } = await jsonRequest(`${dta.server.url}/v1/node`);
  dta.id = String(body['identity']);
  dta.addrs = body['addresses'] as string[];
}

/** Three (or `count`) D-TAs; the first is the realm proposer the others trust, each peers with those before it. */
export async function startDtaCluster(options: { root: string; swarmKey: string; count?: number; corsOrigins?: readonly string[] }): Promise<DtaProcess[]> {
  const first = await startDta('dta-1', { ...options, trustedProposers: [], peers: [] });
  const dtas = [first];
  for (let i = 2; i <= (options.count ?? 3); i += 1) {
    dtas.push(await startDta(`dta-${i}`, { ...options, trustedProposers: [first.id], peers: dtas.flatMap((d) => d.addrs) }));
  }
  return dtas;
}

/** Proposes a realm at the first D-TA and waits until every member reports it active. */
export async function createRealm(dtas: readonly DtaProcess[], definition: { realmId: string; threshold: number; mfaService: string; permitHorizonDays?: number; grantMaxLifetimeMinutes?: number }): Promise<Array<Record<string, unknown>>> {
  const created = await jsonRequest(`${dtas[0]!.server.url}/v1/realms`, { bearer: DTA_ADMIN_TOKEN, json: { members: dtas.map((d) => d.id), ...definition } });
  if (created.status !== 202) throw new Error(`realm creation answered ${created.status}: ${JSON.stringify(created.body)}`);
  const statuses: Array<Record<string, unknown>> = [];
  for (const dta of dtas) {
    await waitFor(`${dta.name} active`, async () => (await jsonRequest(`${dta.server.url}/v1/realms/${definition.realmId}`)).body['state'] === 'active', 180_000, 500);
    statuses.push((await jsonRequest(`${dta.server.url}/v1/realms/${definition.realmId}`)).body);
  }
  return statuses;
}
