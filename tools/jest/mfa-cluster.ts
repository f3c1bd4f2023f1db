/**
 * The MFA server (apps/mfa-server) and the demo relying party (apps/mfa-demo) as real processes
 * next to a D-TA cluster (dta-cluster.ts), for end-to-end tests (`npm run dev` uses `milagro dev up`
 * instead). The MFA server activates through its development outbox, with links to the demo page
 * when there is one.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonRequest, type DtaProcess } from './dta-cluster.js';
import { spawnServer, type ServerProcess } from './server-process.js';

const MFA_ENTRY = fileURLToPath(new URL('../../apps/mfa-server/src/main.ts', import.meta.url));
const DEMO_ENTRY = fileURLToPath(new URL('../../apps/mfa-demo/src/main.ts', import.meta.url));
export const MFA_ADMIN_TOKEN = 'mfa-operator-token-0123456789';
export const MFA_ISSUER = 'https://login.acme.example';

export interface MfaServerOptions {
  readonly root: string;
  readonly swarmKey: string;
  readonly dtas: readonly DtaProcess[];
  readonly realmId: string;
  readonly threshold: number;
  /** Browser origins allowed to call the MFA server (the demo page). */
  readonly corsOrigins?: readonly string[];
  /** Activation link with `{code}`; default a link to the issuer's page. */
  readonly activationLink?: string;
  readonly limits?: Record<string, unknown>;
  /** Names the config file and data dir under `root` (default `mfa`): several servers can share a root. */
  readonly name?: string;
  /** The config's `database` section (default: embedded SQLite in the data dir). */
  readonly database?: Record<string, unknown>;
  /** More environment for the process (e.g. the database URL the `database` section names). */
  readonly env?: Record<string, string>;
}

/** A running MFA server; `restart()` stops it and starts it again on the same data directory. */
export interface MfaServerHandle {
  server: ServerProcess;
  /** Its identity (the realm's `mfaService`). */
  readonly id: string;
  /** Every process started so far (a restart adds one), for log checks. */
  readonly processes: ServerProcess[];
  restart(): Promise<void>;
}

export async function startMfaServer(options: MfaServerOptions): Promise<MfaServerHandle> {
  const name = options.name ?? 'mfa';
  const configPath = join(options.root, `${name}.json`);
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir: join(options.root, name),
      ...(options.database === undefined ? {} : { database: options.database }),
      http: { port: 0, ...(options.corsOrigins === undefined ? {} : { cors: { origins: options.corsOrigins } }) },
      ipfs: { peers: options.dtas.flatMap((d) => d.addrs), swarmKey: { env: 'TEST_SWARM_KEY' } },
      keyStore: { kind: 'file', scryptLogN: 10 },
      mfa: {
        issuer: MFA_ISSUER,
        realm: { id: options.realmId, threshold: options.threshold, dtas: options.dtas.map((d) => ({ id: d.id, url: d.server.url })) },
        activation: { kind: 'development-outbox', from: 'login@acme.example', link: options.activationLink ?? `${MFA_ISSUER}/activate#code={code}` },
        limits: options.limits ?? {},
      },
      log: { level: 'debug' },
    }),
  );
  const processes: ServerProcess[] = [];
  const spawn = async (): Promise<ServerProcess> => {
    const server = await spawnServer({
      entry: MFA_ENTRY,
      args: ['--config', configPath],
      env: { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the MFA server', MILAGRO_MFA_ADMIN_TOKEN: MFA_ADMIN_TOKEN, TEST_SWARM_KEY: options.swarmKey, ...options.env },
    });
    processes.push(server);
    return server;
  };
  const server = await spawn();
  const id = String((await jsonRequest(`${server.url}/v1/node`)).body['identity']);
  const handle: MfaServerHandle = {
    server,
    id,
    processes,
    async restart() {
      await handle.server.stop();
      handle.server = await spawn();
    },
  };
  return handle;
}

/** Starts the demo relying party on `port` for the MFA server at `mfaUrl`. */
export function startDemo(options: { readonly mfaUrl: string; readonly port: number }): Promise<ServerProcess> {
  return spawnServer({ entry: DEMO_ENTRY, args: ['--mfa', options.mfaUrl, '--port', String(options.port), '--issuer', MFA_ISSUER] });
}

/** A TCP port free right now on 127.0.0.1 (to fix an origin before the server behind it starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}
