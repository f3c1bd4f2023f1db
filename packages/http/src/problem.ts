import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { PROBLEM_TYPE_BASE } from './constants.js';
import { HttpKitError } from './errors.js';

/**
 * Codes of the problems the kit itself answers with. Domain packages add their own codes (their
 * error codes, e.g. `GRANT_EXPIRED`); all codes are UPPER_SNAKE_CASE and append-only.
 */
export type HttpProblemCode =
  /** 400: path parameters, query or body failed validation; `errors` lists `{ path, message }`. */
  | 'INVALID_REQUEST'
  /** 400: the body is not well-formed JSON. */
  | 'MALFORMED_JSON'
  /** 404: no route has this path. */
  | 'NOT_FOUND'
  /** 405: the path exists, the method does not; the `Allow` header lists the methods. */
  | 'METHOD_NOT_ALLOWED'
  /** 413: the body is larger than the server's limit. */
  | 'CONTENT_TOO_LARGE'
  /** 415: the body is not `application/json` (UTF-8, no content encoding). */
  | 'UNSUPPORTED_MEDIA_TYPE'
  /** 500: an unexpected failure; the cause is logged with the request id, never returned. */
  | 'INTERNAL_ERROR'
  /** 503: a readiness check failed, or the server is shutting down. */
  | 'NOT_READY';

/** The members every problem document carries, plus extension members. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  [extension: string]: unknown;
}

/** Options of {@link HttpProblem}. */
export interface HttpProblemOptions {
  status: number;
  /** Stable UPPER_SNAKE_CASE code; also names the `type` URI unless `type` is given. */
  code: string;
  /** Short, fixed summary of the problem type; defaults to the status text (`Not Found`). */
  title?: string;
  /** Human-readable explanation of this occurrence. Never put secrets or submitted values here. */
  detail?: string;
  /** Overrides the default `https://milagro.apache.org/problems/<kebab-code>`. */
  type?: string;
  instance?: string;
  /** Extension members (RFC 9457 §3.2); they cannot replace the standard members. */
  extensions?: Readonly<Record<string, unknown>>;
  /** Response headers to send with the problem (`Retry-After`, `Allow`, `WWW-Authenticate`). */
  headers?: Readonly<Record<string, string>>;
  cause?: unknown;
}

const CODE_PATTERN = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;
const STANDARD_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance', 'code']);

/** The `type` URI of a problem code: `INVALID_REQUEST` → `https://milagro.apache.org/problems/invalid-request`. */
export function problemType(code: string): string {
  return PROBLEM_TYPE_BASE + code.toLowerCase().replaceAll('_', '-');
}

/**
 * An RFC 9457 problem: throw it from a route handler (or return one from an `errorMapper`) and the
 * client receives it as `application/problem+json` with the given status.
 */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  readonly status: number;
  readonly code: string;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly instance: string | undefined;
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(options: HttpProblemOptions) {
    const { status, code } = options;
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new HttpKitError('INVALID_ARGUMENT', `problem status must be an integer in 400..599, got ${String(status)}`);
    }
    if (!CODE_PATTERN.test(code)) {
      throw new HttpKitError('INVALID_ARGUMENT', `problem code must be UPPER_SNAKE_CASE, got ${JSON.stringify(code)}`);
    }
    const title = options.title ?? STATUS_CODES[status] ?? 'Error';
    super(options.detail ?? title, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.code = code;
    this.type = options.type ?? problemType(code);
    this.title = title;
    this.detail = options.detail;
    this.instance = options.instance;
    const extensions: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options.extensions ?? {})) {
      if (!STANDARD_MEMBERS.has(key)) extensions[key] = value;
    }
    this.extensions = extensions;
    this.headers = { ...options.headers };
  }

  /** The problem document sent to the client. */
  toJSON(): ProblemDocument {
    const document: ProblemDocument = { ...this.extensions, type: this.type, title: this.title, status: this.status, code: this.code };
    if (this.detail !== undefined) document.detail = this.detail;
    if (this.instance !== undefined) document.instance = this.instance;
    return document;
  }
}

/** True when `err` is an {@link HttpProblem}, optionally with the given code. */
export function isHttpProblem(err: unknown, code?: string): err is HttpProblem {
  return err instanceof HttpProblem && (code === undefined || err.code === code);
}

/** Schema of problem documents, as published in the OpenAPI document (`#/components/schemas/Problem`). */
export const problemDocumentSchema = z
  .looseObject({
    type: z.string().describe('URI of the problem type: https://milagro.apache.org/problems/<kebab-case code>'),
    title: z.string().describe('Short summary of the problem type'),
    status: z.number().int().describe('HTTP status code'),
    detail: z.string().optional().describe('Explanation of this occurrence'),
    instance: z.string().optional(),
    code: z.string().describe('Stable UPPER_SNAKE_CASE code to switch on'),
    requestId: z.string().optional().describe('The request id, as logged by the server'),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('INVALID_REQUEST only: what failed validation (values are never echoed)'),
  })
  .describe('RFC 9457 problem details');
