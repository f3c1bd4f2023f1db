/**
 * Schema-aware hostile requests for every operation of an OpenAPI 3.1 document (as
 * `@milagro/http` serves it at `/openapi.json`), as fast-check arbitraries.
 *
 * Most requests follow the operation's schemas closely enough to pass validation and reach the
 * handler (that is where crashes hide); the rest break them on purpose: one field replaced by a
 * hostile value, a hostile body, junk path parameters, the wrong media type, a body of raw bytes.
 * Used by the fuzz tests beside each server and by `npm run fuzz` for long runs.
 */
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Schema = Record<string, unknown>;

/** The parts of an OpenAPI document the generator reads. */
export interface OpenApiLike {
  readonly paths: Record<string, Record<string, unknown>>;
  readonly components?: { readonly schemas?: Record<string, Schema> };
}

/** One request: method, path with its query, headers and body. */
export interface FuzzRequest {
  readonly operation: string;
  readonly method: string;
  /** Path and query, starting with `/`. */
  readonly target: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array<ArrayBuffer>;
}

export interface RequestOptions {
  /** Bearer tokens a request may carry (e.g. the operator token), so admin routes validate their input too. */
  readonly bearers?: readonly string[];
  /**
   * Known-good values by property or parameter name (a realm that exists, an identity the server
   * knows, a point on the curve), offered beside schema-made ones so requests get past lookups.
   */
  readonly hints?: Readonly<Record<string, readonly Json[]>>;
  /** Operations to leave out (by operationId or `METHOD /path`). */
  readonly exclude?: readonly string[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const MAX_DEPTH = 6;

/** Strings that have broken parsers, routers and databases elsewhere. */
const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  '../../../../etc/passwd',
  '%2e%2e%2f',
  "' OR 1=1 --",
  '"; DROP TABLE sessions; --',
  '{{blob}}',
  '?',
  '__proto__',
  'constructor',
  'bafy' + 'a'.repeat(200),
  'A'.repeat(10_000),
  '\u202e\u0301\ufeff',
  '0x' + 'f'.repeat(96),
  'NaN',
  '-0',
  '1e309',
];

/** A hostile JSON value: wrong types, prototype keys, extreme numbers, deep nesting, long strings. */
export const hostileJson: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 2 ** 53, -(2 ** 63), 1e308, -1e-308, [], {}, ...HOSTILE_STRINGS),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.constant(JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}') as Json),
  fc.integer({ min: 1, max: 400 }).map((depth) => nest(depth)),
  fc.array(fc.constant<Json>(0), { minLength: 1000, maxLength: 3000 }),
);

