/**
 * The child's side of peer-process.ts: answer requests read from stdin, emit events on stdout.
 * Imported by child entries (run by Node from TypeScript), never by Jest tests.
 */
import { createInterface } from 'node:readline';

/** One request: its operation and arguments. */
export type PeerCommand = Record<string, unknown> & { readonly id: number; readonly op: string };

/** Writes one protocol line (an event or an answer). */
export function emit(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/**
 * Announces readiness with `ready`'s fields, then answers every request with `run`. When stdin
 * closes (the parent is gone), calls `onClose` and exits.
 */
export function servePeer(ready: Record<string, unknown>, run: (command: PeerCommand) => Promise<unknown>, onClose: () => Promise<void>): void {
  emit({ event: 'ready', ...ready });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const command = JSON.parse(line) as PeerCommand;
    run(command).then(
      (result) => emit({ id: command.id, ok: true, result: result ?? null }),
      (error: unknown) => emit({ id: command.id, ok: false, code: (error as { code?: string }).code, message: String(error) }),
    );
  });
  lines.on('close', () => {
    void onClose().finally(() => process.exit(0));
  });
}
