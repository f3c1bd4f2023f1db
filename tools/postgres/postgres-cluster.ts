/**
 * Starts and stops a throw-away PostgreSQL cluster for tests, benches and local development: initdb
 * into a fresh temp dir (UTF8, C collation, trust auth for the `milagro` superuser), a server that
 * listens on a unix socket in that dir only (no TCP port to collide on), fsync on as in production.
 *
 * PostgreSQL refuses to run as root: when this runs as root, the cluster belongs to the `postgres`
 * user (Debian's package creates it) and its commands run through `runuser`.
 *
 * Self-contained (node: imports only, no TS-only syntax) so Node 24 runs it directly:
 *   node tools/postgres/postgres-cluster.ts start   # prints {"url":…,"directory":…,"pid":…}
 *   node tools/postgres/postgres-cluster.ts stop <directory>
 * and Jest imports it as a module (`startPostgres`, `findPostgresBinaries`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Debian package that provides the server binaries (tools/system-deps.txt). */
export const POSTGRES_PACKAGE = 'postgresql';
/** The cluster's superuser, trusted on its unix socket. */
const SUPERUSER = 'milagro';
const PORT = 5432; // only names the socket file: the server listens on no TCP port

/** A running cluster. */
export interface PostgresCluster {
  /** The cluster's temp dir (data, socket, log), removed on stop. */
  readonly directory: string;
  /** The directory holding the server's unix socket. */
  readonly socketDirectory: string;
  /** The postmaster's process id. */
  readonly pid: number;
  /** A connection URI for `database` (default `postgres`). */
  url(database?: string): string;
  /** Creates an empty database and returns its URI. */
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown (SIGKILL after 10 s), then deletes the directory. */
  stop(): Promise<void>;
}

/** The directory holding `initdb` and `postgres`: `$MILAGRO_POSTGRES_BIN`, else the newest /usr/lib/postgresql/<major>/bin. */
export function findPostgresBinaries(): string | undefined {
  const fromEnv = process.env['MILAGRO_POSTGRES_BIN'];
  const hasServer = (dir: string): boolean => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  if (fromEnv !== undefined && fromEnv !== '') return hasServer(fromEnv) ? fromEnv : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const dir = join(root, major, 'bin');
    if (hasServer(dir)) return dir;
  }
  return undefined;
}

/** Runs as root? Then the cluster belongs to `postgres` and its commands go through runuser. */
function clusterOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) throw new Error('PostgreSQL refuses to run as root and there is no `postgres` user to run it as');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function command(owner: { uid: number } | undefined, binary: string, args: string[]): [string, string[]] {
  return owner === undefined ? [binary, args] : ['runuser', ['-u', 'postgres', '--', binary, ...args]];
}

