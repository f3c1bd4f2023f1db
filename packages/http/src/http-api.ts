import type { Request } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { HttpKitError } from './errors.js';
import type { HttpProblem } from './problem.js';

/** Methods a route may have. `HEAD` is answered by `GET` routes. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Schemas of path parameters and queries: objects whose properties are the parameter names. */
export type ParameterSchema = z.ZodObject;

/**
 * Maps an error thrown by a handler to the problem the client should see, or returns `undefined`
 * to pass it on (to the server's mapper, then to the generic 500). Domain routers use it to turn
 * their typed errors (`DtaError`, ...) into problems with stable codes.
 */
export type ErrorMapper = (err: unknown) => HttpProblem | undefined;

type Parsed<S, Otherwise> = S extends z.ZodType ? z.output<S> : Otherwise;

/** What a handler receives: validated, typed input, the request, and a logger bound to the request id. */
export interface RouteContext<P = undefined, Q = undefined, B = undefined> {
  params: Parsed<P, Record<string, never>>;
  query: Parsed<Q, Record<string, never>>;
  body: Parsed<B, undefined>;
  /** The Express request (headers, e.g. for signatures). Do not log it. */
  request: Request;
  /** Pino logger with the request id bound; never log secrets with it. */
  log: Logger;
  requestId: string;
  /** Aborted when the client goes away before the response is sent. */
  signal: AbortSignal;
}

/** What a handler returns. `body` is sent as JSON; without it the response is empty. */
export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
}

/**
 * One documented response. Statuses ≥ 400 without a `schema` are documented as problem documents
 * (`application/problem+json`); other statuses without a `schema` have no content.
 */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

/** A route: where it lives, what it accepts and answers, and the handler. */
export interface RouteSpec<P extends ParameterSchema | undefined = undefined, Q extends ParameterSchema | undefined = undefined, B extends z.ZodType | undefined = undefined> {
  method: HttpMethod;
  /** OpenAPI-style template: `/v1/realms/{realmId}/client-shares`. Every `{name}` must be a key of `params`. */
  path: string;
  /** Unique across the server; becomes the OpenAPI operationId. */
  operationId: string;
  summary: string;
  description?: string;
  tags?: readonly string[];
  deprecated?: boolean;
  /** Path parameters (strings on the wire: use `z.string()` or `z.coerce`). */
  params?: P;
  /** Query parameters (strings, or arrays of strings when repeated). */
  query?: Q;
  /** JSON body; its presence makes the route require `Content-Type: application/json`. */
  body?: B;
  /** Documented responses by status. Validation (400), 413/415 (with a body) and 500 problems are added. */
  responses: Readonly<Record<number, ResponseSpec>>;
  handler: (ctx: RouteContext<P, Q, B>) => RouteResult | Promise<RouteResult>;
}

/** A route as stored, with its type parameters erased. */
export interface RegisteredRoute {
  readonly method: HttpMethod;
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description: string | undefined;
  readonly tags: readonly string[];
  readonly deprecated: boolean;
  readonly params: ParameterSchema | undefined;
  readonly query: ParameterSchema | undefined;
  readonly body: z.ZodType | undefined;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  readonly handler: (ctx: RouteContext<unknown, unknown, unknown>) => RouteResult | Promise<RouteResult>;
  /** The mapper of the API the route belongs to. */
  readonly errorMapper: ErrorMapper | undefined;
  /** Path parameter names, in order. */
  readonly parameterNames: readonly string[];
}

/** Options of {@link HttpApi}. */
export interface HttpApiOptions {
  /** Maps the API's own errors to problems (tried before the server's mapper). */
  errorMapper?: ErrorMapper;
  /** Tags added to every route of the API. */
  tags?: readonly string[];
}

const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const LITERAL_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const PARAMETER_SEGMENT = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const OPERATION_ID = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Parses an OpenAPI path template into its segments: literal strings, or `{ name }` for parameters.
 * Parameters take a whole segment; literals use unreserved URL characters only.
 */
export function parsePathTemplate(path: string): Array<string | { name: string }> {
  if (!path.startsWith('/')) throw new HttpKitError('INVALID_ROUTE', `route path must start with '/': ${path}`);
  if (path === '/') return [];
  const segments: Array<string | { name: string }> = [];
  for (const segment of path.slice(1).split('/')) {
    const parameter = PARAMETER_SEGMENT.exec(segment);
    if (parameter !== null) segments.push({ name: parameter[1] as string });
    else if (LITERAL_SEGMENT.test(segment)) segments.push(segment);
    else throw new HttpKitError('INVALID_ROUTE', `route path segment ${JSON.stringify(segment)} of ${path} is neither a literal nor a {parameter}`);
  }
  return segments;
}

