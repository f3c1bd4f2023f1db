/**
 * Issue 12's replica acceptance, with real processes: two MFA server replicas (one identity, two
 * OS processes, each with its own embedded IPFS node) on ONE PostgreSQL database, behind three
 * D-TAs (t = 2). Whatever a replica does is seen by the other: a user registered on A logs in on B,
 * wrong PINs are counted across both (also when they race), a pass-1 session is used once whichever
 * replica gets the pass 2, an activation is used once, and a token revoked on A is refused by B.
 *
 * The replicas share the identity's keys, not a messaging journal: each sends on its own chain
 * (docs/adr/0018-one-chain-per-journal.md). Both start together and both ask the D-TAs for the
 * server secret's shares, and both restart together, as a deployment's replicas do.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64urlToBytes, bytesToBase64url, createMclBackend } from '@milagro/crypto';
import { generateSwarmKey } from '@milagro/ipfs';
import { clientPass1, clientPass2, combineClientSecret, createSuite, extractToken, type MpinSuite } from '@milagro/mpin';
import { createRealm, jsonRequest, startDtaCluster, type DtaProcess } from '../../../tools/jest/dta-cluster.js';
import { startMfaServer, type MfaServerHandle } from '../../../tools/jest/mfa-cluster.js';
import { killAllPeers, waitFor } from '../../../tools/jest/peer-process.js';
import { postgresAvailability, reportMissingPostgres, useTestPostgres } from '../../../tools/jest/postgres.js';

const REALM = 'acme-replicas';
const MAX_FAILURES = 3;
const postgres = postgresAvailability();
const testPostgres = useTestPostgres();

let root: string;
let dtas: DtaProcess[] = [];
let a: MfaServerHandle | undefined;
let b: MfaServerHandle | undefined;
let suite: MpinSuite;

/** The replicas' base URLs. */
const A = (): string => a!.server.url;
const B = (): string => b!.server.url;

