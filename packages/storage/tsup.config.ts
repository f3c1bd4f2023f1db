import { libraryConfig } from '../../tools/build/tsup-library.js';

// Server-only and ESM only (ADR 0008). Keep `node:` specifiers: `node:sqlite` exists only with
// the prefix, and tsup would otherwise rewrite it to a package named `sqlite`.
export default { ...libraryConfig(['src/index.ts'], { esmOnly: true, platform: 'node' }), removeNodeProtocol: false };
