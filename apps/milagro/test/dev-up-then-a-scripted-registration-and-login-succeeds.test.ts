/**
 * Issue 9: `milagro dev up` brings up a complete local deployment (three D-TAs, the MFA node, a
 * custody node, the demo page) as real detached processes; the client SDK registers, activates from the development
 * outbox, sets a PIN and logs in against it; `milagro dev down` stops every process it started.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryCredentialStore, MfaClient, MfaClientError } from '@milagro/mfa/client';
import { runMilagro } from './support/milagro-command.js';

jest.setTimeout(600_000);

interface Cluster {
  ok: boolean;
  dir: string;
  demo: { url: string; pid: number };
  mfa: { url: string; identity: string; pid: number };
  custody: { url: string; identity: string; pid: number };
  dtas: Array<{ name: string; url: string; identity: string; pid: number }>;
  realm: { id: string; threshold: number };
  pids: number[];
}

let dir: string;

beforeAll(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'milagro-dev-up-')), 'cluster');
});
afterAll(async () => {
  // Whatever the outcome, nothing is left running.
  if (existsSync(join(dir, 'dev-cluster.json'))) await runMilagro(['dev', 'down', '--dir', dir]);
  rmSync(join(dir, '..'), { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function activationCode(mfaUrl: string, userId: string): Promise<string> {
  const response = await fetch(`${mfaUrl}/v1/development/outbox?to=${encodeURIComponent(userId)}`);
  const { messages } = (await response.json()) as { messages: Array<{ to: string; text: string }> };
  const match = /#code=([A-Za-z0-9_-]+)/.exec(messages.filter((m) => m.to === userId).at(-1)?.text ?? '');
  if (match === null) throw new Error(`no activation link for ${userId} in the outbox`);
  return match[1]!;
}

it('dev up, then register, activate, set a PIN and log in with the client SDK; a wrong PIN fails; dev down stops everything', async () => {
  const up = await runMilagro(['dev', 'up', '--json', '--dir', dir]);
  // On failure the JSON report on stdout names the step and the process that failed.
  expect({ code: up.code, stderr: up.stderr, ...(up.code === 0 ? {} : { stdout: up.stdout }) }).toEqual({ code: 0, stderr: '' });
  const cluster = JSON.parse(up.stdout) as Cluster;
  expect(cluster).toMatchObject({ ok: true, dir, realm: { id: 'local', threshold: 2 } });
  expect(cluster.dtas.map((d) => d.name)).toEqual(['dta-1', 'dta-2', 'dta-3']);
  expect(cluster.pids).toHaveLength(6); // three D-TAs, MFA, custody, demo
  expect((await fetch(`${cluster.custody.url}/readyz`)).status).toBe(200);
  expect(JSON.parse(readFileSync(join(dir, 'dev-cluster.json'), 'utf8'))).toMatchObject({ state: 'running', mfa: { url: cluster.mfa.url }, pids: cluster.pids });
  // The nodes outlive `dev up`.
  expect(cluster.pids.every(isRunning)).toBe(true);
  expect((await fetch(cluster.demo.url)).status).toBe(200);
  expect((await fetch(`${cluster.mfa.url}/readyz`)).status).toBe(200);

  const userId = 'alice@example.org';
  const client = new MfaClient({ baseUrl: cluster.mfa.url, store: new MemoryCredentialStore() });
  await client.register({ userId, deviceName: "Alice's laptop" });
  await client.activate({ code: await activationCode(cluster.mfa.url, userId) });
  await client.setPin('2468');
  const login = await client.login('2468');
  expect(login).toMatchObject({ userId, accessToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) });
  const wrong: unknown = await client.login('1357').then(() => undefined, (error: unknown) => error);
  expect(wrong).toBeInstanceOf(MfaClientError);
  expect((wrong as MfaClientError).code).toBe('AUTHENTICATION_FAILED');

  const down = await runMilagro(['dev', 'down', '--dir', dir, '--json']);
  expect({ code: down.code, stderr: down.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(down.stdout)).toMatchObject({ ok: true, found: true, stopped: cluster.pids });
  expect(cluster.pids.filter(isRunning)).toEqual([]);
  expect(existsSync(join(dir, 'dev-cluster.json'))).toBe(false);

  // Nothing running: dev down says so and still succeeds.
  const again = await runMilagro(['dev', 'down', '--dir', dir]);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/no development cluster runs from/);
});
