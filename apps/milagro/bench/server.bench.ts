/**
 * Suite `server` (brief §7 and issue 9: cold `milagro start` with embedded IPFS ready in ≤ 3 s).
 *
 * Each sample spawns the built command the way users run it, `node apps/milagro/dist/main.js start
 * --config <dir>/config.yaml`, reads the URL from its `"listening"` log line, polls `GET /readyz`
 * until 200, then sends SIGTERM and waits for the exit (not timed: a sample's duration is spawn to
 * ready, reported to the runner as `overriddenDuration`). The node is a D-TA (ready without a
 * realm), created in setup by `milagro init --yes` with what init writes by default (full scrypt
 * cost, mcl backend, embedded IPFS, no peers), HTTP port 0.
 *
 * Cases: the first start after init (each sample starts a fresh copy of the node init wrote:
 * same files, never started), a restart of the same node (warm OS cache), the same restarts to
 * the "listening" line, and `milagro help` (process start plus every module the command imports
 * statically) against a bare `node -e 0`. Run with `BENCH_ROUNDS=1` (about 1.5 min; the default 5
 * rounds take about 4× longer).
 */
import { spawn, execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BenchSuite } from '../../../tools/bench/suite.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const ENV = {
  ...process.env,
  MILAGRO_KEYSTORE_PASSPHRASE: process.env.MILAGRO_KEYSTORE_PASSPHRASE ?? 'bench passphrase, not a secret',
  MILAGRO_DTA_ADMIN_TOKEN: process.env.MILAGRO_DTA_ADMIN_TOKEN ?? 'bench-admin-token-0123456789',
};
const run = promisify(execFile);

let root: string;
/** The node init wrote, never started: copied for every "first start" sample. */
let pristine: string;
/** The node every restart sample starts. */
let restarted: string;
let copies = 0;
/** Spawn-to-"listening" of restart samples, handed to the "listening" case in order. */
const listeningTimes: number[] = [];

interface StartTimes {
  readonly listening: number;
  readonly ready: number;
}

/** Starts the node in `dir`, waits for `/readyz` 200 (or only for "listening"), stops it, returns ms since spawn. */
async function startOnce(dir: string, until: 'ready' | 'listening' = 'ready'): Promise<StartTimes> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [MAIN, 'start', '--config', join(dir, 'config.yaml')], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let times: StartTimes;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (!line.includes('"listening"')) return;
        resolve((JSON.parse(line) as { url: string }).url);
      });
      void exited.then((code) => reject(new Error(`milagro start exited (${code}) before listening: ${stderr.slice(-2000)}`)));
    });
    const listening = performance.now() - t0;
    if (until === 'listening') times = { listening, ready: listening };
    else {
      for (;;) {
        const response = await fetch(`${url}/readyz`).catch(() => undefined);
        if (response !== undefined) {
          await response.arrayBuffer();
          if (response.status === 200) break;
        }
        if (child.exitCode !== null) throw new Error(`milagro start exited (${child.exitCode}) before ready: ${stderr.slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      times = { listening, ready: performance.now() - t0 };
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  if (child.exitCode !== 0) throw new Error(`milagro start exited ${child.exitCode ?? child.signalCode} after SIGTERM: ${stderr.slice(-2000)}`);
  return times;
}

/** A fresh copy of the node init wrote (config + data dir, byte for byte). */
function freshNode(): string {
  const dir = join(root, `first-${copies++}`);
  cpSync(pristine, dir, { recursive: true, preserveTimestamps: true });
  return dir;
}

async function spawnUntilExit(args: readonly string[]): Promise<void> {
  await run(process.execPath, [...args], { env: ENV });
}

export default {
  suite: 'server',
  setup: async () => {
    root = mkdtempSync(join(tmpdir(), 'milagro-bench-server-'));
    pristine = join(root, 'pristine');
    mkdirSync(pristine); // init does not create the config's directory
    await run(process.execPath, [MAIN, 'init', '--yes', '--json', '--config', join(pristine, 'config.yaml'), '--data-dir', './data', '--roles', 'dta', '--http-port', '0'], { env: ENV });
    restarted = join(root, 'restarted');
    cpSync(pristine, restarted, { recursive: true, preserveTimestamps: true });
    await startOnce(restarted); // its first start: from now on every start of it is a restart
  },
  teardown: () => {
    rmSync(root, { recursive: true, force: true });
  },
  cases: [
    {
      name: 'milagro start → /readyz 200, first start after init',
      fn: async () => {
        const dir = freshNode();
        const { ready } = await startOnce(dir);
        rmSync(dir, { recursive: true, force: true });
        return { overriddenDuration: ready };
      },
      iterations: 5,
      time: 1,
    },
    {
      name: 'milagro start → /readyz 200, restart of the same node',
      fn: async () => {
        const { listening, ready } = await startOnce(restarted);
        listeningTimes.push(listening);
        return { overriddenDuration: ready };
      },
      iterations: 5,
      time: 1,
    },
    {
      // The restarts' own "listening" times (one each, in order); a start of its own if none is left.
      name: 'milagro start → "listening" log line, restart',
      fn: async () => ({ overriddenDuration: listeningTimes.shift() ?? (await startOnce(restarted, 'listening')).listening }),
      iterations: 5,
      time: 1,
    },
    {
      name: 'node -e 0 (process start, nothing imported)',
      fn: () => spawnUntilExit(['-e', '0']),
      iterations: 5,
      time: 1,
    },
    {
      name: 'milagro help (process start + the command\'s static imports)',
      fn: () => spawnUntilExit([MAIN, 'help']),
      baseline: 'node -e 0 (process start, nothing imported)',
      iterations: 5,
      time: 1,
    },
  ],
} satisfies BenchSuite;
