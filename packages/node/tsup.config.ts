import { libraryConfig } from '../../tools/build/tsup-library.js';

// Server-only and ESM only (ADR 0005: it loads @milagro/ipfs).
export default libraryConfig(['src/index.ts'], { esmOnly: true, platform: 'node' });
