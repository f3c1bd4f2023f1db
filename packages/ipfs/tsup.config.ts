import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  // ESM only: blockstore-fs and datastore-fs cannot be require()d (their "module-sync" export names a
  // file they do not ship), so a CJS build would fail at load; require() of this ESM build works (Node >= 22.12).
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  platform: 'neutral',
  tsconfig: 'tsconfig.json',
});
