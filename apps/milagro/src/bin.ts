/**
 * The `milagro` executable (built to dist/main.js): checks the Node release first (an older one gets
 * a message saying what to install, exit code 1), turns on Node's on-disk compile cache before the
 * command's modules load, so every start after the first skips compiling them (see
 * docs/benchmarks, suite `server`), then runs the command. NODE_COMPILE_CACHE chooses the cache
 * directory (default: the OS temp dir); an unwritable one only costs the speed-up.
 */
import module from 'node:module';
import { nodeVersionProblem } from './node-version.js';

const problem = nodeVersionProblem(process.versions.node);
if (problem !== undefined) {
  process.stderr.write(`milagro: ${problem}\n`);
  process.exit(1);
}
// Optional chaining: a Node without it (before 22.1) refuses the named import.
module.enableCompileCache?.();
await import('./main.js');
