/**
 * Starts and stops a throw-away Kubo daemon for tests and local development: a fresh repo in a temp
 * dir with the `test` profile (loopback-only, OS-assigned ports, no bootstrap), pubsub enabled, no
 * routing, no AutoConf, so it never talks to the public network.
 *
 * Self-contained (node: imports only, no TS-only syntax) so Node 24 runs it directly:
 *   node tools/kubo/kubo-daemon.ts start   # prints {"apiUrl":…,"repo":…,"pid":…,"peerId":…,"swarm":[…]}
 *   node tools/kubo/kubo-daemon.ts stop <repo>
 * and Jest imports it as a module (`startKubo`, `findKuboBinary`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Version built by tools/kubo/install.sh. */
export const KUBO_VERSION = 'v0.43.1';

/** A running daemon. */
export interface KuboDaemon {
  /** RPC API base URL, e.g. `http://127.0.0.1:40123`. */
  apiUrl: string;
  /** Repo directory (IPFS_PATH), removed on stop. */
  repo: string;
  /** Daemon process ID. */
  pid: number;
  /** The daemon's peer ID. */
  peerId: string;
  /** Its swarm multiaddrs including `/p2p/<peerId>`. */
  swarm: string[];
  /** Stops the daemon (SIGTERM, SIGKILL after 10 s) and deletes the repo. */
  stop(): Promise<void>;
  /**
   * Stops the daemon (SIGTERM, or SIGKILL with `kill`), keeps it down for `downMs`, and starts it
   * again on the same repo, API and swarm ports (pinned to the ones it had): its clients see a daemon
   * restart. Resolves once the API answers again; `pid` is the new process's.
   */
  restart(options?: { kill?: boolean; downMs?: number }): Promise<void>;
}

/** Where install.sh puts the binary: `$MILAGRO_KUBO_BIN`, else the default cache path, if it exists. */
export function findKuboBinary(): string | undefined {
  const fromEnv = process.env['MILAGRO_KUBO_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') return existsSync(fromEnv) ? fromEnv : undefined;
  const cached = join(homedir(), '.cache', 'milagro', `kubo-${KUBO_VERSION}`, 'ipfs');
  return existsSync(cached) ? cached : undefined;
}

