import { z } from 'zod';
import { PROBLEM_MEDIA_TYPE } from './constants.js';
import { HttpKitError } from './errors.js';
import type { HttpApi, RegisteredRoute } from './http-api.js';
import { problemDocumentSchema } from './problem.js';

/** The `info` object of the generated document. */
export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** A JSON Schema (draft 2020-12) object as placed in the document. */
export type JsonSchema = Record<string, unknown>;

/** The generated OpenAPI 3.1 document (plain JSON). */
export interface OpenApiDocument {
  openapi: '3.1.0';
  jsonSchemaDialect: string;
  info: OpenApiInfo;
  tags?: Array<{ name: string }>;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema> };
}

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };

/**
 * Builds the OpenAPI 3.1 document of the given APIs from the same zod schemas that validate their
 * requests (`z.toJSONSchema`, draft 2020-12). Schemas given an id with `.meta({ id: 'Grant' })` become
 * `#/components/schemas/Grant`; all others are inlined. Request schemas are converted as input types,
 * responses as output types. `createHttpServer` serves the result at `/openapi.json`; call this
 * directly to write the document to a file.
 */
export function buildOpenApiDocument(apis: readonly HttpApi[], info: OpenApiInfo, options: { operational?: boolean } = {}): OpenApiDocument {
  const schemas = new ComponentSchemas();
  schemas.components.Problem = schemas.convert(problemDocumentSchema, 'output');
  const paths: OpenApiDocument['paths'] = {};
  const tags = new Set<string>();
  for (const route of apis.flatMap((api) => api.routes)) {
    route.tags.forEach((tag) => tags.add(tag));
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, schemas);
  }
  if (options.operational !== false) {
    Object.assign(paths, operationalPaths());
    tags.add('operations');
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: DIALECT,
    info: { ...info },
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: { schemas: schemas.components },
  };
}

function operation(route: RegisteredRoute, schemas: ComponentSchemas): Record<string, unknown> {
  const op: Record<string, unknown> = { operationId: route.operationId, summary: route.summary };
  if (route.description !== undefined) op.description = route.description;
  if (route.tags.length > 0) op.tags = [...route.tags];
  if (route.deprecated) op.deprecated = true;
  const parameters = [...parametersOf(route.params, 'path', schemas), ...parametersOf(route.query, 'query', schemas)];
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body !== undefined) {
    op.requestBody = { required: !route.body.safeParse(undefined).success, content: { 'application/json': { schema: schemas.convert(route.body, 'input') } } };
  }
  const responses: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    const response: Record<string, unknown> = { description: spec.description };
    if (spec.schema !== undefined) response.content = { 'application/json': { schema: schemas.convert(spec.schema, 'output') } };
    else if (Number(status) >= 400) response.content = { [PROBLEM_MEDIA_TYPE]: { schema: PROBLEM_REF } };
    responses[status] = response;
  }
  const problem = (description: string) => ({ description, content: { [PROBLEM_MEDIA_TYPE]: { schema: PROBLEM_REF } } });
  if (parameters.length > 0 || route.body !== undefined) responses['400'] ??= problem('INVALID_REQUEST or MALFORMED_JSON: the request failed validation');
  if (route.body !== undefined) {
    responses['413'] ??= problem('CONTENT_TOO_LARGE: the body exceeds the server limit');
    responses['415'] ??= problem('UNSUPPORTED_MEDIA_TYPE: the body must be application/json');
  }
  responses['500'] ??= problem('INTERNAL_ERROR: unexpected failure (details are in the server log under the request id)');
  op.responses = responses;
  return op;
}

function parametersOf(schema: z.ZodObject | undefined, location: 'path' | 'query', schemas: ComponentSchemas): unknown[] {
  if (schema === undefined) return [];
  const json = schemas.convert(schema, 'input', { inlineRoot: true });
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const parameter: Record<string, unknown> = { name, in: location, required: location === 'path' || required.has(name), schema: property };
    if (typeof property.description === 'string') parameter.description = property.description;
    return parameter;
  });
}

/** Collects schemas with ids into `components.schemas`, renaming on conflicts (input vs output shapes). */
class ComponentSchemas {
  readonly components: Record<string, JsonSchema> = {};

  /** Converts `schema`; with `inlineRoot`, a root that has an id is returned itself rather than as a `$ref`. */
  convert(schema: z.ZodType, io: 'input' | 'output', options: { inlineRoot?: boolean } = {}): JsonSchema {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    delete json.$defs;
    delete json.$schema;
    let root = json;
    // zod hoists a root that has an id into $defs and answers `{ $ref }`.
    const rootRef = typeof json.$ref === 'string' && json.$ref.startsWith('#/$defs/') ? json.$ref.slice('#/$defs/'.length) : undefined;
    if (options.inlineRoot === true && rootRef !== undefined && defs[rootRef] !== undefined) {
      root = defs[rootRef];
      delete defs[rootRef];
    }
    const names = new Map<string, string>();
    for (const id of Object.keys(defs)) names.set(id, id);
    for (const [id, def] of Object.entries(defs)) names.set(id, this.#nameFor(id, rewriteRefs(def, names), io));
    for (const [id, def] of Object.entries(defs)) this.components[names.get(id) as string] = rewriteRefs(def, names);
    return rewriteRefs(root, names);
  }

  /** The component name for `id`: `id` itself unless a different schema has it (input and output shapes differ). */
  #nameFor(id: string, json: JsonSchema, io: 'input' | 'output'): string {
    const candidates = [id, `${id}${io === 'input' ? 'Input' : 'Output'}`];
    for (let n = 2; n < 1000; n += 1) candidates.push(`${id}${n}`);
    const text = JSON.stringify(json);
    const name = candidates.find((candidate) => {
      const existing = this.components[candidate];
      return existing === undefined || JSON.stringify(existing) === text;
    });
    if (name === undefined) throw new HttpKitError('INVALID_ROUTE', `too many different schemas share the id ${id}`);
    return name;
  }
}

function rewriteRefs(json: JsonSchema, names: ReadonlyMap<string, string>): JsonSchema {
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk);
    if (value === null || typeof value !== 'object') return value;
    const out: JsonSchema = {};
    for (const [key, member] of Object.entries(value)) {
      if (key === '$ref' && typeof member === 'string' && member.startsWith('#/$defs/')) {
        const id = member.slice('#/$defs/'.length);
        out[key] = `#/components/schemas/${names.get(id) ?? id}`;
      } else out[key] = walk(member);
    }
    return out;
  };
  return walk(json) as JsonSchema;
}

function operationalPaths(): OpenApiDocument['paths'] {
  const problem = { content: { [PROBLEM_MEDIA_TYPE]: { schema: PROBLEM_REF } } };
  const status = { type: 'object', properties: { status: { type: 'string', const: 'ok' } }, required: ['status'] };
  return {
    '/healthz': {
      get: {
        operationId: 'getLiveness', summary: 'Liveness: the process serves requests', tags: ['operations'],
        responses: { '200': { description: 'alive', content: { 'application/json': { schema: status } } } },
      },
    },
    '/readyz': {
      get: {
        operationId: 'getReadiness', summary: 'Readiness: every readiness check passes and the server is not shutting down', tags: ['operations'],
        responses: {
          '200': { description: 'ready', content: { 'application/json': { schema: status } } },
          '503': { description: 'NOT_READY: `checks` names the failing checks', ...problem },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics', summary: 'Prometheus metrics', tags: ['operations'],
        responses: { '200': { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument', summary: 'This document', tags: ['operations'],
        responses: { '200': { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
  };
}
