/**
 * The `milagro` command from its TypeScript sources in a real process (as tools/jest/server-process.ts
 * runs servers): `runMilagro` for commands that finish (init, status), `startMilagro` for `start`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnServer, type ServerProcess } from '../../../../tools/jest/server-process.js';

const ENTRY = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const SOURCE_IMPORTS = fileURLToPath(new URL('../../../../tools/jest/source-imports.mjs', import.meta.url));

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `milagro <args>` to its end; `input`, when given, is written to its stdin (else stdin is closed). */
export function runMilagro(args: readonly string[], env: Record<string, string> = {}, input?: string): Promise<CommandResult> {
  const child = spawn(process.execPath, ['--no-warnings', '--experimental-transform-types', '--import', SOURCE_IMPORTS, ENTRY, ...args], {
    env: { ...process.env, ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin?.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

export function startMilagro(configPath: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  return spawnServer({ entry: ENTRY, args: ['start', '--config', configPath], env });
}
