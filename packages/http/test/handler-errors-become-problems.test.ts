import { HttpApi, HttpProblem, createHttpServer, type ListeningHttpServer } from '../src/index.js';
import { SECRET, capturingLogger, thingsApi } from './support/things-api.js';

describe('errors thrown by handlers', () => {
  let listening: ListeningHttpServer;
  const log = capturingLogger();

  beforeAll(async () => {
    // A second API whose errors only the server-wide mapper knows.
    const other = new HttpApi().route({
      method: 'POST',
      path: '/v1/other',
      operationId: 'other',
      summary: 'Fails with a server-mapped error',
      responses: { 204: { description: 'never' }, 429: { description: 'SLOW_DOWN' } },
      handler: () => {
        throw new RangeError('slow down');
      },
    });
    const server = createHttpServer({
      apis: [thingsApi(), other],
      logger: log.logger,
      errorMapper: (err) => (err instanceof RangeError ? new HttpProblem({ status: 429, code: 'SLOW_DOWN', headers: { 'retry-after': '3' }, extensions: { limit: 5 } }) : undefined),
    });
    listening = await server.listen();
  });
  afterAll(() => listening.close());

  const create = (id: string) =>
    fetch(`${listening.url}/v1/realms/realm-1/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, secret: SECRET, count: 1 }),
    });

  it('maps a domain error through the API errorMapper to its problem', async () => {
    const response = await create('existing');
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({
      type: 'https://milagro.apache.org/problems/thing-exists',
      title: 'Conflict',
      status: 409,
      code: 'THING_EXISTS',
      detail: 'That thing cannot change now',
      requestId: response.headers.get('x-request-id'),
    });
  });

  it('maps through the server errorMapper when the API mapper passes, with headers and extensions', async () => {
    const response = await fetch(`${listening.url}/v1/other`, { method: 'POST' });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(await response.json()).toMatchObject({ code: 'SLOW_DOWN', limit: 5, title: 'Too Many Requests' });
  });

  it('sends an HttpProblem thrown by a handler as it is', async () => {
    const response = await fetch(`${listening.url}/v1/realms/realm-1/things/missing`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ code: 'THING_NOT_FOUND', type: 'https://milagro.apache.org/problems/thing-not-found' });
  });

  it('answers an unexpected exception with a generic 500 and logs the cause under the request id', async () => {
    const response = await create('crash');
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('secret-path');
    expect(text).not.toContain('TOPSECRET');
    const problem = JSON.parse(text);
    expect(problem).toMatchObject({ status: 500, code: 'INTERNAL_ERROR', requestId: expect.any(String) });
    const logged = log.lines.find((line) => line.msg === 'request failed' && line.requestId === problem.requestId);
    expect(JSON.stringify(logged?.err)).toContain('secret-path');
  });

  it('accepts a well-formed x-request-id and replaces one that could forge log lines', async () => {
    const kept = await fetch(`${listening.url}/v1/realms/realm-1/things/missing`, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-abc.123');
    expect((await kept.json()).requestId).toBe('trace-abc.123');
    const replaced = await fetch(`${listening.url}/v1/realms/realm-1/things/missing`, { headers: { 'x-request-id': 'a b"}{' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sets the security headers and logs method, route template, status and duration but no URL, query, body or credentials', async () => {
    const response = await fetch(`${listening.url}/v1/realms/realm-1/things?dryRun=true&token=${SECRET}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}`, cookie: `session=${SECRET}` },
      body: JSON.stringify({ id: 'logged', secret: SECRET, count: 1 }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('location')).toBe('/v1/realms/realm-1/things/logged');
    const requestId = response.headers.get('x-request-id');
    const line = log.lines.find((entry) => entry.msg === 'request' && entry.requestId === requestId);
    expect(line).toMatchObject({ method: 'POST', route: '/v1/realms/{realmId}/things', status: 201, durationMs: expect.any(Number) });
    expect(log.text()).not.toContain('TOPSECRET');
    expect(log.text()).not.toContain('realm-1');
  });
});