/** Creates a cluster and starts its server; resolves once it accepts connections (or rejects after `timeoutMs`). */
export async function startPostgres(options: { binaries?: string; timeoutMs?: number; outliveThisProcess?: boolean } = {}): Promise<PostgresCluster> {
  const binaries = options.binaries ?? findPostgresBinaries();
  if (binaries === undefined) throw new Error(`PostgreSQL server binaries not found: apt-get install ${POSTGRES_PACKAGE} or set MILAGRO_POSTGRES_BIN`);
  const owner = clusterOwner();
  const directory = mkdtempSync(join(tmpdir(), 'milagro-postgres-'));
  const data = join(directory, 'data');
  const socketDirectory = join(directory, 'socket');
  mkdirSync(socketDirectory);
  if (owner !== undefined) {
    chownSync(directory, owner.uid, owner.gid);
    chownSync(socketDirectory, owner.uid, owner.gid);
  }
  chmodSync(directory, 0o700);

  const remove = (): void => rmSync(directory, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  // --no-sync only skips initdb's final flush of the new cluster; the server below runs with fsync on.
  const [initdb, initArgs] = command(owner, join(binaries, 'initdb'), ['-D', data, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const init = spawnSync(initdb, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) {
    remove();
    throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  }

  const settings = {
    listen_addresses: '',
    unix_socket_directories: socketDirectory,
    port: String(PORT),
    fsync: 'on',
    synchronous_commit: 'on',
    max_connections: '200',
    logging_collector: 'off',
  };
  const serverArgs = ['-D', data, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  const [postgres, args] = command(owner, join(binaries, 'postgres'), serverArgs);
  // The server log goes to a file: the server may outlive this process (the CLI), and a pipe would close under it.
  const logFile = join(directory, 'server.log');
  const log = openSync(logFile, 'a');
  const child = spawn(postgres, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  // The server never keeps this process alive by itself: stop() ends it, or the exit hook below does.
  child.unref();
  const logTail = (): string => {
    try {
      return readFileSync(logFile, 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const url = (database = 'postgres'): string => `postgresql://${SUPERUSER}@/${encodeURIComponent(database)}?host=${encodeURIComponent(socketDirectory)}&port=${PORT}`;
  let postmaster = -1;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      signal(postmaster > 0 ? postmaster : child.pid, 'SIGINT'); // fast shutdown
      const timer = setTimeout(() => signal(postmaster > 0 ? postmaster : child.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    remove();
  };
  const createDatabase = async (name: string): Promise<string> => {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
    const result = await run(join(binaries, 'createdb'), ['-h', socketDirectory, '-p', String(PORT), '-U', SUPERUSER, name]);
    if (result.status !== 0) throw new Error(`createdb ${name} failed: ${result.output}`);
    return url(name);
  };

  try {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited (${child.exitCode}): ${logTail()}`);
      postmaster = readPostmasterPid(data) ?? -1;
      const ready = await run(join(binaries, 'pg_isready'), ['-q', '-h', socketDirectory, '-p', String(PORT), '-U', SUPERUSER]);
      if (ready.status === 0) break;
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections in time: ${logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    postmaster = readPostmasterPid(data) ?? postmaster;
    writeFileSync(join(directory, 'milagro-postmaster.pid'), String(postmaster));
  } catch (error) {
    await stop();
    throw error;
  }
  running.set(postmaster, directory);
  // A watchdog outside this process: when it dies without stopping the cluster (a crashed or killed
  // test runner, a Jest worker whose exit hooks do not run), the server stops and its files go.
  const watchdog = options.outliveThisProcess === true
    ? undefined
    : spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -QUIT ${postmaster} 2>/dev/null; sleep 2; rm -rf "$0"`, directory], { detached: true, stdio: 'ignore' });
  watchdog?.unref();
  return {
    directory,
    socketDirectory,
    pid: postmaster,
    url,
    createDatabase,
    stop: async () => {
      running.delete(postmaster);
      watchdog?.kill();
      await stop();
    },
  };
}

/** Clusters this process started and has not stopped: postmaster pid → directory. */
const running = new Map<number, string>();
// Last line of defence: a test runner that exits without stopping its cluster leaves neither the server nor its files behind.
process.once('exit', () => {
  for (const [pid, directory] of running) {
    signal(pid, 'SIGQUIT');
    rmSync(directory, { recursive: true, force: true });
  }
});

/** Stops the cluster in `directory` (CLI use: the server outlives the `start` command). */
export async function stopPostgres(directory: string): Promise<void> {
  const file = join(directory, 'milagro-postmaster.pid');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8'));
    signal(pid, 'SIGINT');
    for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    if (isAlive(pid)) signal(pid, 'SIGKILL');
  }
  rmSync(directory, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

function readPostmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (pid === undefined || pid <= 0) return;
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs a client binary without blocking the event loop. */
function run(binary: string, args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error) => resolve({ status: null, output: error.message }));
    child.once('close', (status) => resolve({ status, output }));
  });
}

async function main(argv: string[]): Promise<void> {
  const [verb, directory] = argv;
  if (verb === 'start') {
    const cluster = await startPostgres({ outliveThisProcess: true });
    running.delete(cluster.pid); // handed to the caller: `stop` ends it
    const database = 'milagro';
    process.stdout.write(`${JSON.stringify({ url: await cluster.createDatabase(database), directory: cluster.directory, pid: cluster.pid })}\n`);
    process.exit(0);
  } else if (verb === 'stop' && directory !== undefined) {
    await stopPostgres(directory);
  } else {
    process.stderr.write('usage: node tools/postgres/postgres-cluster.ts start | stop <directory>\n');
    process.exit(2);
  }
}

// Run as a CLI, not when imported (Jest compiles this file to CommonJS, where import.meta does not exist).
if (process.argv[1]?.endsWith('postgres-cluster.ts') === true) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
