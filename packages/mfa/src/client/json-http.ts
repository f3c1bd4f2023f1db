/**
 * The client's one way to talk HTTP: JSON in, JSON or an RFC 9457 problem out. Failures become
 * {@link MfaClientError}s whose messages name the route and status, never a request body.
 */
import { MfaClientError, type MfaClientErrorCode } from './client-errors.js';

/** An answer that was not 2xx: status, the problem's `code` if any, and `Retry-After` seconds. */
export class HttpFailure {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    readonly retryAfter: number | undefined,
  ) {}
}

export interface JsonRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly body?: unknown;
  readonly bearer?: string;
  readonly signal?: AbortSignal;
}

/**
 * Sends one request. Resolves with the parsed body of a 2xx answer (`{}` for 204), or an
 * {@link HttpFailure}; rejects with `UNAVAILABLE` when the network fails or times out.
 */
export async function sendJson(fetchFn: typeof fetch, request: JsonRequest): Promise<Record<string, unknown> | HttpFailure> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  if (request.bearer !== undefined) headers.authorization = `Bearer ${request.bearer}`;
  let response: Response;
  let text: string;
  try {
    response = await fetchFn(request.url, {
      method: request.method,
      headers,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    });
    text = await response.text();
  } catch (cause) {
    throw new MfaClientError('UNAVAILABLE', `${request.method} ${new URL(request.url).pathname}: no answer`, { cause });
  }
  let body: unknown = {};
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  if (response.ok) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new MfaClientError('SERVER_ERROR', `${request.method} ${new URL(request.url).pathname}: the answer is not a JSON object`, { status: response.status });
    }
    return body as Record<string, unknown>;
  }
  const code = typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'string' ? (body as { code: string }).code : undefined;
  const retryHeader = Number(response.headers.get('retry-after'));
  return new HttpFailure(response.status, code, Number.isFinite(retryHeader) && retryHeader > 0 ? retryHeader : undefined);
}

/** The client error for a failed answer of the MFA service; `refused` is the code of a 401/403. */
export function failureError(route: string, failure: HttpFailure, refused: MfaClientErrorCode): MfaClientError {
  const options = { status: failure.status, ...(failure.retryAfter === undefined ? {} : { retryAfter: failure.retryAfter }) };
  const message = `${route}: HTTP ${failure.status}${failure.code === undefined ? '' : ` ${failure.code}`}`;
  if (failure.status === 401 || failure.status === 403) return new MfaClientError(refused, message, options);
  if (failure.status === 429) return new MfaClientError('RATE_LIMITED', message, options);
  if (failure.status === 503) return new MfaClientError('UNAVAILABLE', message, options);
  if (failure.status === 400) return new MfaClientError('INVALID_REQUEST', message, options);
  return new MfaClientError('SERVER_ERROR', message, options);
}

/** A string field of a successful answer. @throws MfaClientError `SERVER_ERROR` when missing. */
export function textField(body: Record<string, unknown>, name: string, route: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value.length === 0) throw new MfaClientError('SERVER_ERROR', `${route}: the answer has no ${name}`);
  return value;
}

/** A number field of a successful answer. @throws MfaClientError `SERVER_ERROR` when missing. */
export function numberField(body: Record<string, unknown>, name: string, route: string): number {
  const value = body[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new MfaClientError('SERVER_ERROR', `${route}: the answer has no ${name}`);
  return value;
}
