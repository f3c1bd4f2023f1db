import { libraryConfig } from '../../tools/build/tsup-library.js';

// Server-only and ESM only (ADR 0008).
export default libraryConfig(['src/index.ts'], { esmOnly: true, platform: 'node' });
