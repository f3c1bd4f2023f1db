import { defineConfig } from 'tsup';

// The server as one ESM file for `node dist/main.js` (containers); @milagro/* stay external.
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  platform: 'node',
  target: 'es2022',
  sourcemap: true,
  clean: true,
  dts: false,
  removeNodeProtocol: false,
  banner: { js: '#!/usr/bin/env node' },
});
