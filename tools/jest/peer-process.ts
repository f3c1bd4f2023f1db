/**
 * Test peers in REAL separate OS processes, driven over stdin/stdout JSON lines.
 *
 * The child is a TypeScript entry run by the Jest process's own Node (24) with
 * `--experimental-transform-types` and source-imports.mjs, so it runs the packages' sources
 * without a build. It uses {@link servePeer} (peer-protocol.ts) to answer requests and emit events.
 *
 * Protocol, child → parent: `{"event":"ready",…}` once, `{"event":<name>,…}` at will, and
 * `{"id":n,"ok":true,"result":…}` / `{"id":n,"ok":false,"code":…,"message":…}` per request.
 * Parent → child: `{"id":n,"op":<name>,…args}`. The child exits when its stdin closes, so it never
 * outlives a crashed test runner.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

/** The Node running Jest (the repo's Node 24; the system node may be older). */
const NODE = process.execPath;

/** tools/jest/source-imports.mjs of the repository holding `entry` (found upwards, so ESM benches can use this too). */
function sourceImports(entry: string): string {
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    const candidate = join(dir, 'tools', 'jest', 'source-imports.mjs');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`no tools/jest/source-imports.mjs above ${entry}`);
  }
}

const running = new Set<ChildProcess>();
// Last line of defence: never leave a child behind, even if a test forgot to kill it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** An event a child emitted (other than the answer to a request). */
export type PeerEvent = Record<string, unknown> & { readonly event: string };

/** A child process speaking the peer protocol. */
export interface PeerProcess {
  /** The payload of the child's `ready` event. */
  readonly ready: PeerEvent;
  /** OS process id. */
  readonly pid: number;
  /** Sends a command; rejects with the child's error (code preserved), when it exits, or after `timeoutMs`. */
  request<T = unknown>(op: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Resolves with (and removes) the first event, past or future, that `accept` takes. */
  nextEvent(accept: (event: PeerEvent) => boolean, timeoutMs?: number): Promise<PeerEvent>;
  /** SIGKILLs the child (idempotent). */
  kill(): void;
  /** Settles when the child has exited. */
  readonly exited: Promise<void>;
}

/** Options of {@link spawnPeer}. */
export interface SpawnPeerOptions {
  /** The child's TypeScript entry (absolute path). */
  readonly entry: string;
  /** Passed to the child as JSON in env MILAGRO_PEER_CONFIG. */
  readonly config?: unknown;
  /** How long to wait for `ready` (default 180 s, like spawnServer: a child loading Helia, libp2p and the packages from source can take over a minute on 2 busy cores). */
  readonly timeoutMs?: number;
}

/** Spawns a child and waits for its `ready` event. */
export async function spawnPeer(options: SpawnPeerOptions): Promise<PeerProcess> {
  const child = spawn(NODE, ['--no-warnings', '--experimental-transform-types', '--import', sourceImports(options.entry), options.entry], {
    env: { ...process.env, MILAGRO_PEER_CONFIG: JSON.stringify(options.config ?? {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });

  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const events: PeerEvent[] = [];
  const waiters = new Set<() => void>();
  let ready: ((event: PeerEvent) => void) | undefined;
  const readyEvent = new Promise<PeerEvent>((resolve) => {
    ready = resolve;
  });

  createInterface({ input: child.stdout! }).on('line', (line) => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // stray output from a dependency
    }
    if (message['event'] === 'ready') ready?.(message as PeerEvent);
    else if (typeof message['event'] === 'string') {
      events.push(message as PeerEvent);
      for (const wake of [...waiters]) wake();
    } else if (typeof message['id'] === 'number') {
      const entry = pending.get(message['id']);
      pending.delete(message['id']);
      if (message['ok'] === true) entry?.resolve(message['result']);
      else entry?.reject(Object.assign(new Error(String(message['message'])), { code: message['code'] }));
    }
  });

  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });
  const failOnExit = exited.then(() => Promise.reject(new Error(`peer exited (${child.exitCode ?? child.signalCode}): ${stderr}`)));
  failOnExit.catch(() => undefined);
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };

  const info = await Promise.race([readyEvent, failOnExit, timeout(options.timeoutMs ?? 180_000, () => `peer did not start: ${stderr}`)]).catch((error: unknown) => {
    kill();
    throw error;
  });

  let nextId = 0;
  return {
    ready: info,
    pid: child.pid!,
    kill,
    exited,
    request<T>(op: string, args: Record<string, unknown> = {}, requestTimeoutMs = 30_000): Promise<T> {
      const id = ++nextId;
      const answer = new Promise<T>((resolve, reject) => pending.set(id, { resolve: resolve as (value: unknown) => void, reject }));
      child.stdin?.write(`${JSON.stringify({ id, op, ...args })}\n`);
      return Promise.race([answer, failOnExit, timeout(requestTimeoutMs, () => `${op} timed out`)]);
    },
    async nextEvent(accept, eventTimeoutMs = 15_000) {
      const deadline = Date.now() + eventTimeoutMs;
      for (;;) {
        const index = events.findIndex(accept);
        if (index >= 0) return events.splice(index, 1)[0]!;
        if (Date.now() > deadline) throw new Error('no matching event in time');
        await new Promise<void>((resolve) => {
          const wake = (): void => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, Math.max(1, deadline - Date.now()));
          waiters.add(wake);
        });
      }
    },
  };
}

/** Kills every child still running (call from afterEach/afterAll). */
export function killAllPeers(): void {
  for (const child of running) child.kill('SIGKILL');
}

function timeout(ms: number, reason: () => string): Promise<never> {
  return new Promise((_, reject) => {
    setTimeout(() => reject(new Error(reason())), ms).unref();
  });
}

/**
 * Polls `condition` every `intervalMs` until true or `timeoutMs` elapses: waits for a state, never
 * a fixed sleep. Poll an expensive condition (a growing file) less often: the CPU it takes is
 * taken from the processes under test.
 */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 15_000, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
