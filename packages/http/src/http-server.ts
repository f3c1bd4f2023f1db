import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  PROBLEM_MEDIA_TYPE,
  READY_CHECK_TIMEOUT_MS,
  REQUEST_ID_PATTERN,
  UNMATCHED_ROUTE,
} from './constants.js';
import { HttpKitError } from './errors.js';
import { assertNoDuplicate, parsePathTemplate, pathShape, type ErrorMapper, type HttpApi, type RegisteredRoute, type RouteResult } from './http-api.js';
import { createHttpMetrics, type HttpMetricsOptions } from './http-metrics.js';
import { buildOpenApiDocument, type OpenApiDocument, type OpenApiInfo } from './openapi.js';
import { HttpProblem } from './problem.js';
import { validationErrors, type ValidationError } from './validation.js';

/** A readiness check: true when the dependency it guards (database, IPFS node, realm) is usable. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

/** Options of {@link createHttpServer}. */
/** How long an idle keep-alive connection stays open (longer than clients' reuse windows). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface HttpServerOptions {
  /** The route groups to serve; their routes must not collide. */
  apis: readonly HttpApi[];
  /** `info` of the OpenAPI document; default `{ title: 'Milagro Server', version: '0.0.0' }`. */
  info?: OpenApiInfo;
  /** One check, or named checks (names appear in the 503 problem). `/readyz` is 200 when all pass. */
  ready?: ReadinessCheck | Readonly<Record<string, ReadinessCheck>>;
  /** Pino logger; default `pino({ name: 'milagro-http' })` on stdout. */
  logger?: Logger;
  metrics?: HttpMetricsOptions;
  /** Largest JSON body in bytes; default 1 MiB. */
  bodyLimit?: number;
  /** Maps errors no API mapper claimed to problems. */
  errorMapper?: ErrorMapper;
  /** How long `close()` waits for in-flight requests; default 10 s. */
  shutdownTimeoutMs?: number;
  /**
   * Time a client has to send a whole request, headers and body (default 30 s). A slower client
   * (slowloris: headers or body trickled a byte at a time) gets 408 and its connection is closed,
   * so it cannot hold sockets and memory. Checked every `min(5 s, requestTimeoutMs / 2)`.
   */
  requestTimeoutMs?: number;
  /**
   * Cross-origin access for browser clients on other origins (a page using the MFA client SDK
   * fetches shares from the D-TAs). Only the listed origins (`https://login.example`, no path) or
   * `'*'`; never with credentials (the APIs take bearer tokens, not cookies). Default: none.
   */
  cors?: CorsOptions;
}

export interface CorsOptions {
  readonly origins: readonly string[] | '*';
  /** How long browsers may cache a preflight answer; default 600 s. */
  readonly maxAgeSeconds?: number;
}

const ORIGIN_PATTERN = /^https?:\/\/[a-z0-9.-]+(?::\d{1,5})?$|^https?:\/\/\[[0-9a-f:]+\](?::\d{1,5})?$/;

/** Options of {@link HttpServer.listen}. */
export interface ListenOptions {
  /** Default 0: any free port (read it from the result). */
  port?: number;
  /** Default `127.0.0.1`; use `0.0.0.0` or `::` to accept connections from other hosts. */
  host?: string;
}

