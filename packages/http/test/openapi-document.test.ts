import { z } from 'zod';
import { pino } from 'pino';
import { HttpApi, buildOpenApiDocument, createHttpServer } from '../src/index.js';
import { thingsApi } from './support/things-api.js';

describe('the OpenAPI 3.1 document', () => {
  it('is served at /openapi.json with every route, its parameters, body and responses', async () => {
    const server = createHttpServer({ apis: [thingsApi()], info: { title: 'Things', version: '1.2.3' }, metrics: { defaultMetrics: false }, logger: pino({ level: 'silent' }) });
    const listening = await server.listen();
    try {
      const response = await fetch(`${listening.url}/openapi.json`);
      expect(response.status).toBe(200);
      const doc = await response.json();
      expect(doc).toEqual(server.openapi);
      expect(doc.openapi).toBe('3.1.0');
      expect(doc.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(doc.info).toEqual({ title: 'Things', version: '1.2.3' });
      expect(Object.keys(doc.paths).sort()).toEqual(['/healthz', '/metrics', '/openapi.json', '/readyz', '/v1/realms/{realmId}/things', '/v1/realms/{realmId}/things/{thingId}']);
      expect(Object.keys(doc.paths['/v1/realms/{realmId}/things/{thingId}']).sort()).toEqual(['delete', 'get']);

      const create = doc.paths['/v1/realms/{realmId}/things'].post;
      expect(create).toMatchObject({ operationId: 'createThing', summary: 'Create a thing', tags: ['things'] });
      expect(create.parameters).toEqual([
        { name: 'realmId', in: 'path', required: true, description: 'realm identifier', schema: { type: 'string', pattern: '^[a-z0-9-]{3,32}$', description: 'realm identifier' } },
        { name: 'dryRun', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] } },
      ]);
      expect(create.requestBody).toEqual({
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: {
                id: { type: 'string', minLength: 3, maxLength: 64 },
                secret: { type: 'string', minLength: 32, maxLength: 32 },
                count: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
              },
              required: ['id', 'secret', 'count'],
              additionalProperties: false,
            },
          },
        },
      });
      expect(Object.keys(create.responses).sort()).toEqual(['201', '400', '409', '413', '415', '500']);
      expect(create.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Thing' });
      for (const status of ['400', '409', '413', '415', '500']) {
        expect(create.responses[status].content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
      }
      const remove = doc.paths['/v1/realms/{realmId}/things/{thingId}'].delete;
      expect(remove.requestBody).toBeUndefined();
      expect(remove.responses['204']).toEqual({ description: 'deleted' });

      expect(doc.components.schemas.Thing).toMatchObject({ type: 'object', required: ['id', 'secret', 'count'] });
      expect(doc.components.schemas.Problem).toMatchObject({ type: 'object', required: expect.arrayContaining(['type', 'title', 'status', 'code']) });
      // Every $ref points at a component that exists.
      const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
      for (const ref of refs) {
        const name = /#\/components\/schemas\/([^"]+)"/.exec(ref)?.[1];
        expect(name !== undefined && name in doc.components.schemas).toBe(true);
      }
      const operationIds = Object.values(doc.paths).flatMap((item) => Object.values(item as Record<string, { operationId: string }>).map((op) => op.operationId));
      expect(new Set(operationIds).size).toBe(operationIds.length);
    } finally {
      await listening.close();
    }
  });

  it('keeps input and output shapes of a shared component apart', () => {
    const Amount = z.object({ value: z.coerce.number().default(0) }).meta({ id: 'Amount' });
    const api = new HttpApi().route({
      method: 'PUT',
      path: '/v1/amount',
      operationId: 'putAmount',
      summary: 'Set the amount',
      body: Amount,
      responses: { 200: { description: 'stored', schema: Amount } },
      handler: ({ body }) => ({ status: 200, body }),
    });
    const doc = buildOpenApiDocument([api], { title: 't', version: '1' }, { operational: false });
    const op = doc.paths['/v1/amount']?.put as { requestBody: { content: Record<string, { schema: unknown }> }; responses: Record<string, { content: Record<string, { schema: unknown }> }> };
    const inRef = op.requestBody.content['application/json']?.schema;
    const outRef = op.responses['200']?.content['application/json']?.schema;
    expect(inRef).not.toEqual(outRef);
    expect(Object.keys(doc.components.schemas).sort()).toEqual(['Amount', 'AmountOutput', 'Problem'].sort());
  });
});
