/**
 * Processes that outlive the command that started them (`milagro dev up`): spawned detached, in
 * their own process group, output appended to a log file. They run the way this command runs: from
 * TypeScript sources (Node's type stripping plus the same `--import` hooks) when the running entry is
 * a `.ts` file, else from the built `dist/main.js`.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Whether this command runs from its TypeScript sources. */
export const FROM_SOURCES = (process.argv[1] ?? '').endsWith('.ts');

/** The entry of app `name` (a sibling of apps/milagro): `src/main.ts` from sources, else `dist/main.js`. */
export function appEntry(name: string): string {
  // From src/<file>.ts or the bundled dist/main.js, `../../<name>/` is apps/<name>/ either way.
  return fileURLToPath(new URL(`../../${name}/${FROM_SOURCES ? 'src/main.ts' : 'dist/main.js'}`, import.meta.url));
}

/** The running `milagro` entry (this very command). */
export function milagroEntry(): string {
  const entry = process.argv[1];
  if (entry === undefined) throw new Error('cannot tell which file runs the milagro command');
  return entry;
}

export interface DetachedProcess {
  readonly pid: number;
  /** The exit code (or signal name) once it has exited, else undefined. */
  exited(): number | string | undefined;
}

/** Starts `node <entry> ...args` detached, stdout and stderr appended to `logFile`. */
export function spawnDetached(entry: string, args: readonly string[], logFile: string): DetachedProcess {
  const log = openSync(logFile, 'a', 0o600);
  try {
    // process.execArgv carries --experimental-transform-types and the source hooks when running from sources.
    const child = spawn(process.execPath, [...process.execArgv, entry, ...args], { detached: true, stdio: ['ignore', log, log], env: process.env });
    if (child.pid === undefined) throw new Error(`could not start ${entry}`);
    let exit: number | string | undefined;
    child.once('exit', (code, signal) => {
      exit = code ?? signal ?? 'unknown';
    });
    child.unref();
    return { pid: child.pid, exited: () => exit };
  } finally {
    closeSync(log);
  }
}

/** Whether a process with this pid exists. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** SIGTERM to each pid, SIGKILL to those still running after `graceMs`; resolves when all are gone. Returns the pids that needed SIGKILL. */
export async function stopProcesses(pids: readonly number[], graceMs = 20_000): Promise<number[]> {
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(isRunning) && Date.now() < deadline) await sleep(100);
  const killed = pids.filter(isRunning);
  for (const pid of killed) signal(pid, 'SIGKILL');
  while (pids.some(isRunning)) await sleep(50);
  return killed;
}
