/**
 * Writes identity-v1.json. Run from the repository root:
 *   PATH=node_modules/.bin:$PATH esbuild packages/pki/test/vectors/generate.ts --bundle --platform=node \
 *     --format=esm --alias:@milagro/crypto=./packages/crypto/src/index.ts \
 *     --alias:@milagro/keystore=./packages/keystore/src/index.ts --outfile=/tmp/generate-identity-vectors.mjs \
 *     && node /tmp/generate-identity-vectors.mjs
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateVectors } from './identity-v1-vectors.js';

const file = await generateVectors();
const out = join(process.cwd(), 'packages/pki/test/vectors/identity-v1.json');
writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
console.log(`wrote ${file.chains.length} chains and ${file.negative.length} negative vectors to ${out}`);
