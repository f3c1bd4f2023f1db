/**
 * The contract between a benchmark file and the runner (`npm run bench`).
 *
 * A benchmark file is `packages/<pkg>/bench/<suite>.bench.ts` (or under `apps/`); its `suite`
 * must equal the file's name, so `npm run bench -- <suite>` loads only the files of that suite.
 * Several packages may contribute to one suite (e.g. `envelope` from envelope and pki); their rows
 * are written to the same bench-results/<suite>.json. It imports the
 * packages by name (`@milagro/crypto`, resolved to their built `dist/`), uses only erasable
 * TypeScript syntax (Node runs it with type stripping), and default-exports a {@link BenchSuite}:
 * `import type { BenchSuite } from '../../../tools/bench/suite.js'` (a type-only import, erased at
 * run time) and `export default { suite: 'crypto', cases: [...] } satisfies BenchSuite`.
 */
export interface BenchCase {
  /** Stable name; results are compared across runs by `suite` + `name`. */
  name: string;
  /** One operation. May be async. */
  fn: () => unknown;
  /** Name of a case in the same suite this one is compared with (`ratio = median / baseline median`). */
  baseline?: string;
  /**
   * Bytes processed by one operation. When set, the case is reported as throughput in GiB/s
   * (median = bytes / median latency), so `ratio` ≥ 1 means faster than the baseline.
   */
  bytes?: number;
  /** Per-operation count for batch cases: the median is divided by it (cost per item). */
  perItem?: number;
  /**
   * Name of a case in the same suite whose median is subtracted before dividing by `perItem`: a
   * marginal cost, e.g. each recipient beyond the first = (seal to 100 − seal to 1) / 99.
   */
  minus?: string;
  /** Minimum samples and minimum time (ms) to spend; defaults suit millisecond-scale operations. */
  iterations?: number;
  time?: number;
}

export interface BenchSuite {
  suite: string;
  /** Prepared once before any case runs (keys, inputs, backends). */
  setup?: () => Promise<void> | void;
  /** Run once after the last case (close stores, remove temporary files). */
  teardown?: () => Promise<void> | void;
  cases: BenchCase[];
}
