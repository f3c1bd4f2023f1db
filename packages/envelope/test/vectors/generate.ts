/**
 * Writes envelope-v1.json: fixed identities and plaintexts, freshly sealed envelopes (so each run
 * writes new envelope bytes; the vector test checks the committed file opens, whatever run made it).
 * Run from the repository root:
 *   PATH=node_modules/.bin:$PATH esbuild packages/envelope/test/vectors/generate.ts --bundle \
 *     --platform=node --format=esm --alias:@milagro/crypto=./packages/crypto/src/index.ts \
 *     --outfile=/tmp/generate-envelope-vectors.mjs && node /tmp/generate-envelope-vectors.mjs
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateVectors } from './envelope-v1-vectors.js';

const file = await generateVectors();
const out = join(process.cwd(), 'packages/envelope/test/vectors/envelope-v1.json');
writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
console.log(`wrote ${file.vectors.length} vectors and ${file.negative.length} negative vectors to ${out}`);
