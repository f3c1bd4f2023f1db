/**
 * Where the load harnesses put their figures: bench-results/load.json, in the bench schema of
 * tools/bench/run.mjs, so `npm run bench` lists them in docs/benchmarks.md's generated table. A row
 * replaces an earlier one of the same case; other cases stay.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** The 1, 5 and 15 minute load averages, as the bench suites print them. */
export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
}

export interface LoadFigure {
  readonly case: string;
  readonly unit: string;
  readonly median: number;
  readonly p99: number | null;
  readonly samples: number;
}

export function writeLoadFigures(figures: readonly LoadFigure[], load: string): string {
  const outDir = join(REPO_ROOT, 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'load.json');
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}`;
  const rows = figures.map((figure) => ({ suite: 'load', baseline: null, ratio: null, ratioRange: null, machine, date: new Date().toISOString(), load, ...figure }));
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Array<{ case: string }>) : [];
  writeFileSync(file, `${JSON.stringify([...previous.filter((row) => !rows.some((r) => r.case === row.case)), ...rows], null, 2)}\n`);
  return file.slice(REPO_ROOT.length + 1);
}
