import { pino } from 'pino';
import { HttpApi, createHttpServer } from '../src/index.js';

describe('graceful close', () => {
  function slowApi(started: () => void, release: Promise<void>) {
    return new HttpApi().route({
      method: 'GET',
      path: '/v1/slow',
      operationId: 'slow',
      summary: 'Answers when released',
      responses: { 200: { description: 'done' } },
      handler: async () => {
        started();
        await release;
        return { status: 200, body: { done: true } };
      },
    });
  }

  it('stops accepting, answers in-flight requests, then resolves', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let onStarted!: () => void;
    const started = new Promise<void>((resolve) => (onStarted = resolve));
    const server = createHttpServer({ apis: [slowApi(onStarted, released)], logger: pino({ level: 'silent' }) });
    const listening = await server.listen();
    const inFlight = fetch(`${listening.url}/v1/slow`);
    await started;
    let closed = false;
    const closing = listening.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closed).toBe(false);
    await expect(fetch(`${listening.url}/healthz`)).rejects.toThrow();
    release();
    const response = await inFlight;
    expect([response.status, await response.json()]).toEqual([200, { done: true }]);
    await closing;
    expect(closed).toBe(true);
    expect(listening.server.listening).toBe(false);
  });

  it('cuts requests still running after the timeout', async () => {
    let onStarted!: () => void;
    const started = new Promise<void>((resolve) => (onStarted = resolve));
    const server = createHttpServer({ apis: [slowApi(onStarted, new Promise(() => {}))], logger: pino({ level: 'silent' }) });
    const listening = await server.listen();
    const inFlight = fetch(`${listening.url}/v1/slow`).then(
      () => 'answered',
      () => 'cut',
    );
    await started;
    const before = Date.now();
    await listening.close({ timeoutMs: 200 });
    expect(Date.now() - before).toBeLessThan(5_000);
    expect(await inFlight).toBe('cut');
  });
});
