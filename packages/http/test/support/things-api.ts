import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { z } from 'zod';
import { HttpApi, HttpProblem } from '../../src/index.js';

/** A domain error of the kind a role package throws (like DtaError). */
export class ThingError extends Error {
  constructor(readonly code: 'THING_EXISTS' | 'THING_LOCKED') {
    super(code);
  }
}

export const Thing = z.object({ id: z.string(), secret: z.string(), count: z.number().int() }).meta({ id: 'Thing' });

/** What the routes saw, so tests can check the handler ran (or did not). */
export interface ThingsCalls {
  created: Array<z.output<typeof Thing>>;
}

/** A small API exercising params, query, body, mapped errors and crashes. */
export function thingsApi(calls: ThingsCalls = { created: [] }): HttpApi {
  const api = new HttpApi({
    tags: ['things'],
    errorMapper: (err) => (err instanceof ThingError ? new HttpProblem({ status: 409, code: err.code, detail: 'That thing cannot change now' }) : undefined),
  });
  api.route({
    method: 'POST',
    path: '/v1/realms/{realmId}/things',
    operationId: 'createThing',
    summary: 'Create a thing',
    params: z.object({ realmId: z.string().regex(/^[a-z0-9-]{3,32}$/).describe('realm identifier') }),
    query: z.object({ dryRun: z.enum(['true', 'false']).optional() }),
    body: z.object({ id: z.string().min(3).max(64), secret: z.string().length(32), count: z.number().int().min(0) }).strict(),
    responses: {
      201: { description: 'created', schema: Thing },
      409: { description: 'THING_EXISTS: a thing with this id exists' },
    },
    handler: ({ params, query, body }) => {
      if (body.id === 'existing') throw new ThingError('THING_EXISTS');
      if (body.id === 'crash') throw new Error('database at /var/lib/secret-path refused the write');
      if (query.dryRun !== 'true') calls.created.push(body);
      return { status: 201, body: { ...body, id: `${params.realmId}/${body.id}` }, headers: { location: `/v1/realms/${params.realmId}/things/${body.id}` } };
    },
  });
  api.route({
    method: 'GET',
    path: '/v1/realms/{realmId}/things/{thingId}',
    operationId: 'getThing',
    summary: 'Read a thing',
    params: z.object({ realmId: z.string(), thingId: z.string() }),
    responses: { 200: { description: 'the thing', schema: Thing }, 404: { description: 'no such thing' } },
    handler: ({ params }) => {
      if (params.thingId === 'missing') throw new HttpProblem({ status: 404, code: 'THING_NOT_FOUND' });
      return { status: 200, body: { id: params.thingId, secret: 's', count: 1 } };
    },
  });
  api.route({
    method: 'DELETE',
    path: '/v1/realms/{realmId}/things/{thingId}',
    operationId: 'deleteThing',
    summary: 'Delete a thing',
    params: z.object({ realmId: z.string(), thingId: z.string() }),
    responses: { 204: { description: 'deleted' } },
    handler: ({ params }) => {
      if (params.thingId === 'locked') throw new ThingError('THING_LOCKED');
      return { status: 204 };
    },
  });
  return api;
}

/** A pino logger writing into an array, to check what the kit logs. */
export function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>>; text: () => string } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  return {
    logger,
    get lines() {
      return raw.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    text: () => raw.join(''),
  };
}

export const SECRET = 'k'.repeat(8) + 'TOPSECRET-VALUE-' + 'z'.repeat(8);
