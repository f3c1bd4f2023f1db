// `npm run check`: every check, in two lanes that run at the same time, because each step is
// mostly one busy core and CI has two: lint, typecheck and the layer check in one lane, the build
// of every package and the package checks (publint, attw) in the other (nx runs two tasks at a
// time, nx.json `parallel`). Run one after the other they took ~16 min in CI; side by side they take about
// as long as the longer lane. Each step's output is printed in one piece when the step ends, with
// its time, so the two lanes never interleave. Exits non-zero if any step fails (both lanes run to
// their end or first failure, so one run shows every failing check).
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';

const lanes = [
  ['lint', 'typecheck', 'boundaries'],
  ['build', 'check:packages'],
];
// The npm that runs this script, under the Node that runs it.
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
const started = Date.now();
const seconds = (from) => `${Math.round((Date.now() - from) / 1000)} s`;

function run(script) {
  const from = Date.now();
  return new Promise((resolve) => {
    const child = spawn(npm[0], [...npm.slice(1), 'run', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (chunk) => chunks.push(chunk));
    child.stderr.on('data', (chunk) => chunks.push(chunk));
    child.on('error', (error) => chunks.push(Buffer.from(`${error.message}\n`)));
    child.on('close', (code, signal) => {
      const ok = code === 0;
      process.stdout.write(Buffer.concat(chunks));
      process.stdout.write(`[check] ${script}: ${ok ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`} in ${seconds(from)}\n`);
      resolve(ok);
    });
  });
}

async function lane(scripts) {
  for (const script of scripts) if (!(await run(script))) return false;
  return true;
}

const results = await Promise.all(lanes.map(lane));
const ok = results.every(Boolean);
process.stdout.write(`[check] ${ok ? 'all checks passed' : 'some checks FAILED'} in ${seconds(started)}\n`);
process.exit(ok ? 0 : 1);
