#!/usr/bin/env node
// Runs every `*.bench.ts` under packages/*/bench and apps/*/bench (or those whose suite is named
// on the command line), prints a table per suite, and writes bench-results/<suite>.json:
// [{ suite, case, unit, median, p99, samples, baseline, ratio, ratioRange }]. `median` pools every
// sample of the case (`p99` is the 99th-percentile latency of the same pool, in the same unit); `ratio` = median / baseline median; `ratioRange` is the lowest and highest
// ratio of the individual rounds (cases run interleaved in BENCH_ROUNDS rounds, default 5), which
// shows how much the machine's noise moved the comparison.
// Packages are imported from their built dist/, so run `npm run build` first (`npm run bench` does).
import { readdirSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpus, loadavg } from 'node:os';
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
/** Rounds per suite (BENCH_ROUNDS); each case's sample budget is spread over them. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
/** The q-quantile (nearest rank) of the values. */
const quantile = (values, q) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(q * values.length) - 1)];
mkdirSync(outDir, { recursive: true });
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}`;
console.log(`Milagro benchmarks on ${machine}\n`);

let failures = 0;
/** Rows written per suite in this run. */
const written = new Map();
for (const file of files) {
  // A file is named after its suite (`<suite>.bench.ts`), so unwanted suites are never imported.
  if (wanted.size > 0 && !wanted.has(basename(file, '.bench.ts'))) continue;
  let suite;
  try {
    ({ default: suite } = await import(pathToFileURL(file).href));
  } catch (err) {
    failures++;
    console.error(`${file.slice(root.length + 1)}: cannot load (was \`npm run build\` run?): ${err.message}`);
    continue;
  }
  if (suite.suite !== basename(file, '.bench.ts')) {
    failures++;
    console.error(`${file.slice(root.length + 1)}: suite "${suite.suite}" must be named after its file`);
    continue;
  }
  await suite.setup?.();
  // Interleaved rounds: every case runs a short stretch in each round, so a case and its baseline
  // are measured minutes apart at most, never one before and one after a burst of CPU steal.
  const samples = new Map(suite.cases.map((c) => [c.name, []]));
  const roundMedians = new Map(suite.cases.map((c) => [c.name, []]));
  const failed = new Set();
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of suite.cases) {
      if (failed.has(c.name)) continue;
      const bench = new Bench({
        iterations: Math.max(5, Math.ceil((c.iterations ?? 20) / ROUNDS)),
        time: (c.time ?? 1000) / ROUNDS,
        warmupIterations: round === 0 ? 3 : 1,
        retainSamples: true,
      });
      bench.add(c.name, c.fn);
      const [task] = await bench.run();
      const r = task.result;
      if (r.state !== 'completed') {
        failures++;
        failed.add(c.name);
        console.error(`${suite.suite}/${c.name}: ${r.state}${r.error ? `: ${r.error.stack ?? r.error}` : ''}`);
        continue;
      }
      // A marginal case (`minus`) keeps whole-operation samples: its per-item cost is worked out below.
      const perItem = c.minus === undefined ? (c.perItem ?? 1) : 1;
      samples.get(c.name).push(...r.latency.samples.map((ms) => ms / perItem));
      roundMedians.get(c.name).push(r.latency.p50 / perItem);
    }
  }
  await suite.teardown?.();
  /** Latency (ms per item) to the reported unit. */
  const report = (c, ms) => (c.bytes !== undefined ? c.bytes / 2 ** 30 / (ms / 1000) : ms);
  /** Median latency per item; for a marginal case, (its median − the other case's median) / perItem. */
  const latency = (c) =>
    c.minus === undefined ? median(samples.get(c.name)) : (median(samples.get(c.name)) - median(samples.get(c.minus))) / (c.perItem ?? 1);
  const results = suite.cases
    .filter((c) => !failed.has(c.name) && (c.minus === undefined || !failed.has(c.minus)))
    .map((c) => ({
      suite: suite.suite,
      case: c.name,
      unit: c.bytes !== undefined ? 'GiB/s' : 'ms',
      median: report(c, latency(c)),
      p99: c.minus === undefined ? report(c, quantile(samples.get(c.name), 0.99)) : null,
      samples: samples.get(c.name).length,
      baseline: c.baseline ?? null,
      ratio: null,
      /** Lowest and highest per-round ratio: how far the machine's noise moved it. */
      ratioRange: null,
      machine,
      date: new Date().toISOString(),
      /** 1-minute load average when the suite finished: a busy machine makes every figure slower. */
      load: Number(loadavg()[0].toFixed(2)),
    }));
  for (const row of results) {
    if (row.baseline === null) continue;
    const base = results.find((b) => b.case === row.baseline);
    if (!base) throw new Error(`${row.suite}/${row.case}: baseline "${row.baseline}" is not a case of this suite`);
    row.ratio = row.median / base.median;
    const c = suite.cases.find((x) => x.name === row.case);
    const b = suite.cases.find((x) => x.name === row.baseline);
    const perRound = roundMedians.get(row.case).map((ms, i) => report(c, ms) / report(b, roundMedians.get(row.baseline)[i]));
    row.ratioRange = [Math.min(...perRound), Math.max(...perRound)];
  }
  // Several packages may add cases to one suite (each file named after it): their rows share the JSON.
  const rows = [...(written.get(suite.suite) ?? []), ...results];
  written.set(suite.suite, rows);
  writeFileSync(join(outDir, `${suite.suite}.json`), `${JSON.stringify(rows, null, 2)}\n`);
  console.log(`suite ${suite.suite} (${file.slice(root.length + 1)})`);
  console.table(
    results.map((r) => ({
      case: r.case,
      median: `${r.median.toPrecision(4)} ${r.unit}`,
      p99: r.p99 === null ? '' : `${r.p99.toPrecision(4)} ${r.unit}`,
      samples: r.samples,
      baseline: r.baseline ?? '',
      ratio: r.ratio === null ? '' : r.ratio.toFixed(2),
      'ratio per round': r.ratioRange === null ? '' : `${r.ratioRange[0].toFixed(2)}–${r.ratioRange[1].toFixed(2)}`,
    })),
  );
}
writeGeneratedTable();
process.exitCode = failures ? 1 : 0;

