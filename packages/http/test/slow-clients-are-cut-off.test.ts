/**
 * Issue 12, hostile input: a client that trickles its headers or its body (slowloris) is answered
 * 408 and disconnected once `requestTimeoutMs` has passed, while other clients are served as usual.
 * No timing is asserted beyond "eventually, well before a minute".
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { createHttpServer, type ListeningHttpServer } from '../src/index.js';
import { thingsApi } from './support/things-api.js';

let listening: ListeningHttpServer;
beforeAll(async () => {
  listening = await createHttpServer({ apis: [thingsApi()], logger: pino({ level: 'silent' }), requestTimeoutMs: 1_000 }).listen();
});
afterAll(() => listening.close({ timeoutMs: 100 }));

/** Opens a raw connection, writes `head`, then one byte of `drip` every 200 ms until the server closes; resolves with what it answered. */
function trickle(head: string, drip: string): Promise<{ answer: string; bytesSent: number }> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(listening.port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => undefined); // a reset after the 408 is a close too
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, bytesSent: sent });
    });
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (socket.destroyed || socket.writableEnded) return;
        socket.write(drip[sent % drip.length]!);
        sent += 1;
      }, 200);
    });
    setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept a trickling client for 60 s (answer so far: ${JSON.stringify(answer)})`));
    }, 60_000).unref();
  });
}

describe('slow clients', () => {
  it('a client trickling its headers is answered 408 and disconnected', async () => {
    const { answer } = await trickle('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  }, 90_000);

  it('a client trickling its body is answered 408 and disconnected, and the handler never runs', async () => {
    const calls = { created: [] as unknown[] };
    const server = await createHttpServer({ apis: [thingsApi(calls as never)], logger: pino({ level: 'silent' }), requestTimeoutMs: 1_000 }).listen();
    try {
      const head = 'POST /v1/realms/realm-1/things HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{"id":"';
      const { answer } = await new Promise<{ answer: string; bytesSent: number }>((resolve, reject) => {
        const original = listening;
        listening = server;
        trickle(head, 'a').then(resolve, reject).finally(() => (listening = original));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(calls.created).toEqual([]);
    } finally {
      await server.close({ timeoutMs: 100 });
    }
  }, 90_000);

  it('other clients are served while a slow one trickles', async () => {
    const slow = trickle('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: a\r\n');
    const quick = await fetch(`${listening.url}/healthz`);
    expect(quick.status).toBe(200);
    await slow;
  }, 90_000);

  it('an idle keep-alive connection is not a slow client: it outlives the request timeout and is reused', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = request(`${listening.url}/healthz`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get()).toEqual({ status: 200, reused: false });
    await new Promise((resolve) => setTimeout(resolve, 3_500)); // > 3 × the 1 s request timeout
    expect(await get()).toEqual({ status: 200, reused: true });
    agent.destroy();
  }, 90_000);

  it('refuses a request timeout below 100 ms', () => {
    expect(() => createHttpServer({ apis: [], requestTimeoutMs: 10 })).toThrow(/requestTimeoutMs/);
  });
});
