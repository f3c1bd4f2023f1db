import { libraryConfig } from '../../tools/build/tsup-library.js';

// ESM only, like @milagro/ipfs beneath it (ADR 0005).
export default libraryConfig(['src/index.ts'], { esmOnly: true });
