import { Counter } from 'prom-client';
import { createHttpServer } from '../src/index.js';
import { thingsApi } from './support/things-api.js';

describe('/healthz, /readyz and /metrics', () => {
  it('reports liveness always and readiness as the checks say, naming failing checks', async () => {
    let databaseUp = false;
    const server = createHttpServer({
      apis: [thingsApi()],
      ready: { database: () => databaseUp, ipfs: async () => true, broken: () => { throw new Error('probe failed'); } },
      logger: (await import('pino')).pino({ level: 'silent' }),
    });
    const listening = await server.listen();
    try {
      const health = await fetch(`${listening.url}/healthz`);
      expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
      const notReady = await fetch(`${listening.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ code: 'NOT_READY', failing: ['database', 'broken'] });
      databaseUp = true;
      const stillBroken = await fetch(`${listening.url}/readyz`);
      expect((await stillBroken.json()).failing).toEqual(['broken']);
    } finally {
      await listening.close();
    }
    const flipping = createHttpServer({ apis: [], ready: () => databaseUp, logger: (await import('pino')).pino({ level: 'silent' }) });
    const second = await flipping.listen();
    try {
      expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
      databaseUp = false;
      expect((await fetch(`${second.url}/readyz`)).status).toBe(503);
    } finally {
      await second.close();
    }
  });

  it('answers / with an index of the service and its operational endpoints', async () => {
    const server = createHttpServer({ apis: [thingsApi()], info: { title: 'Things', version: '1.2.3' }, logger: (await import('pino')).pino({ level: 'silent' }) });
    const listening = await server.listen();
    try {
      const index = await fetch(`${listening.url}/`);
      expect(index.status).toBe(200);
      expect(await index.json()).toEqual({ title: 'Things', version: '1.2.3', links: { openapi: '/openapi.json', health: '/healthz', ready: '/readyz', metrics: '/metrics' } });
      expect((await fetch(`${listening.url}/nothing-here`)).status).toBe(404);
    } finally {
      await listening.close();
    }
  });

  it('counts requests by route template, never by raw URL, in a registry per server', async () => {
    const silent = (await import('pino')).pino({ level: 'silent' });
    const a = createHttpServer({ apis: [thingsApi()], logger: silent });
    const b = createHttpServer({ apis: [thingsApi()], logger: silent });
    const domainCounter = new Counter({ name: 'things_seen_total', help: 'things seen', registers: [a.registry] });
    domainCounter.inc(7);
    const [la, lb] = await Promise.all([a.listen(), b.listen()]);
    try {
      for (const id of ['t1', 't2', 'missing']) await (await fetch(`${la.url}/v1/realms/realm-1/things/${id}`)).text();
      await (await fetch(`${la.url}/no/such/path-with-SECRET`)).text();
      const text = await (await fetch(`${la.url}/metrics`)).text();
      expect(text).toContain('http_requests_total{method="GET",route="/v1/realms/{realmId}/things/{thingId}",status="200"} 2');
      expect(text).toContain('http_requests_total{method="GET",route="/v1/realms/{realmId}/things/{thingId}",status="404"} 1');
      expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 1');
      expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/v1\/realms\/\{realmId\}\/things\/\{thingId\}",status="200"\} 2/);
      expect(text).toContain('things_seen_total 7');
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).not.toContain('realm-1');
      expect(text).not.toContain('SECRET');
      const other = await (await fetch(`${lb.url}/metrics`)).text();
      expect(other).not.toContain('route="/v1/realms/{realmId}/things/{thingId}"');
      expect(other).not.toContain('things_seen_total');
    } finally {
      await Promise.all([la.close(), lb.close()]);
    }
  });
});
