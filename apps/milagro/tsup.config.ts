import { appConfig } from '../../tools/build/tsup-app.js';

// The `milagro` command as one ESM file (`node dist/main.js <command>`); @milagro/* stay external.
export default appConfig();
