import { libraryConfig } from '../../tools/build/tsup-library.js';

export default libraryConfig({ index: 'src/index.ts', pkcs11: 'src/pkcs11/index.ts' });
