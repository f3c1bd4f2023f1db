import { pino } from 'pino';
import { z } from 'zod';
import { HttpApi, createHttpServer } from '../src/index.js';

describe('the handler context', () => {
  it('holds the parsed values (coerced, defaulted, stripped) with types inferred from the schemas', async () => {
    const seen: unknown[] = [];
    const api = new HttpApi().route({
      method: 'PATCH',
      path: '/v1/counters/{counterId}',
      operationId: 'bumpCounter',
      summary: 'Bump a counter',
      params: z.object({ counterId: z.coerce.number().int().positive() }),
      query: z.object({ times: z.coerce.number().int().default(1), tag: z.array(z.string()).or(z.string()).optional() }),
      body: z.object({ reason: z.string(), note: z.string().default('none') }),
      responses: { 200: { description: 'bumped' } },
      handler: ({ params, query, body, requestId, log, signal }) => {
        const id: number = params.counterId;
        const times: number = query.times;
        const reason: string = body.reason;
        // @ts-expect-error `missing` is not in the params schema
        void params.missing;
        seen.push({ params, query, body, requestId, hasLog: typeof log.info === 'function', aborted: signal.aborted });
        return { status: 200, body: { id, times, reason } };
      },
    });
    const listening = await createHttpServer({ apis: [api], logger: pino({ level: 'silent' }) }).listen();
    try {
      const response = await fetch(`${listening.url}/v1/counters/42?tag=a&tag=b`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-1' },
        body: JSON.stringify({ reason: 'test', unknownKey: 'dropped' }),
      });
      expect([response.status, await response.json()]).toEqual([200, { id: 42, times: 1, reason: 'test' }]);
      expect(seen).toEqual([
        { params: { counterId: 42 }, query: { times: 1, tag: ['a', 'b'] }, body: { reason: 'test', note: 'none' }, requestId: 'req-1', hasLog: true, aborted: false },
      ]);
      const head = await fetch(`${listening.url}/v1/counters/42`, { method: 'HEAD' });
      expect(head.status).toBe(405);
      expect(head.headers.get('allow')).toBe('PATCH');
    } finally {
      await listening.close();
    }
  });
});
