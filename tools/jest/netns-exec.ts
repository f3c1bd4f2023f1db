/**
 * Launcher for netns.ts: `node [flags] netns-exec.ts <namespace> <entry> [args…]` replaces itself
 * (execve: same pid, same stdio) by `ip netns exec <namespace> node [flags] <entry> [args…]`, so a
 * helper that spawns Node entries with arguments (server-process.ts) can start one inside a
 * network namespace without knowing about namespaces.
 */
import { execFileSync } from 'node:child_process';

const [namespace, entry, ...args] = process.argv.slice(2);
if (namespace === undefined || entry === undefined) {
  process.stderr.write('usage: netns-exec.ts <namespace> <entry> [args…]\n');
  process.exit(2);
}
const ipPath = execFileSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).trim();
process.execve!(ipPath, ['ip', 'netns', 'exec', namespace, process.execPath, ...process.execArgv, entry, ...args], process.env);