/**
 * A group of documented routes. Build one per domain (the D-TA's, the MFA server's, ...); a server
 * merges several with `createHttpServer({ apis: [...] })`, validates each request against the route's
 * schemas before the handler runs, and publishes all of them in one OpenAPI document.
 *
 * ```ts
 * const api = new HttpApi({ errorMapper: (err) => (err instanceof MyError ? new HttpProblem({ status: 409, code: err.code }) : undefined) });
 * api.route({
 *   method: 'GET', path: '/v1/things/{id}', operationId: 'getThing', summary: 'Read a thing',
 *   params: z.object({ id: z.string().uuid() }),
 *   responses: { 200: { description: 'the thing', schema: Thing }, 404: { description: 'no such thing' } },
 *   handler: async ({ params }) => ({ status: 200, body: await things.get(params.id) }),
 * });
 * ```
 */
export class HttpApi {
  readonly #routes: RegisteredRoute[] = [];
  readonly #options: HttpApiOptions;

  constructor(options: HttpApiOptions = {}) {
    this.#options = options;
  }

  /** Registers a route; throws {@link HttpKitError} (`INVALID_ROUTE`, `DUPLICATE_ROUTE`) when it is unusable. */
  route<P extends ParameterSchema | undefined = undefined, Q extends ParameterSchema | undefined = undefined, B extends z.ZodType | undefined = undefined>(
    spec: RouteSpec<P, Q, B>,
  ): this {
    const route = checkRoute(spec as unknown as RouteSpec<ParameterSchema | undefined, ParameterSchema | undefined, z.ZodType | undefined>, this.#options);
    assertNoDuplicate(this.#routes, route);
    this.#routes.push(route);
    return this;
  }

  /** The registered routes, in registration order. */
  get routes(): readonly RegisteredRoute[] {
    return [...this.#routes];
  }
}

function checkRoute(
  spec: RouteSpec<ParameterSchema | undefined, ParameterSchema | undefined, z.ZodType | undefined>,
  options: HttpApiOptions,
): RegisteredRoute {
  const where = `${String(spec.method)} ${String(spec.path)}`;
  if (!METHODS.has(spec.method)) throw new HttpKitError('INVALID_ROUTE', `${where}: method must be one of ${[...METHODS].join(', ')}`);
  if (typeof spec.operationId !== 'string' || !OPERATION_ID.test(spec.operationId)) {
    throw new HttpKitError('INVALID_ROUTE', `${where}: operationId must match ${OPERATION_ID.source}`);
  }
  if (typeof spec.handler !== 'function') throw new HttpKitError('INVALID_ROUTE', `${where}: handler must be a function`);
  const parameterNames = parsePathTemplate(spec.path).flatMap((segment) => (typeof segment === 'string' ? [] : [segment.name]));
  if (new Set(parameterNames).size !== parameterNames.length) throw new HttpKitError('INVALID_ROUTE', `${where}: a path parameter appears twice`);
  for (const [name, schema] of [['params', spec.params], ['query', spec.query]] as const) {
    if (schema !== undefined && !(schema instanceof z.ZodObject)) throw new HttpKitError('INVALID_ROUTE', `${where}: ${name} must be a z.object(...)`);
  }
  const declared = Object.keys(spec.params?.shape ?? {}).sort();
  if (declared.join('/') !== [...parameterNames].sort().join('/')) {
    throw new HttpKitError('INVALID_ROUTE', `${where}: params must declare exactly the path parameters {${parameterNames.join('}, {')}}`);
  }
  const statuses = Object.keys(spec.responses ?? {});
  if (statuses.length === 0) throw new HttpKitError('INVALID_ROUTE', `${where}: document at least one response`);
  for (const status of statuses) {
    const code = Number(status);
    if (!Number.isInteger(code) || code < 100 || code > 599) throw new HttpKitError('INVALID_ROUTE', `${where}: response status ${status} is not an HTTP status`);
  }
  return {
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    description: spec.description,
    tags: [...new Set([...(options.tags ?? []), ...(spec.tags ?? [])])],
    deprecated: spec.deprecated === true,
    params: spec.params,
    query: spec.query,
    body: spec.body,
    responses: { ...spec.responses },
    handler: spec.handler as RegisteredRoute['handler'],
    errorMapper: options.errorMapper,
    parameterNames,
  };
}

/** The shape of a path with parameter names erased: `/v1/realms/{realmId}` and `/v1/realms/{id}` collide. */
export function pathShape(path: string): string {
  return '/' + parsePathTemplate(path).map((segment) => (typeof segment === 'string' ? segment : '{}')).join('/');
}

/** Throws `DUPLICATE_ROUTE` when `route` collides with one of `routes` (method + path shape, or operationId). */
export function assertNoDuplicate(routes: readonly RegisteredRoute[], route: RegisteredRoute): void {
  const shape = pathShape(route.path);
  for (const other of routes) {
    if (other.method === route.method && pathShape(other.path) === shape) {
      throw new HttpKitError('DUPLICATE_ROUTE', `${route.method} ${route.path} is already registered (as ${other.path})`);
    }
    if (other.operationId === route.operationId) {
      throw new HttpKitError('DUPLICATE_ROUTE', `operationId ${route.operationId} is already used by ${other.method} ${other.path}`);
    }
  }
}
