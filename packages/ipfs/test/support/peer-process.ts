import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The Node running Jest (the repo's Node 24; the system node may be older). */
const NODE = process.execPath;
const ENTRY = join(__dirname, 'helia-peer.ts');

const running = new Set<ChildProcess>();
// Last line of defence: never leave a child behind, even if a test forgot to kill it.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A Helia node running in its own OS process (see helia-peer.ts). */
export interface PeerProcess {
  peerId: string;
  addrs: string[];
  startMs: number;
  /** Sends a command; rejects with the child's error (code preserved) or after `timeoutMs`. */
  request<T = unknown>(op: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Resolves with the first pubsub message matching `accept`. */
  nextMessage(accept: (message: { topic: string; data: string; from?: string }) => boolean, timeoutMs?: number): Promise<{ topic: string; data: string; from?: string }>;
  /** SIGKILLs the child (idempotent). */
  kill(): void;
}

/** Spawns a child Helia node with `config` and waits until it is listening. */
export async function spawnPeer(config: Record<string, unknown>, timeoutMs = 60_000): Promise<PeerProcess> {
  const child = spawn(NODE, ['--no-warnings', ENTRY], {
    env: { ...process.env, MILAGRO_PEER_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });

  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const messages: Array<{ topic: string; data: string; from?: string }> = [];
  const waiters = new Set<() => void>();
  let ready: ((value: { peerId: string; addrs: string[]; startMs: number }) => void) | undefined;
  const readyPromise = new Promise<{ peerId: string; addrs: string[]; startMs: number }>((resolve) => {
    ready = resolve;
  });

  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // stray output from a dependency
    }
    if (event['event'] === 'ready') ready?.(event as never);
    else if (event['event'] === 'message') {
      messages.push(event as never);
      for (const wake of waiters) wake();
    } else if (typeof event['id'] === 'number') {
      const entry = pending.get(event['id']);
      pending.delete(event['id']);
      if (event['ok'] === true) entry?.resolve(event['result']);
      else entry?.reject(Object.assign(new Error(String(event['message'])), { code: event['code'] }));
    }
  });

  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`peer exited (${code ?? signal}): ${stderr}`)));
  });
  exited.catch(() => undefined);

  const info = await Promise.race([readyPromise, exited, timeout(timeoutMs, () => `peer did not start: ${stderr}`)]).catch((error: unknown) => {
    kill();
    throw error;
  });

  let nextId = 0;
  return {
    ...info,
    kill,
    request<T>(op: string, args: Record<string, unknown> = {}, requestTimeoutMs = 30_000): Promise<T> {
      const id = ++nextId;
      const answer = new Promise<T>((resolve, reject) => pending.set(id, { resolve: resolve as (value: unknown) => void, reject }));
      child.stdin?.write(`${JSON.stringify({ id, op, ...args })}\n`);
      return Promise.race([answer, exited, timeout(requestTimeoutMs, () => `${op} timed out`)]);
    },
    async nextMessage(accept, messageTimeoutMs = 15_000) {
      const deadline = Date.now() + messageTimeoutMs;
      for (;;) {
        const index = messages.findIndex(accept);
        if (index >= 0) return messages.splice(index, 1)[0]!;
        if (Date.now() > deadline) throw new Error('no matching pubsub message in time');
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

/** Polls `condition` until true or `timeoutMs` elapses: waits for a state, never a fixed sleep. */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