/** Percent-encodes the UTF-8 bytes of `text` (lone surrogates become U+FFFD, as a browser sends them). */
function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function nest(depth: number): Json {
  let value: Json = 1;
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

/** Arbitrary requests over every operation of `document`. */
export function requestArbitrary(document: OpenApiLike, options: RequestOptions = {}): fc.Arbitrary<FuzzRequest> {
  const operations = listOperations(document).filter((op) => !(options.exclude ?? []).some((x) => x === op.id || x === `${op.method.toUpperCase()} ${op.path}`));
  if (operations.length === 0) throw new Error('the document has no operations to fuzz');
  const generator = new SchemaArbitraries(document, options.hints ?? {});
  return fc.oneof(...operations.map((op) => operationArbitrary(op, generator, options)));
}

interface Operation {
  readonly id: string;
  readonly method: string;
  readonly path: string;
  readonly pathParameters: ReadonlyArray<{ name: string; schema: Schema }>;
  readonly queryParameters: ReadonlyArray<{ name: string; schema: Schema; required: boolean }>;
  readonly body: Schema | undefined;
}

/** Every operation of the document, in document order. */
export function listOperations(document: OpenApiLike): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const op = item[method] as Schema | undefined;
      if (op === undefined) continue;
      const parameters = (op.parameters ?? []) as Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
      const requestBody = op.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined;
      operations.push({
        id: typeof op.operationId === 'string' ? op.operationId : `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParameters: parameters.filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        queryParameters: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {}, required: p.required === true })),
        body: requestBody?.content?.['application/json']?.schema ?? (requestBody === undefined ? undefined : {}),
      });
    }
  }
  return operations;
}

function operationArbitrary(op: Operation, generator: SchemaArbitraries, options: RequestOptions): fc.Arbitrary<FuzzRequest> {
  const pathValue = (name: string, schema: Schema): fc.Arbitrary<string> =>
    fc.oneof(
      { weight: 4, arbitrary: generator.named(name, schema, 0).map((v) => percentEncode(typeof v === 'string' ? v : JSON.stringify(v))) },
      { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS).map(percentEncode) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map(percentEncode) },
      { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%00', '..', '.', '%2F', '%C0%AF', 'a%ffb') },
    );
  const pathArb = fc.tuple(...op.pathParameters.map((p) => pathValue(p.name, p.schema))).map((values) => {
    let path = op.path;
    op.pathParameters.forEach((p, i) => (path = path.replace(`{${p.name}}`, values[i] as string)));
    return path;
  });
  const queryArb = fc
    .tuple(
      ...op.queryParameters.map((p) =>
        fc.option(
          fc.oneof(
            { weight: 4, arbitrary: generator.named(p.name, p.schema, 0).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) },
            { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
          ),
          { freq: p.required ? 10 : 3 },
        ),
      ),
    )
    .map((values) => {
      const query = new URLSearchParams();
      op.queryParameters.forEach((p, i) => values[i] !== null && values[i] !== undefined && query.append(p.name, values[i] as string));
      const text = query.toString();
      return text === '' ? '' : `?${text}`;
    });
  const bodyArb: fc.Arbitrary<{ body?: string | Uint8Array<ArrayBuffer>; type?: string }> =
    op.body === undefined
      ? fc.constant({})
      : fc.oneof(
          { weight: 6, arbitrary: generator.valid(op.body, 0).map((v) => ({ body: JSON.stringify(v), type: 'application/json' })) },
          { weight: 3, arbitrary: generator.mutated(op.body).map((v) => ({ body: JSON.stringify(v), type: 'application/json' })) },
          { weight: 1, arbitrary: hostileJson.map((v) => ({ body: JSON.stringify(v), type: 'application/json' })) },
          {
            weight: 1,
            arbitrary: fc.oneof(
              fc.uint8Array({ maxLength: 512 }).map((b) => ({ body: new Uint8Array(b), type: 'application/json' })),
              fc.constantFrom('{', '[1,', '{"a":}', 'null', '""', '\u0000', '{"a":1}{"b":2}').map((body) => ({ body, type: 'application/json' })),
              generator.valid(op.body, 0).map((v) => ({ body: JSON.stringify(v), type: 'text/plain' })),
              generator.valid(op.body, 0).map((v) => ({ body: JSON.stringify(v), type: 'application/json; charset=latin1' })),
            ),
          },
        );
  const bearers = options.bearers ?? [];
  const authArb = fc.oneof(
    fc.constant<string | undefined>(undefined),
    ...(bearers.length > 0 ? [fc.constantFrom(...bearers).map((t) => `Bearer ${t}`)] : []),
    fc.constantFrom('Bearer ', 'Bearer x', 'Basic YTpi', 'Bearer ' + 'A'.repeat(5000), 'bearer\t\t'),
  );
  return fc.record({ path: pathArb, query: queryArb, body: bodyArb, auth: authArb }).map(({ path, query, body, auth }) => {
    const headers: Record<string, string> = {};
    if (body.type !== undefined) headers['content-type'] = body.type;
    if (auth !== undefined) headers.authorization = auth;
    return { operation: op.id, method: op.method, target: `${path}${query}`, headers, ...(body.body === undefined ? {} : { body: body.body }) };
  });
}

/** Arbitraries for JSON Schema (draft 2020-12 as zod emits it). */
class SchemaArbitraries {
  readonly #components: Record<string, Schema>;
  readonly #hints: Readonly<Record<string, readonly Json[]>>;

  constructor(document: OpenApiLike, hints: Readonly<Record<string, readonly Json[]>>) {
    this.#components = document.components?.schemas ?? {};
    this.#hints = hints;
  }

  /** `valid(schema)` for a property or parameter called `name`, or one of the hints for that name. */
  named(name: string, schema: Schema, depth: number): fc.Arbitrary<Json> {
    const hints = this.#hints[name];
    const made = this.valid(schema, depth);
    return hints === undefined || hints.length === 0 ? made : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...hints) }, { weight: 1, arbitrary: made });
  }

  /** Values that satisfy `schema` in the common cases (patterns, formats, bounds, required keys). */
  valid(schema: Schema, depth: number): fc.Arbitrary<Json> {
    if (depth > MAX_DEPTH) return fc.constant(null);
    const ref = schema.$ref;
    if (typeof ref === 'string') {
      const target = this.#components[ref.replace('#/components/schemas/', '')];
      return target === undefined ? fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> : this.valid(target, depth + 1);
    }
    if ('const' in schema) return fc.constant(schema.const as Json);
    if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as Json[]));
    for (const key of ['anyOf', 'oneOf'] as const) {
      const options = schema[key];
      if (Array.isArray(options) && options.length > 0) return fc.oneof(...options.map((s) => this.valid(s as Schema, depth + 1)));
    }
    if (Array.isArray(schema.allOf) && schema.allOf.length > 0) return this.valid(schema.allOf[0] as Schema, depth + 1);
    const type = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
    if (type.length > 1) return fc.oneof(...type.map((t) => this.valid({ ...schema, type: t }, depth)));
    switch (type[0]) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'integer':
        return integerArb(schema);
      case 'number':
        return fc.oneof(integerArb(schema), fc.double({ noNaN: true, noDefaultInfinity: true, ...bounds(schema) }));
      case 'string':
        return stringArb(schema);
      case 'array': {
        const items = (schema.items ?? {}) as Schema;
        const minLength = typeof schema.minItems === 'number' ? schema.minItems : 0;
        const maxLength = Math.max(minLength, Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 6, minLength + 6));
        return fc.array(this.valid(items, depth + 1), { minLength, maxLength });
      }
      case 'object':
        return this.#object(schema, depth);
      default:
        return schema.properties !== undefined ? this.#object(schema, depth) : (fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>);
    }
  }

  /** A valid value with one field (at any depth of objects) replaced by a hostile value. */
  mutated(schema: Schema): fc.Arbitrary<Json> {
    return fc.tuple(this.valid(schema, 0), hostileJson, fc.nat()).map(([value, hostile, pick]) => replaceOneField(value, hostile, pick));
  }

  #object(schema: Schema, depth: number): fc.Arbitrary<Json> {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    const required = new Set((schema.required ?? []) as string[]);
    const model: Record<string, fc.Arbitrary<Json>> = {};
    for (const [name, property] of Object.entries(properties)) model[name] = this.named(name, property, depth + 1);
    const record = fc.record(model, { requiredKeys: Object.keys(model).filter((k) => required.has(k)) }) as fc.Arbitrary<Record<string, Json>>;
    // An unknown key now and then (strict schemas must refuse it, loose ones ignore it).
    const extraKey = fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('extra', '__proto__', 'constructor', ''), hostileJson) });
    return fc.tuple(record, extraKey).map(([value, extra]) => {
      if (extra === null) return value;
      const copy: Record<string, Json> = { ...value };
      Object.defineProperty(copy, extra[0], { value: extra[1], enumerable: true, writable: true, configurable: true });
      return copy;
    });
  }
}

function bounds(schema: Schema): { min?: number; max?: number } {
  const out: { min?: number; max?: number } = {};
  if (typeof schema.minimum === 'number') out.min = schema.minimum;
  if (typeof schema.exclusiveMinimum === 'number') out.min = schema.exclusiveMinimum + 1;
  if (typeof schema.maximum === 'number') out.max = schema.maximum;
  if (typeof schema.exclusiveMaximum === 'number') out.max = schema.exclusiveMaximum - 1;
  return out;
}

function integerArb(schema: Schema): fc.Arbitrary<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = bounds(schema);
  const lo = Math.max(Math.ceil(min), Number.MIN_SAFE_INTEGER);
  const hi = Math.min(Math.floor(max), Number.MAX_SAFE_INTEGER);
  if (lo > hi) return fc.constant(lo);
  return fc.oneof(fc.integer({ min: lo, max: hi }), fc.constantFrom(lo, hi));
}

const FORMATS: Record<string, () => fc.Arbitrary<string>> = {
  'date-time': () => fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  date: () => fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  email: () => fc.emailAddress(),
  uri: () => fc.webUrl(),
  url: () => fc.webUrl(),
  uuid: () => fc.uuid(),
};

/** A pattern over the base64url alphabet only (how the servers' byte fields are declared). */
const BASE64URL_PATTERN = /^\^\[(A-Za-z0-9_-|A-Za-z0-9\\-_|A-Za-z0-9-_|\\w-)\][*+](\{[0-9,]*\})?\$$/;

function stringArb(schema: Schema): fc.Arbitrary<string> {
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : undefined;
  const fits = (s: string): boolean => s.length >= minLength && (maxLength === undefined || s.length <= maxLength);
  if (typeof schema.pattern === 'string' && BASE64URL_PATTERN.test(schema.pattern)) {
    // Canonical unpadded base64url of random bytes, sized to the limits (in characters).
    const maxChars = maxLength ?? 200;
    return fc
      .oneof(fc.integer({ min: Math.ceil((minLength * 3) / 4), max: Math.floor((maxChars * 3) / 4) }), fc.constantFrom(16, 32, 48, 96, 1216))
      .chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))
      .map((b) => Buffer.from(b).toString('base64url'));
  }
  if (typeof schema.pattern === 'string') {
    let pattern: RegExp | undefined;
    try {
      pattern = new RegExp(schema.pattern, 'u');
    } catch {
      pattern = undefined;
    }
    if (pattern !== undefined) {
      const matching = fc.stringMatching(pattern);
      // Patterns with bounded repetition fit the length limits themselves; others may not, and
      // then the request is a (still useful) invalid one.
      return matching.map((s) => (fits(s) ? s : s.slice(0, maxLength ?? s.length)));
    }
  }
  const format = typeof schema.format === 'string' ? FORMATS[schema.format] : undefined;
  if (format !== undefined) return format();
  if (schema.contentEncoding === 'base64' || /base64/i.test(String(schema.description ?? ''))) {
    return fc.uint8Array({ minLength: 0, maxLength: 96 }).map((b) => Buffer.from(b).toString('base64url'));
  }
  const cap = maxLength === undefined ? minLength + 40 : Math.min(maxLength, minLength + 200);
  return fc.string({ minLength, maxLength: Math.max(minLength, cap) });
}

function replaceOneField(value: Json, hostile: Json, pick: number): Json {
  const slots: Array<{ parent: Record<string, Json> | Json[]; key: string | number }> = [];
  const walk = (node: Json): void => {
    const children: Array<[string | number, Json]> = Array.isArray(node) ? node.map((child, i) => [i, child]) : node !== null && typeof node === 'object' ? Object.entries(node) : [];
    for (const [key, child] of children) {
      slots.push({ parent: node as Record<string, Json> | Json[], key });
      walk(child);
    }
  };
  const copy = structuredClone(value);
  walk(copy);
  if (slots.length === 0) return hostile;
  const slot = slots[pick % slots.length]!;
  (slot.parent as Record<string | number, Json>)[slot.key] = hostile;
  return copy;
}