/** Creates a repo and starts a daemon on it; resolves once the RPC API answers (or rejects after `timeoutMs`). */
export async function startKubo(options: { binary?: string; timeoutMs?: number; pubsub?: boolean } = {}): Promise<KuboDaemon> {
  const binary = options.binary ?? findKuboBinary();
  if (binary === undefined) throw new Error('Kubo is not installed: run tools/kubo/install.sh');
  const repo = mkdtempSync(join(tmpdir(), 'milagro-kubo-'));
  const env = { ...process.env, IPFS_PATH: repo, IPFS_TELEMETRY: 'off', GOLOG_LOG_LEVEL: 'error' };
  const init = spawnSync(binary, ['init', '--profile', 'test', '--empty-repo'], { env, encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(repo, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    throw new Error(`ipfs init failed: ${init.stderr}`);
  }
  configureRepo(repo, options.pubsub ?? true);

  let daemon: Launched | undefined;
  const stopDaemon = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const child = daemon?.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await daemon!.exited;
    clearTimeout(timer);
  };
  const stop = async (): Promise<void> => {
    await stopDaemon('SIGTERM');
    rmSync(repo, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  try {
    daemon = launch(binary, env);
    const { apiUrl, peerId, swarm } = await answering(daemon, repo, options.timeoutMs ?? 30_000);
    const handle: KuboDaemon = {
      apiUrl,
      repo,
      pid: daemon.child.pid ?? -1,
      peerId,
      swarm,
      stop,
      async restart(restartOptions = {}) {
        pinAddresses(repo, apiUrl, swarm);
        await stopDaemon(restartOptions.kill === true ? 'SIGKILL' : 'SIGTERM');
        if (restartOptions.downMs !== undefined) await new Promise((resolve) => setTimeout(resolve, restartOptions.downMs));
        daemon = launch(binary, env);
        handle.pid = daemon.child.pid ?? -1;
        await answering(daemon, repo, options.timeoutMs ?? 30_000);
      },
    };
    return handle;
  } catch (error) {
    await stop();
    throw error;
  }
}

interface Launched {
  readonly child: ReturnType<typeof spawn>;
  readonly exited: Promise<void>;
  stderr(): string;
}

function launch(binary: string, env: NodeJS.ProcessEnv): Launched {
  const child = spawn(binary, ['daemon', '--migrate=false'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, stderr: () => stderr };
}

/** Waits until the daemon's API answers; its URL, peer ID and TCP swarm addresses. */
async function answering(daemon: Launched, repo: string, timeoutMs: number): Promise<{ apiUrl: string; peerId: string; swarm: string[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (daemon.child.exitCode !== null) throw new Error(`ipfs daemon exited (${daemon.child.exitCode}): ${daemon.stderr()}`);
    const apiUrl = readApiUrl(repo);
    if (apiUrl !== undefined) {
      const identity = await askIdentity(apiUrl);
      if (identity !== undefined) {
        const swarm = identity.Addresses.filter((address) => address.includes('/tcp/') && !address.includes('/ws'));
        return { apiUrl, peerId: identity.ID, swarm };
      }
    }
    if (Date.now() > deadline) throw new Error(`ipfs daemon did not answer in time: ${daemon.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Writes the ports the daemon got from the OS into its config, so a restart binds the same ones. */
function pinAddresses(repo: string, apiUrl: string, swarm: readonly string[]): void {
  const file = join(repo, 'config');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  const api = /^http:\/\/([^:]+):(\d+)$/.exec(apiUrl);
  if (api !== null) (config['Addresses'] ??= {})['API'] = `/ip4/${api[1]}/tcp/${api[2]}`;
  const tcp = swarm.map((address) => /^(\/ip4\/[^/]+\/tcp\/\d+)/.exec(address)?.[1]).filter((a): a is string => a !== undefined);
  if (tcp.length > 0) (config['Addresses'] ??= {})['Swarm'] = [...new Set(tcp)];
  writeFileSync(file, JSON.stringify(config, null, 2));
}

/** Stops the daemon whose repo is `repo` (CLI use: the daemon outlives the `start` command). */
export async function stopKubo(repo: string): Promise<void> {
  const lock = join(repo, 'milagro-daemon.pid');
  if (existsSync(lock)) {
    const pid = Number(readFileSync(lock, 'utf8'));
    try {
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  rmSync(repo, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Keeps the daemon off the public network whatever Kubo's defaults become. */
function configureRepo(repo: string, pubsub: boolean): void {
  const file = join(repo, 'config');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  const section = (name: string): Record<string, unknown> => (config[name] ??= {});
  section('Addresses')['API'] = '/ip4/127.0.0.1/tcp/0';
  section('Addresses')['Gateway'] = '/ip4/127.0.0.1/tcp/0';
  section('Addresses')['Swarm'] = ['/ip4/127.0.0.1/tcp/0'];
  section('Addresses')['Announce'] = [];
  config['Bootstrap'] = [] as never;
  section('Pubsub')['Enabled'] = pubsub;
  section('Routing')['Type'] = 'none';
  section('Routing')['DelegatedRouters'] = [];
  section('Ipns')['DelegatedPublishers'] = [];
  section('DNS')['Resolvers'] = {};
  section('AutoConf')['Enabled'] = false;
  section('AutoNAT')['ServiceMode'] = 'disabled';
  section('Discovery')['MDNS'] = { Enabled: false };
  section('Swarm')['DisableNatPortMap'] = true;
  section('Swarm')['RelayClient'] = { Enabled: false };
  section('Swarm')['RelayService'] = { Enabled: false };
  section('Provide')['Enabled'] = false;
  writeFileSync(file, JSON.stringify(config, null, 2));
}

function readApiUrl(repo: string): string | undefined {
  try {
    const address = readFileSync(join(repo, 'api'), 'utf8').trim();
    const match = /^\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(address);
    return match === null ? undefined : `http://${match[1]}:${match[2]}`;
  } catch {
    return undefined;
  }
}

async function askIdentity(apiUrl: string): Promise<{ ID: string; Addresses: string[] } | undefined> {
  try {
    const response = await fetch(`${apiUrl}/api/v0/id`, { method: 'POST', signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { ID: string; Addresses: string[] | null };
    return { ID: body.ID, Addresses: body.Addresses ?? [] };
  } catch {
    return undefined;
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, repo] = argv;
  if (command === 'start') {
    const daemon = await startKubo();
    // The CLI hands the daemon to the caller: record its pid so `stop` can end it later.
    writeFileSync(join(daemon.repo, 'milagro-daemon.pid'), String(daemon.pid));
    process.stdout.write(`${JSON.stringify({ apiUrl: daemon.apiUrl, repo: daemon.repo, pid: daemon.pid, peerId: daemon.peerId, swarm: daemon.swarm })}\n`);
    process.exit(0);
  } else if (command === 'stop' && repo !== undefined) {
    await stopKubo(repo);
  } else {
    process.stderr.write('usage: node tools/kubo/kubo-daemon.ts start | stop <repo>\n');
    process.exit(2);
  }
}

// Run as a CLI, not when imported (Jest compiles this file to CommonJS, where import.meta does not exist).
if (process.argv[1]?.endsWith('kubo-daemon.ts') === true) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
