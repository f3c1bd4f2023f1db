#!/usr/bin/env node
// Runs every `*.bench.ts` under packages/*/bench and apps/*/bench (or those whose suite is named
// on the command line), prints a table per suite, and writes bench-results/<suite>.json:
// [{ suite, case, unit, median, samples, baseline, ratio }].
// Packages are imported from their built dist/, so run `npm run build` first (`npm run bench` does).
import { readdirSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpus } from 'node:os';
import { Bench } from 'tinybench';

const root = resolve(import.meta.dirname, '../..');
const wanted = new Set(process.argv.slice(2));
const files = ['packages', 'apps'].flatMap((area) =>
  existsSync(join(root, area))
    ? readdirSync(join(root, area)).flatMap((pkg) => {
        const dir = join(root, area, pkg, 'bench');
        return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).map((f) => join(dir, f)) : [];
      })
    : [],
);

const outDir = join(root, 'bench-results');
mkdirSync(outDir, { recursive: true });
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}`;
console.log(`Milagro benchmarks on ${machine}\n`);

let failures = 0;
for (const file of files) {
  const { default: suite } = await import(pathToFileURL(file).href);
  if (wanted.size > 0 && !wanted.has(suite.suite)) continue;
  await suite.setup?.();
  const results = [];
  for (const c of suite.cases) {
    const bench = new Bench({ iterations: c.iterations ?? 20, time: c.time ?? 1000, warmupIterations: 3 });
    bench.add(c.name, c.fn);
    const [task] = await bench.run();
    const r = task.result;
    if (r.state !== 'completed') {
      failures++;
      console.error(`${suite.suite}/${c.name}: ${r.state}${r.error ? `: ${r.error.stack ?? r.error}` : ''}`);
      continue;
    }
    const perItem = c.perItem ?? 1;
    const medianMs = r.latency.p50 / perItem;
    const throughput = c.bytes !== undefined;
    results.push({
      suite: suite.suite,
      case: c.name,
      unit: throughput ? 'GiB/s' : 'ms',
      median: throughput ? c.bytes / 2 ** 30 / (medianMs / 1000) : medianMs,
      samples: r.latency.samplesCount,
      baseline: c.baseline ?? null,
      ratio: null,
    });
  }
  await suite.teardown?.();
  for (const row of results) {
    if (row.baseline === null) continue;
    const base = results.find((b) => b.case === row.baseline);
    if (!base) throw new Error(`${row.suite}/${row.case}: baseline "${row.baseline}" is not a case of this suite`);
    row.ratio = row.median / base.median;
  }
  writeFileSync(join(outDir, `${suite.suite}.json`), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`suite ${suite.suite} (${file.slice(root.length + 1)})`);
  console.table(
    results.map((r) => ({
      case: r.case,
      median: `${r.median.toPrecision(4)} ${r.unit}`,
      samples: r.samples,
      baseline: r.baseline ?? '',
      ratio: r.ratio === null ? '' : r.ratio.toFixed(2),
    })),
  );
}
process.exitCode = failures ? 1 : 0;
