import type { Options } from 'tsup';
import { appConfig } from '../../tools/build/tsup-app.js';

// The `milagro` command as ESM (`node dist/main.js <command>`); @milagro/* stay external. The entry
// is src/bin.ts (compile cache first), built as dist/main.js; the command itself is a chunk it imports.
export default { ...(appConfig('src/bin.ts') as Options), entry: { main: 'src/bin.ts' } } satisfies Options;
