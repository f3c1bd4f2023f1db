import { defineConfig, type Options } from 'tsup';

/**
 * The one build every published `@milagro/*` library uses: ESM + CJS + type declarations for each
 * entry point, platform-neutral (the libraries are isomorphic; Node built-ins are reached at run
 * time, never imported at the top level), ES2022, with source maps. A package's `tsup.config.ts`
 * names only its entry points, which must match its `exports` map. `esmOnly` is for packages whose
 * dependencies cannot be loaded from CommonJS (ADR 0005); `platform: 'node'` for server-only
 * packages (`@milagro/http`, `@milagro/storage`, the role packages) that import Node built-ins.
 */
export function libraryConfig(entry: Options['entry'], options: { esmOnly?: boolean; platform?: 'neutral' | 'node' } = {}) {
  return defineConfig({
    entry,
    format: options.esmOnly === true ? ['esm'] : ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    platform: options.platform ?? 'neutral',
    // Server packages keep `node:` specifiers as written (`node:sqlite` exists only with the prefix).
    removeNodeProtocol: options.platform !== 'node',
    tsconfig: 'tsconfig.json',
  });
}