if (!('binaries' in postgres)) {
  reportMissingPostgres('two MFA replicas on one PostgreSQL', postgres);
} else {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'milagro-mfa-replicas-'));
    const swarmKey = generateSwarmKey();
    suite = createSuite({ suite: 'modern', backend: await createMclBackend() });
    const url = await testPostgres.freshDatabaseUrl();
    dtas = await startDtaCluster({ root, swarmKey });
    const replica = (name: string) =>
      startMfaServer({
        root,
        swarmKey,
        dtas,
        realmId: REALM,
        threshold: 2,
        limits: { maxFailures: MAX_FAILURES },
        name,
        database: { kind: 'postgres', url: { env: 'TEST_MFA_DATABASE_URL' } },
        env: { TEST_MFA_DATABASE_URL: url },
      });
    // A's first start creates the identity; the realm names it as its MFA service. Once A is ready
    // the D-TAs have sent it their shares, so they hold the identity's documents.
    a = await replica('mfa-a');
    await createRealm(dtas, { realmId: REALM, threshold: 2, mfaService: a.id, grantMaxLifetimeMinutes: 10 });
    await waitUntilReady('A', a);
    await a.server.stop();
    // Replica B gets the identity as a deployment would mount it: the key store alone. Its IPFS node
    // (a peer of its own) fetches the identity's documents from the D-TAs, and it has no messaging
    // journal: B starts its own chains, and A keeps its own.
    cpSync(join(root, 'mfa-a', 'keys'), join(root, 'mfa-b', 'keys'), { recursive: true });
    // Both start together, and both ask every D-TA for its server-secret share.
    const restartA = a.restart();
    b = await replica('mfa-b');
    await restartA;
    expect(b.id).toBe(a.id);
    await Promise.all([waitUntilReady('A', a), waitUntilReady('B', b)]);
  }, 900_000);

  afterAll(async () => {
    await Promise.all([...dtas.map((dta) => dta.server.stop()), a?.server.stop(), b?.server.stop()]);
    killAllPeers();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  }, 120_000);

  describe('two MFA replicas on one PostgreSQL database', () => {
    it('a user registered and activated on replica A logs in on replica B', async () => {
      const alice = await rawDevice(A(), 'alice@example.org', '2468');
      const first = await pass1(B(), alice, '2468');
      const ok = await pass2(B(), first.session, first.v);
      expect([ok.status, ok.body['userId']]).toEqual([200, 'alice@example.org']);
    }, 180_000);

    it('a pass-1 session is used once, whichever replica receives the pass 2', async () => {
      const bob = await rawDevice(A(), 'bob@example.org', '8642');
      const onA = await pass1(A(), bob, '8642');
      expect((await pass2(A(), onA.session, onA.v)).status).toBe(200);
      const replayedOnB = await pass2(B(), onA.session, onA.v);
      expect([replayedOnB.status, replayedOnB.body['code']]).toEqual([401, 'AUTHENTICATION_FAILED']);

      // A session opened on A completes on B, and is then gone on A as well.
      const crossed = await pass1(A(), bob, '8642');
      expect((await pass2(B(), crossed.session, crossed.v)).status).toBe(200);
      const replayedOnA = await pass2(A(), crossed.session, crossed.v);
      expect([replayedOnA.status, replayedOnA.body['code']]).toEqual([401, 'AUTHENTICATION_FAILED']);

      // The same pass 2 sent to both at once: exactly one access token.
      const raced = await pass1(B(), bob, '8642');
      const answers = await Promise.all([pass2(A(), raced.session, raced.v), pass2(B(), raced.session, raced.v)]);
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 401]);
    }, 180_000);

    it(`wrong PINs are counted across both replicas: ${MAX_FAILURES} of them lock the identity on both`, async () => {
      const carol = await rawDevice(A(), 'carol@example.org', '1357');
      for (const url of [A(), B(), A()]) {
        const wrong = await pass1(url, carol, '9999');
        expect((await pass2(url, wrong.session, wrong.v)).status).toBe(401);
      }
      for (const url of [B(), A()]) {
        const right = await pass1(url, carol, '1357');
        const refused = await pass2(url, right.session, right.v);
        expect([refused.status, refused.body['code']]).toEqual([401, 'AUTHENTICATION_FAILED']);
      }
    }, 180_000);

    it('wrong PINs racing on both replicas are each counted (no lost update): the identity is locked', async () => {
      const dave = await rawDevice(B(), 'dave@example.org', '2222');
      const sessions = await Promise.all([A(), B(), A()].map(async (url) => ({ url, ...(await pass1(url, dave, '0000')) })));
      const answers = await Promise.all(sessions.map(({ url, session, v }) => pass2(url, session, v)));
      expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401]);
      const right = await pass1(B(), dave, '2222');
      expect((await pass2(B(), right.session, right.v)).status).toBe(401);
    }, 180_000);

    it('an activation is used once across replicas, and a token revoked on A is refused by B', async () => {
      const requested = await jsonRequest(`${A()}/v1/registrations`, { json: { userId: 'erin@example.org', deviceName: 'laptop' } });
      expect(requested.status).toBe(202);
      const activation = { registration: String(requested.body['registration']), code: await activationCode(A(), 'erin@example.org') };
      expect((await jsonRequest(`${A()}/v1/activations`, { json: activation })).status).toBe(200);
      const again = await jsonRequest(`${B()}/v1/activations`, { json: activation });
      expect(again.status).not.toBe(200);

      const frank = await rawDevice(B(), 'frank@example.org', '4321');
      const login = await pass1(B(), frank, '4321');
      const token = String((await pass2(B(), login.session, login.v)).body['accessToken']);
      expect((await jsonRequest(`${A()}/v1/session`, { bearer: token })).status).toBe(200);
      expect((await jsonRequest(`${A()}/v1/logout`, { json: {}, bearer: token })).status).toBe(204);
      const after = await jsonRequest(`${B()}/v1/session`, { bearer: token });
      expect([after.status, after.body['code']]).toEqual([401, 'NOT_AUTHENTICATED']);
    }, 180_000);

    it('both replicas restart together and are ready again (each continues its own chain to the D-TAs)', async () => {
      const grace = await rawDevice(B(), 'grace@example.org', '5555');
      await Promise.all([a!.restart(), b!.restart()]);
      await Promise.all([waitUntilReady('A', a!), waitUntilReady('B', b!)]);
      for (const url of [A(), B()]) {
        const login = await pass1(url, grace, '5555');
        expect((await pass2(url, login.session, login.v)).status).toBe(200);
      }
      // Each replica's share requests (one per D-TA since its restart) are acknowledged: every D-TA
      // holds them in its inbox. And no D-TA refused a message of either replica (a forked chain or
      // one chain too many would be).
      for (const replica of [a!, b!]) {
        await waitFor(
          "the replica's messages acknowledged",
          async () => {
            const metrics = await metricValues(replica.server.url);
            return metrics.get('milagro_messaging_events_total{event="sent"}')! >= dtas.length && metrics.get('milagro_messaging_unacknowledged_envelopes') === 0;
          },
          120_000,
          500,
        );
      }
      for (const dta of dtas) {
        const metrics = await (await fetch(`${dta.server.url}/metrics`)).text();
        expect(metrics).toContain('milagro_messaging_rejected_total{reason="broken-chain"}');
        const refused = metrics.split('\n').filter((line) => /^milagro_messaging_rejected_total\{reason="(broken-chain|too-many-chains|forked-sender)"\} [1-9]/.test(line));
        expect(refused).toEqual([]);
      }
    }, 600_000);
  });
}

