/**
 * `milagro dev up` / `milagro dev down`: a complete local deployment on one machine, on embedded
 * defaults. Three D-TA nodes, one MFA node and one custody node, each a separate `milagro start` process with its own
 * config.yaml (embedded IPFS on a private network, file key store, SQLite), a 2-of-3 realm created by
 * the D-TAs' DKG with the MFA node as its service, and the demo page. The processes keep running
 * after `dev up` exits; `<dir>/dev-cluster.json` says where they are and `dev down` stops them.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateSwarmKey } from '@milagro/node';
import { stringify } from 'yaml';
import { loadMilagroConfig } from './config.js';
import { appEntry, isRunning, milagroEntry, spawnDetached, stopProcesses, type DetachedProcess } from './detached-process.js';
import { UsageError } from './exit-codes.js';
import { RUN_FILE } from './start.js';

export const CLUSTER_FILE = 'dev-cluster.json';
/** Marks a directory `dev up` created, so a later `dev up` may clear it. */
const MARKER = '.milagro-dev';
const REALM = { id: 'local', threshold: 2 } as const;
const ISSUER = 'https://login.milagro.localhost';
const NODE_START_TIMEOUT_MS = 180_000;
const REALM_TIMEOUT_MS = 240_000;
const SERVER_SECRET_TIMEOUT_MS = 180_000;

export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly identity: string;
  readonly pid: number;
  readonly config: string;
  readonly log: string;
}

/** The contents of `dev-cluster.json`. Written while starting too (`state: starting`), so `dev down` can clean up after an interrupted `dev up`. */
export interface DevCluster {
  readonly state: 'starting' | 'running';
  readonly dir: string;
  readonly demo?: { readonly url: string; readonly pid: number; readonly log: string };
  readonly mfa?: ClusterNode;
  /** The custody node, once the custody role exists and {@link custodyNodeSection} configures it. */
  readonly custody?: ClusterNode;
  readonly dtas: readonly ClusterNode[];
  readonly realm: { readonly id: string; readonly threshold: number };
  readonly issuer: string;
  /** Files holding the operator tokens of the D-TAs' and the MFA node's admin routes. */
  readonly adminTokenFiles: { readonly dta: string; readonly mfa: string };
  /** Every process started, for `dev down`. */
  readonly pids: readonly number[];
}

export interface DevUpOptions {
  readonly dir: string;
  /** Port of the demo page (its origin must be known before the nodes start, for CORS); 0 picks a free one. */
  readonly demoPort: number;
}

/** A failed step of `dev up` (exit 1); everything it started has been stopped. */
export class DevUpError extends Error {
  override readonly name = 'DevUpError';
}

/**
 * The cluster's custody node (issue 10): its `roles` and section, given the running D-TAs and MFA
 * node, or undefined to start none. `dev up` starts it after the MFA node (same common sections: data
 * dir, HTTP with CORS for the demo origin, IPFS peers, key store) and lists it in dev-cluster.json and
 * the printed URLs. One operator: a vault needs several, which a custody demo would add here.
 */
export function custodyNodeSection(_cluster: { readonly dtas: readonly ClusterNode[]; readonly mfa: ClusterNode }): Record<string, unknown> | undefined {
  return { roles: ['custody'], custody: {} };
}

/** Binds `port` (0: any) on 127.0.0.1 for a moment; resolves the port, or rejects when it is taken. */
function probePort(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolvePort(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/**
 * A free port for the demo page, chosen now but bound only once the nodes run (their CORS lists
 * name it). Below the system's ephemeral range when there is room, so that no `listen(0)` and no
 * outgoing connection of the nodes takes it in between.
 */
async function quietPort(): Promise<number> {
  const ephemeral = ephemeralPortRange();
  if (ephemeral !== undefined && ephemeral.low > 20_000) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const candidate = 10_000 + Math.floor(Math.random() * (ephemeral.low - 10_000));
      const port = await probePort(candidate).catch(() => undefined);
      if (port !== undefined) return port;
    }
  }
  return probePort(0);
}

/** Linux's range for ports the system picks (`listen(0)`, `connect`); undefined elsewhere. */
function ephemeralPortRange(): { low: number; high: number } | undefined {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && high !== undefined && low > 0 && high >= low ? { low, high } : undefined;
  } catch {
    return undefined;
  }
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** The end of a log, for an error message: what a process said before it exited. */
function lastLines(log: string, count = 5): string {
  try {
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n').slice(-count);
    return lines.length === 0 || lines[0] === '' ? '' : `; its last lines:\n${lines.join('\n')}`;
  } catch {
    return '';
  }
}

function secretFile(dir: string, name: string, value: string): string {
  const path = join(dir, 'secrets', name);
  writeFileSync(path, value, { mode: 0o600 });
  return path;
}

function readCluster(dir: string): DevCluster | undefined {
  const path = join(dir, CLUSTER_FILE);
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as DevCluster;
}

