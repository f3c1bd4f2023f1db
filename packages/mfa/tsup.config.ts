import { libraryConfig } from '../../tools/build/tsup-library.js';

// ESM only (ADR 0008). The server entry is Node-only; `client` is isomorphic (no Node built-ins);
// `client-node` holds the file credential store so browser bundles never see node:fs (ADR 0009).
export default libraryConfig({ index: 'src/index.ts', client: 'src/client/index.ts', 'client-node': 'src/client-node/index.ts' }, { esmOnly: true, platform: 'node' });
