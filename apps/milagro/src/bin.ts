/**
 * The `milagro` executable (built to dist/main.js): turns on Node's on-disk compile cache before the
 * command's modules load, so every start after the first skips compiling them (see
 * docs/benchmarks, suite `server`), then runs the command. NODE_COMPILE_CACHE chooses the cache
 * directory (default: the OS temp dir); an unwritable one only costs the speed-up.
 */
import module from 'node:module';

// Optional chaining: a Node without it (before 22.1) refuses the named import; the command then reports the engine itself.
module.enableCompileCache?.();
await import('./main.js');
