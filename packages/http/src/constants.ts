/** Defaults and fixed names of `@milagro/http`. */

/** Problem `type` URIs are this prefix followed by the kebab-cased code (`INVALID_REQUEST` → `invalid-request`). */
export const PROBLEM_TYPE_BASE = 'https://milagro.apache.org/problems/';

/** Media type of RFC 9457 problem documents. */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** Largest accepted JSON request body, in bytes, unless `bodyLimit` says otherwise. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Time a client has to send a whole request (headers and body) unless `requestTimeoutMs` says otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** A readiness check that has not answered within this time counts as failing. */
export const READY_CHECK_TIMEOUT_MS = 5_000;

/** How long `close()` waits for in-flight requests before cutting their connections. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** Request ids accepted from `x-request-id` (anything else is replaced, so logs cannot be forged). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Route label of requests that matched no route: the raw URL never becomes a metric label. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Histogram buckets of request durations, in seconds. */
export const DURATION_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
