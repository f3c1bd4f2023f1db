/**
 * Fuzzes a running Milagro server over HTTP from its own OpenAPI document: `runs` requests made by
 * `requestArbitrary`, each answer checked against the rules every endpoint keeps (no 5xx, client
 * mistakes answered with an RFC 9457 problem), then the server must still be healthy. The server's
 * resident memory is read from `/metrics` before and after, so a leak per request shows up.
 */
import fc from 'fast-check';
import { requestArbitrary, type FuzzRequest, type OpenApiLike, type RequestOptions } from './openapi-requests.js';

export interface FuzzOptions extends RequestOptions {
  readonly runs: number;
  readonly seed?: number;
  /** Requests in flight at once (default 4). */
  readonly concurrency?: number;
}

export interface FuzzReport {
  readonly runs: number;
  readonly seed: number;
  /** Answers per status code. */
  readonly statuses: Record<string, number>;
  /** Answers per operation and status code. */
  readonly operations: Record<string, Record<string, number>>;
  /** Requests that broke a rule, with what was sent (first 20). */
  readonly failures: ReadonlyArray<{ readonly request: FuzzRequest; readonly status: number; readonly problem: string }>;
  /** The first request refused with 400 per operation, with the problem's detail (to see what the generator misses). */
  readonly refusedExamples: Record<string, { readonly request: FuzzRequest; readonly detail: string }>;
  /** Resident set size of the server before and after, in bytes, when it exports process metrics. */
  readonly rss: { readonly before: number | undefined; readonly after: number | undefined };
}

/** Statuses Node's HTTP parser answers itself, before any route runs (no problem body). */
const PARSER_STATUSES = new Set([400, 414, 431]);

export async function fuzzServer(baseUrl: string, options: FuzzOptions): Promise<FuzzReport> {
  const document = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as OpenApiLike;
  const seed = options.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  const requests = fc.sample(requestArbitrary(document, options), { numRuns: options.runs, seed });
  const statuses: Record<string, number> = {};
  const operations: Record<string, Record<string, number>> = {};
  const failures: Array<FuzzReport['failures'][number]> = [];
  const refusedExamples: FuzzReport['refusedExamples'] = {};
  const before = await residentMemory(baseUrl);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const request = requests[next++]!;
      const outcome = await send(baseUrl, request);
      statuses[outcome.status] = (statuses[outcome.status] ?? 0) + 1;
      const counts = (operations[request.operation] ??= {});
      counts[outcome.status] = (counts[outcome.status] ?? 0) + 1;
      const problem = judge(outcome);
      if (outcome.status === 400 && refusedExamples[request.operation] === undefined) {
        refusedExamples[request.operation] = { request: redact(request), detail: outcome.text.slice(0, 500) };
      }
      if (problem !== undefined && failures.length < 20) failures.push({ request: redact(request), status: outcome.status, problem });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
  const health = await fetch(`${baseUrl}/healthz`);
  if (health.status !== 200) failures.push({ request: { operation: 'healthz', method: 'GET', target: '/healthz', headers: {} }, status: health.status, problem: 'unhealthy after the run' });
  return { runs: requests.length, seed, statuses, operations, failures, refusedExamples, rss: { before, after: await residentMemory(baseUrl) } };
}

interface Outcome {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly error?: string;
}

async function send(baseUrl: string, request: FuzzRequest): Promise<Outcome> {
  const attempt = async (): Promise<Outcome> => {
    const response = await fetch(`${baseUrl}${request.target}`, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(120_000),
    });
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
  };
  try {
    return await attempt();
  } catch {
    // One retry: a keep-alive connection can be closed by the server's idle timeout just as the
    // request goes out. A request that makes the server drop the connection fails twice.
    try {
      return await attempt();
    } catch (error) {
      return { status: 0, contentType: '', text: '', error: (error as Error).message };
    }
  }
}

/** Why an answer breaks the rules, or undefined. */
function judge(outcome: Outcome): string | undefined {
  if (outcome.status === 0) return `no answer: ${outcome.error ?? 'connection failed'}`;
  if (outcome.status >= 500) return `server error ${outcome.status}: ${outcome.text.slice(0, 300)}`;
  if (outcome.status < 400) return undefined;
  if (!outcome.contentType.startsWith('application/problem+json')) {
    return PARSER_STATUSES.has(outcome.status) && outcome.text === '' ? undefined : `a ${outcome.status} without a problem document (${outcome.contentType})`;
  }
  try {
    const problem = JSON.parse(outcome.text) as { status?: unknown; code?: unknown };
    if (problem.status !== outcome.status) return `problem status ${String(problem.status)} differs from ${outcome.status}`;
    if (typeof problem.code !== 'string' || !/^[A-Z][A-Z0-9_]*$/.test(problem.code)) return `problem without a stable code: ${outcome.text.slice(0, 200)}`;
  } catch {
    return `problem document is not JSON: ${outcome.text.slice(0, 200)}`;
  }
  return undefined;
}

/** The request as reported: long bodies cut, bearer tokens hidden. */
function redact(request: FuzzRequest): FuzzRequest {
  const headers = { ...request.headers };
  if (headers.authorization !== undefined) headers.authorization = headers.authorization.replace(/^(\S+\s).*/s, '$1<redacted>');
  const body = typeof request.body === 'string' && request.body.length > 500 ? `${request.body.slice(0, 500)}…` : request.body;
  return { ...request, headers, ...(body === undefined ? {} : { body }) };
}

async function residentMemory(baseUrl: string): Promise<number | undefined> {
  const response = await fetch(`${baseUrl}/metrics`).catch(() => undefined);
  if (response === undefined || response.status !== 200) return undefined;
  const match = /^process_resident_memory_bytes\s+(\d+(?:\.\d+)?(?:e\+?\d+)?)/m.exec(await response.text());
  return match === null ? undefined : Number(match[1]);
}
