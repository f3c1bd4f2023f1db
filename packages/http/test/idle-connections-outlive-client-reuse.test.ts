import { Agent, request } from 'node:http';
import { pino } from 'pino';
import { HttpApi, createHttpServer } from '../src/index.js';

/**
 * Node's 5 s default keep-alive raced fetch's socket reuse on a loaded machine (ECONNRESET on a
 * request the server never saw). The server now keeps idle connections 65 s, tells clients so, and
 * still drops them at once on close.
 */
describe('idle keep-alive connections', () => {
  const api = new HttpApi().route({
    method: 'GET',
    path: '/v1/ping',
    operationId: 'ping',
    summary: 'pong',
    responses: { 200: { description: 'pong' } },
    handler: async () => ({ status: 200, body: { pong: true } }),
  });

  it('are advertised and kept for 65 s, and closed by close()', async () => {
    const listening = await createHttpServer({ apis: [api], logger: pino({ level: 'silent' }) }).listen();
    expect(listening.server.keepAliveTimeout).toBe(65_000);
    // Requests in progress get 30 s; an idle connection is not timed by those limits (see
    // slow-clients-are-cut-off.test.ts: an idle connection outlives the request timeout).
    expect([listening.server.requestTimeout, listening.server.headersTimeout]).toEqual([30_000, 30_000]);

    const agent = new Agent({ keepAlive: true });
    const { headers, socketClosed } = await new Promise<{ headers: Record<string, unknown>; socketClosed: Promise<void> }>((resolve, reject) => {
      const req = request(`${listening.url}/v1/ping`, { agent }, (res) => {
        res.resume();
        const socket = req.socket;
        if (socket === null) throw new Error('no socket');
        res.on('end', () => resolve({ headers: res.headers, socketClosed: new Promise((done) => socket.once('close', () => done())) }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(headers['keep-alive']).toBe('timeout=65');

    // The idle connection is dropped promptly on close, not after 65 s.
    const started = Date.now();
    await listening.close();
    await socketClosed;
    expect(Date.now() - started).toBeLessThan(5_000);
    agent.destroy();
  });
});
