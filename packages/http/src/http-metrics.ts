import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DURATION_BUCKETS_SECONDS } from './constants.js';

/** Options of the server's metrics. */
export interface HttpMetricsOptions {
  /** Registry to use; by default each server has its own, so two servers in one process do not collide. */
  registry?: Registry;
  /** Collect prom-client's process metrics (CPU, memory, event loop); default true for a server's own registry. */
  defaultMetrics?: boolean;
}

/** Request counters and durations, labelled by method, route template (never the raw URL) and status. */
export interface HttpMetrics {
  readonly registry: Registry;
  observe(method: string, route: string, status: number, seconds: number): void;
}

const LABELS = ['method', 'route', 'status'] as const;
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function createHttpMetrics(options: HttpMetricsOptions = {}): HttpMetrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultMetrics ?? options.registry === undefined) collectDefaultMetrics({ register: registry });
  const requests =
    (registry.getSingleMetric('http_requests_total') as Counter<(typeof LABELS)[number]> | undefined) ??
    new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route template and status', labelNames: LABELS, registers: [registry] });
  const durations =
    (registry.getSingleMetric('http_request_duration_seconds') as Histogram<(typeof LABELS)[number]> | undefined) ??
    new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request to response end, by method, route template and status',
      labelNames: LABELS,
      buckets: DURATION_BUCKETS_SECONDS,
      registers: [registry],
    });
  return {
    registry,
    observe(method, route, status, seconds) {
      // Methods outside the known set (any token is valid HTTP) would let a client mint label values.
      const labels = { method: KNOWN_METHODS.has(method) ? method : 'OTHER', route, status: String(status) };
      requests.inc(labels);
      durations.observe(labels, seconds);
    },
  };
}