async function waitUntilReady(name: string, replica: MfaServerHandle): Promise<void> {
  try {
    await waitFor(`replica ${name} ready`, async () => (await jsonRequest(`${replica.server.url}/readyz`)).status === 200, 240_000, 500);
  } catch (error) {
    const lines = [a, b].flatMap((r) => r?.processes.flatMap((p) => p.logs) ?? []).filter((line) => line['msg'] !== 'request');
    console.error(`replica ${name} not ready; the replicas' log lines:\n${lines.map((line) => JSON.stringify(line)).join('\n')}`);
    throw error;
  }
}

/** A server's Prometheus samples by name and labels (`name{label="value"}`). */
async function metricValues(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  return new Map(samples.map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]));
}

/** The activation code of the newest development-outbox message to `userId` on the replica at `url`. */
async function activationCode(url: string, userId: string): Promise<string> {
  const outbox = await jsonRequest(`${url}/v1/development/outbox?to=${encodeURIComponent(userId)}`);
  const messages = (outbox.body['messages'] as Array<{ to: string; text: string }>).filter((m) => m.to === userId);
  const match = /#code=([A-Za-z0-9_-]+)/.exec(messages.at(-1)?.text ?? '');
  if (match === null) throw new Error(`no activation link for ${userId}`);
  return match[1] as string;
}

interface RawDevice {
  readonly identity: Uint8Array;
  readonly token: Uint8Array;
}

/** Registers and activates on the replica at `url`, fetches plain shares from two D-TAs and extracts the PIN. */
async function rawDevice(url: string, userId: string, pin: string): Promise<RawDevice> {
  const requested = await jsonRequest(`${url}/v1/registrations`, { json: { userId, deviceName: 'raw device' } });
  expect(requested.status).toBe(202);
  const registration = String(requested.body['registration']);
  const activated = await jsonRequest(`${url}/v1/activations`, { json: { registration, code: await activationCode(url, userId) } });
  expect(activated.status).toBe(200);
  const identity = base64urlToBytes(String(activated.body['identity']));
  const grants = activated.body['grants'] as Array<{ dta: string; url: string; token: string }>;
  const shares = [];
  for (const grant of grants.slice(0, 2)) {
    const answer = await jsonRequest(`${grant.url}/v1/realms/${REALM}/client-shares`, { json: { grant: grant.token, identity: bytesToBase64url(identity) } });
    expect(answer.status).toBe(200);
    shares.push({ index: BigInt(answer.body['index'] as number), share: base64urlToBytes(String(answer.body['share'])) });
  }
  return { identity, token: extractToken(suite, { identity, clientSecret: combineClientSecret(suite, shares), factors: [{ pin }] }) };
}

async function pass1(url: string, device: RawDevice, pin: string): Promise<{ session: string; v: Uint8Array }> {
  const { message, state } = clientPass1(suite, { identity: device.identity, token: device.token, factors: [{ pin }] });
  const answer = await jsonRequest(`${url}/v1/login/pass1`, { json: { identity: bytesToBase64url(device.identity), u: bytesToBase64url(message.u) } });
  expect(answer.status).toBe(200);
  const { v } = clientPass2(state, { y: base64urlToBytes(String(answer.body['y'])) });
  return { session: String(answer.body['session']), v };
}

function pass2(url: string, session: string, v: Uint8Array) {
  return jsonRequest(`${url}/v1/login/pass2`, { json: { session, v: bytesToBase64url(v) } });
}
