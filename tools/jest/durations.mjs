// Rewrites tools/jest/durations.json (read by sequencer.cjs) from a log of a full Jest run, e.g.
// /tmp/milagro-ci-test.log after .ci/run: `node tools/jest/durations.mjs /tmp/milagro-ci-test.log`.
// Jest prints a file's time only when it took over a few seconds; the others are recorded as 1 s.
import { readFileSync, writeFileSync } from 'node:fs';

const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'); // colour codes
const log = readFileSync(process.argv[2] ?? '/tmp/milagro-ci-test.log', 'utf8').replace(ansi, '');
const seconds = {};
for (const match of log.matchAll(/^(?:PASS|FAIL) (\S+)(?: \(([\d.]+) s\))?/gm)) {
  seconds[match[1]] = Math.max(seconds[match[1]] ?? 1, Math.round(Number(match[2] ?? 1)));
}
const sorted = Object.entries(seconds).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
writeFileSync(new URL('./durations.json', import.meta.url), `${JSON.stringify(Object.fromEntries(sorted), null, 2)}\n`);
console.log(`tools/jest/durations.json: ${sorted.length} files`);
