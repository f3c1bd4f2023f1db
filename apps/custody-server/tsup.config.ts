import { appConfig } from '../../tools/build/tsup-app.js';

// The server as one ESM file for `node dist/main.js` (containers); @milagro/* stay external.
export default appConfig();
