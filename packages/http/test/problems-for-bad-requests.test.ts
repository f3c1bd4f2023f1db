import { createHttpServer, type ListeningHttpServer } from '../src/index.js';
import { SECRET, capturingLogger, thingsApi, type ThingsCalls } from './support/things-api.js';

describe('problem documents for bad requests', () => {
  let listening: ListeningHttpServer;
  const calls: ThingsCalls = { created: [] };
  const log = capturingLogger();

  beforeAll(async () => {
    const server = createHttpServer({ apis: [thingsApi(calls)], logger: log.logger, bodyLimit: 64 * 1024 });
    listening = await server.listen();
  });
  afterAll(() => listening.close());

  const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${listening.url}${path}`, { method: 'POST', headers, body });

  it('answers a request that fails validation with 400 INVALID_REQUEST listing paths, never the submitted values', async () => {
    const response = await post('/v1/realms/UPPER_CASE_REALM_ID/things?dryRun=maybe-' + SECRET, JSON.stringify({ id: SECRET, secret: SECRET + 'x', count: -1, [SECRET]: 1 }));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const text = await response.text();
    expect(text).not.toContain('TOPSECRET');
    expect(text).not.toContain('UPPER_CASE_REALM_ID');
    const problem = JSON.parse(text);
    expect(problem).toMatchObject({
      type: 'https://milagro.apache.org/problems/invalid-request',
      title: 'Bad Request',
      status: 400,
      code: 'INVALID_REQUEST',
      requestId: response.headers.get('x-request-id'),
    });
    const paths = (problem.errors as Array<{ path: string; message: string }>).map((e) => e.path).sort();
    expect(paths).toEqual(['body', 'body.count', 'body.secret', 'params.realmId', 'query.dryRun']);
    for (const error of problem.errors) expect(typeof error.message).toBe('string');
    expect(calls.created).toEqual([]);
    expect(log.text()).not.toContain('TOPSECRET');
  });

  it('refuses lone surrogates and NUL anywhere in a body, a key or a parameter before the handler runs', async () => {
    const S32 = 'x'.repeat(32);
    const bodies = [`{"id":"\\ud800","secret":"${S32}","count":1}`, `{"id":"a\\u0000b","secret":"${S32}","count":1}`, `{"id":"abc","secret":"${S32}","count":1,"\\udfff":1}`, `{"id":"abc","secret":["\\ud83d"],"count":1}`];
    for (const body of bodies) {
      const response = await post('/v1/realms/realm-1/things', body);
      const problem = await response.json();
      expect([response.status, problem.code, problem.errors]).toEqual([400, 'INVALID_REQUEST', [{ path: 'body', message: expect.stringContaining('well-formed Unicode') }]]);
    }
    const query = await post('/v1/realms/realm-1/things?dryRun=%00', JSON.stringify({ id: 'abc', secret: S32, count: 1 }));
    expect([query.status, (await query.json()).errors]).toEqual([400, [{ path: 'query', message: expect.stringContaining('NUL') }]]);
    // A well-formed pair (an emoji written as escapes) is fine.
    const emoji = await post('/v1/realms/realm-1/things', `{"id":"abc","secret":"${S32.slice(1)}\\ud83d\\ude00","count":1}`);
    expect(emoji.status).toBe(201);
    expect(calls.created.map((c) => c.secret)).toEqual([`${S32.slice(1)}\u{1F600}`]);
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const response = await post('/v1/realms/realm-1/things', `{"id": "abc", "secret": "${SECRET}"`);
    expect(response.status).toBe(400);
    const problem = await response.json();
    expect(problem).toMatchObject({ status: 400, code: 'MALFORMED_JSON' });
    expect(JSON.stringify(problem)).not.toContain('TOPSECRET');
  });

  it('answers a body that is not application/json with 415', async () => {
    const variants: Array<Record<string, string>> = [{ 'content-type': 'text/plain' }, { 'content-type': 'application/x-www-form-urlencoded' }, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, { 'content-type': 'application/json; charset=latin1' }];
    for (const headers of variants) {
      const response = await post('/v1/realms/realm-1/things', '{}', headers);
      expect([response.status, (await response.json()).code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    }
  });

  it('answers a missing body like an invalid one (400), not as a crash', async () => {
    const response = await fetch(`${listening.url}/v1/realms/realm-1/things`, { method: 'POST' });
    expect(response.status).toBe(400);
    expect((await response.json()).errors).toEqual([{ path: 'body', message: expect.any(String) }]);
  });

  it('answers a body over the limit with 413', async () => {
    const response = await post('/v1/realms/realm-1/things', JSON.stringify({ id: 'x'.repeat(100 * 1024) }));
    expect(response.status).toBe(413);
    expect((await response.json()).code).toBe('CONTENT_TOO_LARGE');
  });

  it('answers an unknown path with 404 and a known path with the wrong method with 405 and Allow', async () => {
    const missing = await fetch(`${listening.url}/v1/nothing-here`);
    expect([missing.status, (await missing.json()).code]).toEqual([404, 'NOT_FOUND']);
    const wrong = await fetch(`${listening.url}/v1/realms/realm-1/things/t1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD, DELETE');
    expect((await wrong.json()).code).toBe('METHOD_NOT_ALLOWED');
  });

  it('answers a path parameter that is not valid percent-encoding with 400', async () => {
    const response = await fetch(`${listening.url}/v1/realms/realm-1/things/%E0%A4%A`);
    expect(response.status).toBe(400);
    expect((await response.json()).code).toBe('INVALID_REQUEST');
  });
});
