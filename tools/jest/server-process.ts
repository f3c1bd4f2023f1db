/**
 * A role server (apps/<name>/src/main.ts) in a REAL separate OS process, run from its TypeScript
 * sources the way peer-process.ts runs peers (the Jest process's Node 24, source-imports.mjs), and
 * driven over HTTP like any client would. The server must log one JSON line with
 * `"msg":"listening"` and its `url` once it accepts requests (at pino level info: configure the
 * server to log at info or below).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const NODE = process.execPath;
const SOURCE_IMPORTS = fileURLToPath(new URL('./source-imports.mjs', import.meta.url));

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ServerProcess {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly pid: number;
  /** The server's log lines so far (parsed JSON), for assertions and failure messages. */
  readonly logs: ReadonlyArray<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL (a crash). */
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
}

export interface SpawnServerOptions {
  /** The server's TypeScript entry (absolute path). */
  readonly entry: string;
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
  /** How long to wait for `listening` (default 180 s: a cold IPFS node and scrypt take a while on 2 cores). */
  readonly timeoutMs?: number;
}

export async function spawnServer(options: SpawnServerOptions): Promise<ServerProcess> {
  const child = spawn(NODE, ['--no-warnings', '--experimental-transform-types', '--import', SOURCE_IMPORTS, options.entry, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-6000);
  });
  let listening: ((url: string) => void) | undefined;
  const url = new Promise<string>((resolve) => {
    listening = resolve;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (logs.length > 2000) logs.splice(0, 1000);
      if (entry['msg'] === 'listening' && typeof entry['url'] === 'string') listening?.(entry['url']);
    } catch {
      // not a log line
    }
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    });
  });
  const describe = (): string => `${stderr}\n${logs.slice(-20).map((l) => JSON.stringify(l)).join('\n')}`;
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  let timer: NodeJS.Timeout | undefined;
  const started = await Promise.race([
    url,
    exited.then((code) => Promise.reject(new Error(`server exited (${code}) before listening:\n${describe()}`))),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`server did not listen in time:\n${describe()}`)), options.timeoutMs ?? 180_000);
    }),
  ]).catch(async (error: unknown) => {
    await kill();
    throw error;
  });
  clearTimeout(timer);
  return {
    url: started,
    pid: child.pid!,
    logs,
    exited,
    kill,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const grace = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(grace);
    },
  };
}
