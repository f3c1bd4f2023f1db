import { pino } from 'pino';
import { z } from 'zod';
import { HttpApi, createHttpServer, isHttpKitError, type ListeningHttpServer } from '../src/index.js';

/** Browser clients on other origins (the MFA client SDK fetching shares from D-TAs) get CORS answers; only listed origins. */
describe('cross-origin access', () => {
  const api = new HttpApi().route({
    method: 'POST',
    path: '/v1/echo',
    operationId: 'echo',
    summary: 'echo',
    body: z.object({ word: z.string() }).strict(),
    responses: { 200: { description: 'the word' } },
    handler: async ({ body }) => ({ status: 200, body: { word: body.word } }),
  });
  let listening: ListeningHttpServer;
  beforeAll(async () => {
    listening = await createHttpServer({ apis: [api], logger: pino({ level: 'silent' }), cors: { origins: ['https://login.acme.example', 'http://127.0.0.1:5173'] } }).listen();
  });
  afterAll(() => listening.close());

  const preflight = (origin: string) =>
    fetch(`${listening.url}/v1/echo`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });

  it('answers a preflight from a listed origin with the methods and headers the APIs use', async () => {
    const response = await preflight('https://login.acme.example');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://login.acme.example');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it('adds the origin to real answers, problems included, and exposes Retry-After', async () => {
    const ok = await fetch(`${listening.url}/v1/echo`, { method: 'POST', headers: { origin: 'http://127.0.0.1:5173', 'content-type': 'application/json' }, body: '{"word":"hi"}' });
    expect([ok.status, ok.headers.get('access-control-allow-origin')]).toEqual([200, 'http://127.0.0.1:5173']);
    const bad = await fetch(`${listening.url}/v1/echo`, { method: 'POST', headers: { origin: 'http://127.0.0.1:5173', 'content-type': 'application/json' }, body: '{}' });
    expect([bad.status, bad.headers.get('access-control-allow-origin')]).toEqual([400, 'http://127.0.0.1:5173']);
    expect(bad.headers.get('access-control-expose-headers')).toContain('retry-after');
  });

  it('gives an unlisted origin no CORS headers, so the browser refuses the answer', async () => {
    const response = await preflight('https://evil.example');
    expect(response.status).not.toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const post = await fetch(`${listening.url}/v1/echo`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{"word":"hi"}' });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses origins with a path or in the wrong form at construction', () => {
    for (const origins of [['https://login.acme.example/'], ['login.acme.example'], ['https://LOGIN.example']]) {
      let error: unknown;
      try {
        createHttpServer({ apis: [api], logger: pino({ level: 'silent' }), cors: { origins } });
      } catch (caught) {
        error = caught;
      }
      expect(isHttpKitError(error)).toBe(true);
    }
  });
});