/**
 * Rewrites the generated table in docs/benchmarks.md (between its two markers) from every
 * bench-results/*.json: each figure with its baseline ratio, the machine, date and load it was
 * measured on. The narrative around it (how figures were taken, profiles, decisions) is written by hand.
 */
function writeGeneratedTable() {
  const docPath = join(root, 'docs', 'benchmarks.md');
  const START = '<!-- bench-results:start (generated by npm run bench from bench-results/*.json; do not edit) -->';
  const END = '<!-- bench-results:end -->';
  if (!existsSync(docPath)) return;
  const doc = readFileSync(docPath, 'utf8');
  const from = doc.indexOf(START);
  const to = doc.indexOf(END);
  if (from < 0 || to < from) {
    console.error('docs/benchmarks.md has no generated-table markers; table not written');
    return;
  }
  const rows = readdirSync(outDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => JSON.parse(readFileSync(join(outDir, f), 'utf8')));
  const cell = (text) => String(text).replaceAll('|', '\\|');
  const lines = [
    '| suite | case | median | p99 | baseline | ratio (per round) | measured on | date (UTC) | load |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) =>
      [
        r.suite,
        r.case,
        `${Number(r.median).toPrecision(4)} ${r.unit}`,
        r.p99 === null || r.p99 === undefined ? '' : `${Number(r.p99).toPrecision(4)} ${r.unit}`,
        r.baseline ?? '',
        r.ratio === null || r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}${r.ratioRange ? ` (${r.ratioRange[0].toFixed(2)}–${r.ratioRange[1].toFixed(2)})` : ''}`,
        r.machine ?? 'not recorded',
        r.date ? r.date.slice(0, 16).replace('T', ' ') : 'not recorded',
        r.load ?? '',
      ]
        .map(cell)
        .join(' | '),
    ).map((line) => `| ${line} |`),
  ];
  writeFileSync(docPath, `${doc.slice(0, from + START.length)}\n\n${lines.join('\n')}\n\n${doc.slice(to)}`);
  console.log(`docs/benchmarks.md: generated table rewritten (${rows.length} figures)`);
}