/** Checks `dir` is free for a new deployment: refuses a running one and a directory `dev up` did not create; clears an old one. */
function prepareDir(dir: string): void {
  const previous = readCluster(dir);
  if (previous !== undefined && previous.pids.some(isRunning)) throw new UsageError(`a development cluster already runs from ${dir}: stop it with \`milagro dev down --dir ${dir}\``);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!existsSync(join(dir, MARKER))) throw new UsageError(`${dir} is not empty and was not made by \`milagro dev up\`: choose another --dir`);
    // A stopped development cluster: its data is disposable, start afresh.
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, MARKER), 'made by `milagro dev up`; `milagro dev up` clears this directory when no cluster runs from it\n');
}

/** Starts a development cluster in `options.dir`; resolves once the demo page answers and the MFA node is ready. */
export async function devUp(options: DevUpOptions, progress: (step: string) => void): Promise<DevCluster> {
  const dir = resolve(options.dir);
  const demoPort =
    options.demoPort === 0
      ? await quietPort()
      : await probePort(options.demoPort).catch(() => {
          throw new UsageError(`--demo-port: port ${options.demoPort} on 127.0.0.1 is in use`);
        });
  prepareDir(dir);
  const demoOrigin = `http://127.0.0.1:${demoPort}`;
  const dtaToken = randomBytes(24).toString('base64url');
  const adminTokenFiles = { dta: secretFile(dir, 'dta-admin-token', dtaToken), mfa: secretFile(dir, 'mfa-admin-token', randomBytes(24).toString('base64url')) };
  const swarmKeyFile = secretFile(dir, 'swarm.key', generateSwarmKey());

  const started: DetachedProcess[] = [];
  const logs = new Map<DetachedProcess, string>();
  const dtas: ClusterNode[] = [];
  let mfa: ClusterNode | undefined;
  let custody: ClusterNode | undefined;
  let demo: DevCluster['demo'];
  const cluster = (state: DevCluster['state']): DevCluster => ({
    state,
    dir,
    ...(demo === undefined ? {} : { demo }),
    ...(mfa === undefined ? {} : { mfa }),
    ...(custody === undefined ? {} : { custody }),
    dtas,
    realm: REALM,
    issuer: ISSUER,
    adminTokenFiles,
    pids: started.map((child) => child.pid),
  });
  const record = (state: DevCluster['state']): void => writeFileSync(join(dir, CLUSTER_FILE), `${JSON.stringify(cluster(state), null, 2)}\n`);

  const logOf = (child: DetachedProcess): string => logs.get(child) ?? dir;
  /** Polls `check` until it holds; fails at once when any process started so far has exited. */
  const waitFor = async (what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (interrupted !== undefined) throw new DevUpError(`interrupted (${interrupted}) while waiting for ${what}`);
      const dead = started.find((child) => child.exited() !== undefined);
      if (dead !== undefined) throw new DevUpError(`while waiting for ${what}, a process exited (${String(dead.exited())}); see ${logOf(dead)}${lastLines(logOf(dead))}`);
      try {
        if (await check()) return;
      } catch {
        // not answering yet
      }
      if (Date.now() > deadline) throw new DevUpError(`timed out after ${timeoutMs / 1000} s waiting for ${what}; the logs are in ${dir}`);
      await sleep(250);
    }
  };
  const spawnLogged = (entry: string, args: readonly string[], log: string): DetachedProcess => {
    const child = spawnDetached(entry, args, log);
    started.push(child);
    logs.set(child, log);
    return child;
  };

  /** libp2p addresses of the nodes started so far: each new node dials them all. */
  const peerAddresses: string[] = [];
  /** Writes `<name>/config.yaml`, runs `milagro start` on it and waits until it listens. */
  const startNode = async (name: string, config: Record<string, unknown>): Promise<ClusterNode> => {
    const nodeDir = join(dir, name);
    mkdirSync(nodeDir, { recursive: true });
    const configPath = join(nodeDir, 'config.yaml');
    writeFileSync(configPath, `# ${name} of the development cluster, written by \`milagro dev up\`.\n${stringify(config)}`, { mode: 0o600 });
    loadMilagroConfig(configPath); // a config we wrote must be valid: fail here, with the key named, rather than in a log
    const log = join(dir, `${name}.log`);
    const child = spawnLogged(milagroEntry(), ['start', '--config', configPath], log);
    record('starting');
    const runFile = join(nodeDir, 'data', RUN_FILE);
    let url = '';
    let node: { identity?: string; addresses?: string[] } = {};
    await waitFor(`${name} to listen`, NODE_START_TIMEOUT_MS, async () => {
      url = (JSON.parse(readFileSync(runFile, 'utf8')) as { url: string }).url;
      const answer = await getJson(`${url}/v1/node`);
      node = answer.body;
      return answer.status === 200 && typeof node.identity === 'string' && Array.isArray(node.addresses);
    });
    if (node.identity === undefined || node.addresses === undefined) throw new DevUpError(`${name} answered without an identity`);
    progress(`${name} listens at ${url} (identity ${node.identity})`);
    peerAddresses.push(...node.addresses);
    return { name, url, identity: node.identity, pid: child.pid, config: configPath, log };
  };
  const common = (name: string, peers: readonly string[]): Record<string, unknown> => ({
    dataDir: './data',
    http: { host: '127.0.0.1', port: 0, cors: { origins: [demoOrigin] } },
    ipfs: { peers, swarmKey: { file: swarmKeyFile } },
    // The passphrase lies next to the key file here, so a high scrypt cost would protect nothing.
    keyStore: { kind: 'file', passphrase: { file: secretFile(dir, `${name}.passphrase`, randomBytes(24).toString('base64url')) }, scryptLogN: 12 },
    curveBackend: 'mcl',
    log: { level: 'info' },
  });

  // Ctrl-C while starting: the children are detached (no SIGINT reaches them), so stop them here.
  let interrupted: string | undefined;
  const interrupt = (signal: string): void => {
    interrupted = signal;
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    for (const name of ['dta-1', 'dta-2', 'dta-3']) {
      progress(`starting ${name}…`);
      // Each D-TA dials those before it and trusts the first to propose realms.
      dtas.push(await startNode(name, { roles: ['dta'], ...common(name, [...peerAddresses]), dta: { trustedProposers: dtas.slice(0, 1).map((d) => d.identity), adminToken: { file: adminTokenFiles.dta }, plugins: {} } }));
    }
    progress('starting the MFA node…');
    mfa = await startNode('mfa', {
      roles: ['mfa'],
      ...common('mfa', [...peerAddresses]),
      mfa: {
        issuer: ISSUER,
        realm: { id: REALM.id, threshold: REALM.threshold, dtas: dtas.map((d) => ({ id: d.identity, url: d.url })) },
        activation: { kind: 'development-outbox', from: 'milagro@localhost', link: `${demoOrigin}/#code={code}` },
        adminToken: { file: adminTokenFiles.mfa },
      },
    });
    record('starting');
    const custodySection = custodyNodeSection({ dtas, mfa });
    if (custodySection !== undefined) {
      progress('starting the custody node…');
      custody = await startNode('custody', { ...common('custody', [...peerAddresses]), ...custodySection });
      record('starting');
    }

    progress(`creating realm "${REALM.id}" (${REALM.threshold} of ${dtas.length}) by a DKG among the D-TAs…`);
    const proposed = await fetch(`${dtas[0]!.url}/v1/realms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${dtaToken}` },
      body: JSON.stringify({ realmId: REALM.id, threshold: REALM.threshold, members: dtas.map((d) => d.identity), mfaService: mfa.identity }),
      signal: AbortSignal.timeout(30_000),
    });
    if (proposed.status !== 202) throw new DevUpError(`dta-1 refused the realm proposal (HTTP ${proposed.status}): ${await proposed.text()}`);
    for (const dta of dtas) {
      await waitFor(`the realm to turn active at ${dta.name}`, REALM_TIMEOUT_MS, async () => (await getJson(`${dta.url}/v1/realms/${REALM.id}`)).body['state'] === 'active');
    }
    progress('waiting for the MFA node to combine its server secret…');
    await waitFor('the MFA node to be ready (server secret from the D-TAs)', SERVER_SECRET_TIMEOUT_MS, async () => (await getJson(`${mfa!.url}/readyz`)).status === 200);

    progress('starting the demo page…');
    const demoLog = join(dir, 'demo.log');
    const demoChild = spawnLogged(appEntry('mfa-demo'), ['--mfa', mfa.url, '--port', String(demoPort), '--issuer', ISSUER], demoLog);
    demo = { url: `${demoOrigin}/`, pid: demoChild.pid, log: demoLog };
    record('starting');
    // Its own "listening" line first: the page answering could be someone else's server on that port.
    await waitFor('the demo page to listen', NODE_START_TIMEOUT_MS, async () => readFileSync(demoLog, 'utf8').includes('"msg":"listening"'));
    await waitFor('the demo page to answer', NODE_START_TIMEOUT_MS, async () => (await fetch(demo!.url, { signal: AbortSignal.timeout(5_000) })).ok);
  } catch (error) {
    progress('a step failed: stopping what was started…');
    await stopProcesses(started.map((child) => child.pid));
    rmSync(join(dir, CLUSTER_FILE), { force: true });
    throw error instanceof UsageError || error instanceof DevUpError ? error : new DevUpError((error as Error).message);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  record('running');
  return cluster('running');
}

export interface DevDownResult {
  readonly dir: string;
  /** Whether a cluster was recorded there (false: nothing to stop). */
  readonly found: boolean;
  readonly stopped: readonly number[];
  /** Pids that did not stop on SIGTERM within the grace period and were killed. */
  readonly killed: readonly number[];
}

/** Stops the cluster recorded in `<dir>/dev-cluster.json` and removes that file; the data stays for a look at the logs. */
export async function devDown(options: { readonly dir: string; readonly graceMs?: number }): Promise<DevDownResult> {
  const dir = resolve(options.dir);
  const cluster = readCluster(dir);
  if (cluster === undefined) return { dir, found: false, stopped: [], killed: [] };
  const running = cluster.pids.filter(isRunning);
  const killed = await stopProcesses(running, options.graceMs);
  rmSync(join(dir, CLUSTER_FILE), { force: true });
  return { dir, found: true, stopped: running, killed };
}
