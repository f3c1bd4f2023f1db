/**
 * @packageDocumentation
 * The HTTP kit every Milagro role server (D-TA, ZKP MFA, custody) mounts its routes on: Express 5
 * routes whose params, query and JSON body are validated by zod before the handler runs; the OpenAPI
 * 3.1 document generated from the same schemas; errors as RFC 9457 problem documents with stable
 * codes; `/healthz`, `/readyz`, Prometheus `/metrics`; pino request logs that never contain bodies,
 * query strings or credentials; graceful shutdown.
 *
 * ```ts
 * import { z } from 'zod';
 * import { HttpApi, HttpProblem, createHttpServer } from '@milagro/http';
 *
 * const api = new HttpApi();
 * api.route({
 *   method: 'GET', path: '/v1/greetings/{name}', operationId: 'getGreeting', summary: 'Greet someone',
 *   params: z.object({ name: z.string().min(1).max(64) }),
 *   responses: { 200: { description: 'the greeting', schema: z.object({ text: z.string() }) } },
 *   handler: ({ params }) => ({ status: 200, body: { text: `hello ${params.name}` } }),
 * });
 * const server = createHttpServer({ apis: [api], info: { title: 'Greeter', version: '1.0.0' } });
 * const listening = await server.listen({ port: 8080 });
 * // ... later
 * await listening.close(); // waits for in-flight requests
 * ```
 */
export { HttpKitError, isHttpKitError, type HttpKitErrorCode } from './errors.js';
export { HttpProblem, isHttpProblem, problemType, problemDocumentSchema, type HttpProblemCode, type HttpProblemOptions, type ProblemDocument } from './problem.js';
export {
  HttpApi,
  type ErrorMapper,
  type HttpApiOptions,
  type HttpMethod,
  type ParameterSchema,
  type RegisteredRoute,
  type ResponseSpec,
  type RouteContext,
  type RouteResult,
  type RouteSpec,
} from './http-api.js';
export { buildOpenApiDocument, type JsonSchema, type OpenApiDocument, type OpenApiInfo } from './openapi.js';
export {
  createHttpServer,
  type HttpServer,
  type CorsOptions,
  type HttpServerOptions,
  type ListenOptions,
  type ListeningHttpServer,
  type ReadinessCheck,
} from './http-server.js';
export type { HttpMetricsOptions } from './http-metrics.js';
export type { ValidationError } from './validation.js';
export { DEFAULT_BODY_LIMIT, PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE } from './constants.js';
