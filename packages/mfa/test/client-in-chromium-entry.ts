/**
 * The page side of client-runs-in-chromium.test.ts: the client SDK bundled for the browser (noble
 * backend, WebCrypto, IndexedDB). The page cannot reach the test servers across origins, so its
 * fetch goes through `nodeFetch`, a function the test exposes from Node; everything else runs here.
 */
import { IndexedDbCredentialStore, MfaClient, isMfaClientError } from '../src/client/index.js';

interface ProxiedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}
declare function nodeFetch(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<ProxiedResponse>;

const pageFetch = (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const answer = await nodeFetch(String(input), {
    method: init?.method ?? 'GET',
    headers: (init?.headers ?? {}) as Record<string, string>,
    ...(typeof init?.body === 'string' ? { body: init.body } : {}),
  });
  return new Response(answer.status === 204 ? null : answer.body, { status: answer.status, headers: answer.headers });
}) as typeof fetch;

const clientFor = (baseUrl: string, key: string): MfaClient => new MfaClient({ baseUrl, store: new IndexedDbCredentialStore({ key }), fetch: pageFetch });

/** Runs `step`, answering its result or `error:<code>` (errors cross the page boundary as text). */
async function run<T>(step: () => Promise<T>): Promise<T | string> {
  try {
    return await step();
  } catch (error) {
    return isMfaClientError(error) ? `error:${error.code}` : `error:${String(error)}`;
  }
}

const clientTest = {
  runtime: () => ({ userAgent: navigator.userAgent, hasProcess: typeof (globalThis as { process?: unknown }).process !== 'undefined' }),
  register: (baseUrl: string, userId: string) => run(() => clientFor(baseUrl, userId).register({ userId, deviceName: 'Chromium' })),
  activate: (baseUrl: string, userId: string, code: string) => run(() => clientFor(baseUrl, userId).activate({ code })),
  setPin: (baseUrl: string, userId: string, pin: string) => run(() => clientFor(baseUrl, userId).setPin(pin)),
  login: (baseUrl: string, userId: string, pin: string) => run(() => clientFor(baseUrl, userId).login(pin)),
  /** The raw IndexedDB record, as JSON text. */
  record: (userId: string) => run(async () => JSON.stringify((await new IndexedDbCredentialStore({ key: userId }).load()) ?? null)),
  clear: (userId: string) => run(() => new IndexedDbCredentialStore({ key: userId }).clear()),
};

(globalThis as { clientTest?: typeof clientTest }).clientTest = clientTest;
