import fc from 'fast-check';
import { pino } from 'pino';
import { createHttpServer, type ListeningHttpServer } from '../src/index.js';
import { thingsApi } from './support/things-api.js';

// Decoders must refuse, never crash: whatever arrives, the answer is a 2xx or a 4xx problem.
describe('arbitrary request bodies', () => {
  let listening: ListeningHttpServer;
  beforeAll(async () => {
    listening = await createHttpServer({ apis: [thingsApi()], logger: pino({ level: 'silent' }), bodyLimit: 4096 }).listen();
  });
  afterAll(() => listening.close());

  const send = async (body: Uint8Array<ArrayBuffer> | string, contentType: string) => {
    const post = () => fetch(`${listening.url}/v1/realms/realm-1/things`, { method: 'POST', headers: { 'content-type': contentType }, body });
    // One retry on a network error: a reused keep-alive connection can be closed by the server's
    // idle timeout just as the request goes out (this VM stalls for seconds). A body that made the
    // server drop the connection would fail the retry too.
    const response = await post().catch(post);
    const text = await response.text();
    return { status: response.status, text };
  };

  it('never produce a 500, whether JSON values, JSON-ish strings or raw bytes', async () => {
    const bodies = fc.oneof(
      fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'),
      fc.json(),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((bytes) => new Uint8Array(bytes)),
      fc.record({ id: fc.string(), secret: fc.string(), count: fc.oneof(fc.integer(), fc.double(), fc.string()) }).map((value) => JSON.stringify(value)),
      fc.constantFrom('{"__proto__":{"polluted":1},"id":"abc"}', '{"constructor":{"prototype":{}}}', '['.repeat(2000), '"\\ud800"', '1e999', '{"a":1,"a":2}'),
    );
    const types = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'text/plain', 'application/problem+json');
    await fc.assert(
      fc.asyncProperty(bodies, types, async (body, type) => {
        const { status, text } = await send(body, type);
        expect(status === 201 || (status >= 400 && status < 500)).toBe(true);
        if (status !== 201) expect(JSON.parse(text)).toMatchObject({ status, code: expect.stringMatching(/^[A-Z_]+$/) });
      }),
      { numRuns: 150 },
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 600_000); // 150 requests; the shared 2-core VM runs at a load of 15+
});
