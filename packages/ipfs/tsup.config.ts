import { libraryConfig } from '../../tools/build/tsup-library.js';

// ESM only: Helia and libp2p are ESM-only, and blockstore-fs / datastore-fs cannot be require()d (ADR 0005).
export default libraryConfig(['src/index.ts'], { esmOnly: true });
