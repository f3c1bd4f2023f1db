import { defineConfig, type Options } from 'tsup';

/**
 * A server app as one ESM file for `node dist/main.js` (containers): `@milagro/*` and other
 * dependencies stay external, a shebang makes it the package's `bin`.
 */
export function appConfig(entry = 'src/main.ts'): Options | Options[] {
  return defineConfig({
    entry: [entry],
    format: ['esm'],
    platform: 'node',
    target: 'es2022',
    sourcemap: true,
    clean: true,
    dts: false,
    removeNodeProtocol: false,
    banner: { js: '#!/usr/bin/env node' },
  }) as Options;
}
