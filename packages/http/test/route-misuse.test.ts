import { z } from 'zod';
import { HttpApi, createHttpServer, isHttpKitError } from '../src/index.js';

const base = { summary: 's', responses: { 204: { description: 'ok' } }, handler: () => ({ status: 204 }) } as const;

describe('misuse of the kit is refused with stable codes', () => {
  it('refuses two routes with the same method and path shape, or the same operationId', () => {
    const api = new HttpApi().route({ ...base, method: 'GET', path: '/v1/things/{id}', operationId: 'a', params: z.object({ id: z.string() }) });
    const clash = () => api.route({ ...base, method: 'GET', path: '/v1/things/{thingId}', operationId: 'b', params: z.object({ thingId: z.string() }) });
    expect(clash).toThrow(expect.objectContaining({ name: 'HttpKitError', code: 'DUPLICATE_ROUTE' }));
    expect(() => api.route({ ...base, method: 'POST', path: '/v1/other', operationId: 'a' })).toThrow(expect.objectContaining({ code: 'DUPLICATE_ROUTE' }));
    // Across APIs merged into one server as well.
    const other = new HttpApi().route({ ...base, method: 'GET', path: '/v1/things/{x}', operationId: 'c', params: z.object({ x: z.string() }) });
    let caught: unknown;
    try {
      createHttpServer({ apis: [api, other] });
    } catch (err) {
      caught = err;
    }
    expect(isHttpKitError(caught, 'DUPLICATE_ROUTE')).toBe(true);
  });

  it('refuses paths, params and operationIds that cannot work', () => {
    const attempts = [
      { method: 'GET', path: '/v1/things/{id}', operationId: 'x' }, // no params schema
      { method: 'GET', path: '/v1/things/{id}', operationId: 'x', params: z.object({ other: z.string() }) },
      { method: 'GET', path: 'v1/things', operationId: 'x' },
      { method: 'GET', path: '/v1/things/:id', operationId: 'x' },
      { method: 'GET', path: '/v1/things/pre{id}', operationId: 'x', params: z.object({ id: z.string() }) },
      { method: 'TRACE', path: '/v1/things', operationId: 'x' },
      { method: 'GET', path: '/v1/things', operationId: 'has space' },
      { method: 'GET', path: '/v1/things', operationId: 'x', params: z.string() },
    ];
    for (const attempt of attempts) {
      expect(() => new HttpApi().route({ ...base, ...attempt } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ROUTE' }));
    }
  });

  it('tries literal segments before parameters, whatever the registration order', async () => {
    const api = new HttpApi()
      .route({ ...base, method: 'GET', path: '/v1/realms/{realmId}', operationId: 'byId', params: z.object({ realmId: z.string() }), handler: () => ({ status: 200, body: 'byId' }) })
      .route({ ...base, method: 'GET', path: '/v1/realms/current', operationId: 'current', handler: () => ({ status: 200, body: 'current' }) });
    const listening = await createHttpServer({ apis: [api], logger: (await import('pino')).pino({ level: 'silent' }) }).listen();
    try {
      expect(await (await fetch(`${listening.url}/v1/realms/current`)).json()).toBe('current');
      expect(await (await fetch(`${listening.url}/v1/realms/r1`)).json()).toBe('byId');
    } finally {
      await listening.close();
    }
  });
});