/** A listening server. */
export interface ListeningHttpServer {
  /** `http://host:port`, with a loopback address in place of an unspecified one. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly server: Server;
  /**
   * Stops accepting connections, makes `/readyz` answer 503, waits for in-flight requests (at most
   * `timeoutMs`, default the server's `shutdownTimeoutMs`), then closes every connection.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** A built server: the Express app, its metrics registry, logger and OpenAPI document. */
export interface HttpServer {
  /** The Express app, for mounting on an existing `http.Server` or adding middleware (before `listen`). */
  readonly app: Express;
  /** The server's Prometheus registry: domain code may register its own counters here. */
  readonly registry: Registry;
  readonly logger: Logger;
  readonly openapi: OpenApiDocument;
  listen(options?: ListenOptions): Promise<ListeningHttpServer>;
}

/** Per-request state shared by the kit's middleware. */
interface RequestState {
  readonly id: string;
  readonly log: Logger;
  /** Route template for logs and metrics. */
  label: string;
  route: RegisteredRoute | undefined;
  problemCode: string | undefined;
}

const states = new WeakMap<IncomingMessage, RequestState>();

/**
 * Builds an Express 5 app serving the given APIs, with `/openapi.json`, `/healthz`, `/readyz` and
 * `/metrics`, validation, problem documents, request logs and metrics. Throws {@link HttpKitError}
 * when routes of different APIs collide.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 0) throw new HttpKitError('INVALID_ARGUMENT', 'bodyLimit must be a non-negative integer');
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!Number.isSafeInteger(requestTimeoutMs) || requestTimeoutMs < 100) throw new HttpKitError('INVALID_ARGUMENT', 'requestTimeoutMs must be an integer of at least 100');
  const logger = options.logger ?? pino({ name: 'milagro-http' });
  const metrics = createHttpMetrics(options.metrics);
  const routes: RegisteredRoute[] = [];
  for (const route of options.apis.flatMap((api) => api.routes)) {
    assertNoDuplicate(routes, route);
    routes.push(route);
  }
  const info = options.info ?? { title: 'Milagro Server', version: '0.0.0' };
  const openapi = buildOpenApiDocument(options.apis, info);
  const checks = normalizeChecks(options.ready);
  let draining = false;

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('json escape', true);
  app.set('query parser', 'simple');

  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const offered = req.get('x-request-id');
    const id = offered !== undefined && REQUEST_ID_PATTERN.test(offered) ? offered : randomUUID();
    const state: RequestState = { id, log: logger.child({ requestId: id }), label: UNMATCHED_ROUTE, route: undefined, problemCode: undefined };
    states.set(req, state);
    res.set({
      'x-request-id': id,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    });
    res.on('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observe(req.method, state.label, res.statusCode, seconds);
      // Never the URL, query, headers or bodies: any of them may carry secrets.
      state.log.info(
        { method: req.method, route: state.label, status: res.statusCode, durationMs: Math.round(seconds * 1e6) / 1e3, code: state.problemCode, aborted: !res.writableFinished || undefined },
        'request',
      );
    });
    next();
  });

  const cors = options.cors;
  if (cors !== undefined) {
    const origins = cors.origins;
    if (origins !== '*' && (!Array.isArray(origins) || origins.some((origin) => !ORIGIN_PATTERN.test(origin)))) {
      throw new HttpKitError('INVALID_ARGUMENT', "cors.origins must be '*' or origins like https://login.example (lower case, no path)");
    }
    const allowed = new Set(origins === '*' ? [] : origins);
    app.use((req: Request, res: Response, next: NextFunction) => {
      const origin = req.get('origin');
      if (origin === undefined) return next();
      res.vary('Origin');
      if (origins !== '*' && !allowed.has(origin)) return next(); // no CORS headers: the browser refuses the answer
      res.set({ 'access-control-allow-origin': origins === '*' ? '*' : origin, 'access-control-expose-headers': 'retry-after, x-request-id' });
      if (req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined) {
        stateOf(req).label = 'CORS preflight';
        res.set({
          'access-control-allow-methods': 'GET, POST, PUT, DELETE',
          'access-control-allow-headers': 'authorization, content-type, x-request-id',
          'access-control-max-age': String(cors.maxAgeSeconds ?? 600),
        });
        res.status(204).end();
        return;
      }
      next();
    });
  }

  const operational = (label: string) => (req: Request, _res: Response, next: NextFunction) => {
    stateOf(req).label = label;
    next();
  };
  // A service index at the root: what this server is and where its operational endpoints are (the
  // container smoke test and people with a browser both start here).
  app.get('/', operational('/'), (_req, res) => {
    res.json({ title: info.title, version: info.version, links: { openapi: '/openapi.json', health: '/healthz', ready: '/readyz', metrics: '/metrics' } });
  });
  app.get('/healthz', operational('/healthz'), (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', operational('/readyz'), async (req, res) => {
    const failing = draining ? ['shutting-down'] : await failingChecks(checks, stateOf(req).log);
    if (failing.length === 0) res.json({ status: 'ok' });
    else sendProblem(req, res, new HttpProblem({ status: 503, code: 'NOT_READY', detail: 'The server is not ready to serve requests', extensions: { failing } }));
  });
  app.get('/metrics', operational('/metrics'), async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/openapi.json', operational('/openapi.json'), (_req, res) => {
    res.json(openapi);
  });

  const router = express.Router({ caseSensitive: true, strict: true });
  const requireJson = jsonBodyGuard();
  const parseJson = express.json({ limit: bodyLimit, inflate: false, strict: false, type: 'application/json' });
  const groups = new Map<string, RegisteredRoute[]>();
  for (const route of routes) {
    const shape = pathShape(route.path);
    groups.set(shape, [...(groups.get(shape) ?? []), route]);
  }
  // Literal segments before parameters, so `/v1/realms/current` is tried before `/v1/realms/{realmId}`.
  const shapes = [...groups.keys()].sort(compareShapes);
  for (const shape of shapes) {
    const expressRoute = router.route(expressPath(shape));
    for (const route of groups.get(shape) ?? []) {
      const handlers = [(req: Request, _res: Response, next: NextFunction) => {
        const state = stateOf(req);
        state.label = route.path;
        state.route = route;
        next();
      }];
      if (route.body !== undefined) handlers.push(requireJson, parseJson);
      expressRoute[route.method.toLowerCase() as 'get'](...handlers, runRoute(route));
    }
  }
  app.use(router);

  app.use((req: Request, res: Response) => {
    const allowed = allowedMethods(shapes, groups, req.path);
    if (allowed.length === 0) {
      sendProblem(req, res, new HttpProblem({ status: 404, code: 'NOT_FOUND', detail: 'No route has this path' }));
      return;
    }
    stateOf(req).label = allowed[0]?.label ?? UNMATCHED_ROUTE;
    const methods = [...new Set(allowed.flatMap(({ method }) => (method === 'GET' ? ['GET', 'HEAD'] : [method])))];
    sendProblem(req, res, new HttpProblem({ status: 405, code: 'METHOD_NOT_ALLOWED', detail: `Allowed: ${methods.join(', ')}`, headers: { allow: methods.join(', ') } }));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const state = stateOf(req);
    const problem = toProblem(err, state.route?.errorMapper, options.errorMapper);
    if (problem.status >= 500) state.log.error({ err }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(req, res, problem);
  });

  const listen = async (listenOptions: ListenOptions = {}): Promise<ListeningHttpServer> => {
    const server = createServer({ requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.max(50, Math.min(5_000, Math.floor(requestTimeoutMs / 2))) }, app);
    // Node's default keep-alive (5 s) races clients that reuse an idle socket just as the server
    // drops it: an event-loop stall of a second or two (a synchronous fsync, a GC pause) turns that
    // into ECONNRESET on a request that never reached the server. Idle connections are cheap here
    // and are closed on shutdown, so keep them well beyond any client's reuse window.
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    // Only requests in progress are timed (an idle keep-alive connection is not), so the headers
    // limit can be the request limit: the keep-alive timeout above governs idle connections.
    server.headersTimeout = Math.min(KEEP_ALIVE_TIMEOUT_MS + 1_000, requestTimeoutMs);
    let inFlight = 0;
    let closing: Promise<void> | undefined;
    server.on('request', (_req: IncomingMessage, res) => {
      inFlight += 1;
      if (closing !== undefined) res.setHeader('connection', 'close');
      res.on('close', () => {
        inFlight -= 1;
        // A finished response leaves its keep-alive connection idle; while closing, drop it.
        if (closing !== undefined) setImmediate(() => server.closeIdleConnections());
      });
    });
    const host = listenOptions.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenOptions.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const urlHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
    return {
      url: `http://${urlHost}:${port}`,
      port,
      host,
      server,
      close(closeOptions = {}) {
        closing ??= new Promise<void>((resolve, reject) => {
          draining = true;
          const timeout = setTimeout(() => {
            logger.warn({ inFlight }, 'shutdown timeout: closing connections with requests in flight');
            server.closeAllConnections();
          }, closeOptions.timeoutMs ?? shutdownTimeoutMs);
          server.close((err) => {
            clearTimeout(timeout);
            if (err !== undefined) reject(err);
            else resolve();
          });
          server.closeIdleConnections();
        });
        return closing;
      },
    };
  };

  return { app, registry: metrics.registry, logger, openapi, listen };
}

function stateOf(req: IncomingMessage): RequestState {
  const state = states.get(req);
  if (state === undefined) throw new Error('request did not pass through the @milagro/http middleware');
  return state;
}

function runRoute(route: RegisteredRoute) {
  return async (req: Request, res: Response): Promise<void> => {
    const state = stateOf(req);
    const errors: ValidationError[] = [];
    const named: Record<string, string> = {};
    route.parameterNames.forEach((name, index) => {
      named[name] = req.params[`p${index}`] as string;
    });
    const params = validate(route.params, named, 'params', errors);
    const query = validate(route.query, route.query === undefined ? {} : req.query, 'query', errors);
    const body = route.body === undefined ? undefined : validate(route.body, req.body, 'body', errors);
    if (errors.length > 0) {
      throw new HttpProblem({ status: 400, code: 'INVALID_REQUEST', detail: 'The request failed validation', extensions: { errors } });
    }
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const result = await route.handler({ params, query, body, request: req, log: state.log, requestId: state.id, signal: controller.signal });
    sendResult(res, result);
  };
}

function validate(schema: z.ZodType | undefined, input: unknown, location: 'params' | 'query' | 'body', errors: ValidationError[]): never {
  if (schema === undefined) return {} as never;
  const unstorable = unstorableStrings(input, location);
  if (unstorable.length > 0) {
    errors.push(...unstorable);
    return undefined as never;
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data as never;
  errors.push(...validationErrors(location, parsed.error, input));
  return undefined as never;
}

/** A lone surrogate (in a `u` regex only an unpaired one is a `Cs` code point) or NUL. */
// eslint-disable-next-line no-control-regex
const UNSTORABLE_TEXT = /[\p{Cs}\u0000]/u;

/**
 * Whether `input` holds a string (value or key) that is not well-formed Unicode or contains NUL.
 * JSON can carry them (`"\ud800"`, `"\u0000"`) but no Milagro API means them, and storage, logs
 * and other languages' decoders each treat them differently, so every route refuses them before
 * its schema runs. The error names only the location: keys are the client's and may be secrets.
 */
function unstorableStrings(input: unknown, location: string): ValidationError[] {
  const bad = (value: unknown, depth: number): boolean => {
    if (typeof value === 'string') return UNSTORABLE_TEXT.test(value);
    if (depth > 512 || value === null || typeof value !== 'object') return false;
    if (Array.isArray(value)) return value.some((item) => bad(item, depth + 1));
    return Object.entries(value).some(([key, item]) => UNSTORABLE_TEXT.test(key) || bad(item, depth + 1));
  };
  return bad(input, 0) ? [{ path: location, message: 'holds a string or key that is not well-formed Unicode or contains NUL' }] : [];
}

function sendResult(res: Response, result: RouteResult): void {
  if (result === null || typeof result !== 'object' || !Number.isInteger(result.status) || result.status < 100 || result.status > 599) {
    throw new Error('route handler returned no valid { status }');
  }
  if (result.headers !== undefined) res.set(result.headers);
  res.status(result.status);
  if (result.body === undefined || result.status === 204 || result.status === 304) res.end();
  else res.json(result.body);
}

function sendProblem(req: Request, res: Response, problem: HttpProblem): void {
  const state = stateOf(req);
  state.problemCode = problem.code;
  res.status(problem.status).set(problem.headers).type(PROBLEM_MEDIA_TYPE).json({ ...problem.toJSON(), requestId: state.id });
}

/** Errors raised by Express and its body parser carry `type` (body parser) or `status` (router). */
interface TransportError {
  status?: unknown;
  type?: unknown;
  expose?: unknown;
}

function toProblem(err: unknown, routeMapper: ErrorMapper | undefined, serverMapper: ErrorMapper | undefined): HttpProblem {
  if (err instanceof HttpProblem) return err;
  const transport = transportProblem(err);
  if (transport !== undefined) return transport;
  for (const mapper of [routeMapper, serverMapper]) {
    const mapped = mapper?.(err);
    if (mapped !== undefined) return mapped;
  }
  return new HttpProblem({ status: 500, code: 'INTERNAL_ERROR', detail: 'An unexpected error occurred; the server log has the details under this request id' });
}

function transportProblem(err: unknown): HttpProblem | undefined {
  // The router reports undecodable path parameters as a URIError with status 400 (its message holds the raw value).
  if (err instanceof URIError && (err as TransportError).status === 400) return new HttpProblem({ status: 400, code: 'INVALID_REQUEST', detail: 'A path parameter is not valid percent-encoding' });
  if (err === null || typeof err !== 'object' || (err as TransportError).expose !== true) return undefined;
  const { status, type } = err as TransportError;
  if (type === 'entity.parse.failed') return new HttpProblem({ status: 400, code: 'MALFORMED_JSON', detail: 'The body is not well-formed JSON' });
  if (type === 'entity.too.large') return new HttpProblem({ status: 413, code: 'CONTENT_TOO_LARGE', detail: 'The body exceeds the size limit', headers: { connection: 'close' } });
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new HttpProblem({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', detail: 'The body must be UTF-8 application/json without content encoding' });
  }
  if (status === 400) return new HttpProblem({ status: 400, code: 'INVALID_REQUEST', detail: 'The request is malformed' });
  return undefined;
}

function jsonBodyGuard() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const length = req.headers['content-length'];
    const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    if (hasBody && req.is('application/json') !== 'application/json') {
      next(new HttpProblem({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', detail: 'The body must be application/json' }));
      return;
    }
    next();
  };
}

function expressPath(shape: string): string {
  let index = 0;
  return shape.replaceAll('{}', () => `:p${index++}`);
}

function compareShapes(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    const x = left[i] as string;
    const y = right[i] as string;
    if (x === y) continue;
    if (x === '{}') return 1;
    if (y === '{}') return -1;
    return x < y ? -1 : 1;
  }
  return left.length - right.length;
}

function allowedMethods(shapes: readonly string[], groups: ReadonlyMap<string, RegisteredRoute[]>, path: string): Array<{ method: string; label: string }> {
  const segments = path.split('/').slice(1);
  const found: Array<{ method: string; label: string }> = [];
  for (const shape of shapes) {
    const template = parsePathTemplate(shape.replaceAll('{}', '{p}'));
    if (template.length !== segments.length) continue;
    if (!template.every((part, i) => (typeof part === 'string' ? part === segments[i] : (segments[i] ?? '') !== ''))) continue;
    for (const route of groups.get(shape) ?? []) found.push({ method: route.method, label: route.path });
  }
  return found;
}

function normalizeChecks(ready: HttpServerOptions['ready']): Array<[string, ReadinessCheck]> {
  if (ready === undefined) return [];
  if (typeof ready === 'function') return [['ready', ready]];
  return Object.entries(ready);
}

async function failingChecks(checks: ReadonlyArray<[string, ReadinessCheck]>, log: Logger): Promise<string[]> {
  const results = await Promise.all(
    checks.map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), READY_CHECK_TIMEOUT_MS);
        });
        return (await Promise.race([Promise.resolve(check()), timeout])) === true ? undefined : name;
      } catch (err) {
        log.warn({ err, check: name }, 'readiness check failed');
        return name;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return results.filter((name): name is string => name !== undefined);
}
