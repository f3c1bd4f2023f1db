/**
 * Issue 12, faults, with real processes on loopback: three D-TAs (t = 2) and the MFA server.
 *
 * - A partition is a frozen process (SIGSTOP: its sockets stay open and silent; the connections
 *   pause rather than die, the dead-link case is dta-in-a-network-namespace-*) healed by SIGCONT. A realm created while one member is partitioned becomes active at
 *   every member after the heal: the messages sent to it meanwhile were delivered.
 * - Client-share issuance goes on with one D-TA partitioned (any t of n answer).
 * - A D-TA SIGKILLed while share requests are in flight, then restarted, never issues twice for one
 *   grant: across the crash every grant is answered 200 at most once, and every grant answered
 *   before the crash is refused after it (its nonce was durable before the answer left).
 * - The MFA server SIGKILLed right after acknowledging registrations still has them after a
 *   restart: their activation codes work, and the activated users log in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64urlToBytes, bytesToBase64url, createMclBackend } from '@milagro/crypto';
import { generateSwarmKey } from '@milagro/ipfs';
import { clientPass1, clientPass2, combineClientSecret, createSuite, extractToken, type MpinSuite } from '@milagro/mpin';
import { createRealm, jsonRequest, restartDta, startDtaCluster, DTA_ADMIN_TOKEN, type DtaProcess } from '../../jest/dta-cluster.js';
import { startMfaServer, type MfaServerHandle } from '../../jest/mfa-cluster.js';
import { killAllPeers, waitFor } from '../../jest/peer-process.js';

const REALM = 'faults';
let root: string;
let swarmKey: string;
let dtas: DtaProcess[];
let mfa: MfaServerHandle;
let suite: MpinSuite;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'milagro-faults-'));
  swarmKey = generateSwarmKey();
  suite = createSuite({ backend: await createMclBackend() });
  dtas = await startDtaCluster({ root, swarmKey });
  mfa = await startMfaServer({ root, swarmKey, dtas, realmId: REALM, threshold: 2, limits: { sessionTtlSeconds: 30 } });
  await createRealm(dtas, { realmId: REALM, threshold: 2, mfaService: mfa.id, grantMaxLifetimeMinutes: 10 });
  await waitFor('MFA server ready', async () => (await jsonRequest(`${mfa.server.url}/readyz`)).status === 200, 180_000, 500);
}, 900_000);

afterAll(async () => {
  for (const dta of dtas ?? []) process.kill(dta.server.pid, 'SIGCONT');
  await Promise.all([...(dtas ?? []).map((dta) => dta.server.stop()), mfa?.server.stop()]);
  killAllPeers();
  rmSync(root, { recursive: true, force: true });
});

/** Freezes a server process (its sockets stay open, nothing answers) until `heal()`. */
function partition(dta: DtaProcess): { heal(): void } {
  process.kill(dta.server.pid, 'SIGSTOP');
  return { heal: () => process.kill(dta.server.pid, 'SIGCONT') };
}

/** A metric without labels from a server's /metrics. */
async function metric(dta: DtaProcess, name: string): Promise<number> {
  const text = await (await fetch(`${dta.server.url}/metrics`)).text();
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (match === null) throw new Error(`${dta.name} exports no ${name}`);
  return Number(match[1]);
}

interface Grant {
  readonly dta: string;
  readonly url: string;
  readonly token: string;
}

/** Registers and activates `userId` through the development outbox; returns its identity and one grant per D-TA. */
async function activate(userId: string): Promise<{ identity: Uint8Array; grants: Grant[]; registration: string }> {
  const requested = await jsonRequest(`${mfa.server.url}/v1/registrations`, { json: { userId, deviceName: 'fault drill' } });
  expect(requested.status).toBe(202);
  const activated = await jsonRequest(`${mfa.server.url}/v1/activations`, { json: { registration: String(requested.body['registration']), code: await activationCode(userId) } });
  expect(activated.status).toBe(200);
  return { identity: base64urlToBytes(String(activated.body['identity'])), grants: activated.body['grants'] as Grant[], registration: String(requested.body['registration']) };
}

async function activationCode(userId: string): Promise<string> {
  const outbox = await jsonRequest(`${mfa.server.url}/v1/development/outbox?to=${encodeURIComponent(userId)}`);
  const messages = (outbox.body['messages'] as Array<{ to: string; text: string }>).filter((m) => m.to === userId);
  const match = /#code=([A-Za-z0-9_-]+)/.exec(messages.at(-1)?.text ?? '');
  if (match === null) throw new Error(`no activation link for ${userId}`);
  return match[1]!;
}

/** Asks the D-TA behind `grant` for a client-secret share; status 0 when the request fails or times out. */
async function fetchShare(grant: Grant, identity: Uint8Array, timeoutMs = 20_000, baseUrl = grant.url): Promise<{ status: number; index?: bigint; share?: Uint8Array }> {
  try {
    const answer = await jsonRequest(`${baseUrl}/v1/realms/${REALM}/client-shares`, {
      json: { grant: grant.token, identity: bytesToBase64url(identity) },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (answer.status !== 200) return { status: answer.status };
    return { status: 200, index: BigInt(answer.body['index'] as number), share: base64urlToBytes(String(answer.body['share'])) };
  } catch {
    return { status: 0 };
  }
}

/** Logs in with the raw protocol; true when the MFA server accepts the proof. */
async function logsIn(identity: Uint8Array, token: Uint8Array, pin: string): Promise<boolean> {
  const { message, state } = clientPass1(suite, { identity, token, factors: [{ pin }] });
  const first = await jsonRequest(`${mfa.server.url}/v1/login/pass1`, { json: { identity: bytesToBase64url(identity), u: bytesToBase64url(message.u) } });
  if (first.status !== 200) return false;
  const { v } = clientPass2(state, { y: base64urlToBytes(String(first.body['y'])) });
  const second = await jsonRequest(`${mfa.server.url}/v1/login/pass2`, { json: { session: String(first.body['session']), v: bytesToBase64url(v) } });
  return second.status === 200;
}

describe('faults lose nothing', () => {
  it('a realm created while a member is partitioned becomes active everywhere once the partition heals', async () => {
    const frozen = partition(dtas[2]!);
    try {
      const created = await jsonRequest(`${dtas[0]!.server.url}/v1/realms`, {
        bearer: DTA_ADMIN_TOKEN,
        json: { realmId: 'after-partition', members: dtas.map((d) => d.id), threshold: 2, mfaService: mfa.id },
      });
      expect(created.status).toBe(202);
      // The protocol messages to dta-3 are stored and published while it cannot answer; the
      // proposer's metrics show them waiting for dta-3's acknowledgement.
      await waitFor('unacknowledged envelopes at the proposer', async () => (await metric(dtas[0]!, 'milagro_messaging_lagging_recipients')) >= 1, 60_000, 500);
      expect(await metric(dtas[0]!, 'milagro_messaging_unacknowledged_envelopes')).toBeGreaterThan(0);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    } finally {
      frozen.heal();
    }
    for (const dta of dtas) {
      await waitFor(`${dta.name} has the realm active`, async () => (await jsonRequest(`${dta.server.url}/v1/realms/after-partition`)).body['state'] === 'active', 300_000, 500);
    }
    const keys = await Promise.all(dtas.map(async (dta) => (await jsonRequest(`${dta.server.url}/v1/realms/after-partition`)).body['groupPublicKey']));
    expect(new Set(keys).size).toBe(1);
    // Every envelope sent during the partition was acknowledged after it.
    for (const dta of dtas) await waitFor(`${dta.name} has nothing unacknowledged`, async () => (await metric(dta, 'milagro_messaging_unacknowledged_envelopes')) === 0, 120_000, 500);
  }, 600_000);

  it('issues client shares with one D-TA partitioned, and the users log in', async () => {
    const frozen = partition(dtas[1]!);
    try {
      for (const userId of ['p1@example.org', 'p2@example.org', 'p3@example.org']) {
        const { identity, grants } = await activate(userId);
        const answers = await Promise.all(grants.map((grant) => fetchShare(grant, identity, 5_000)));
        const frozenGrant = grants.findIndex((g) => g.dta === dtas[1]!.id);
        expect(answers[frozenGrant]!.status).toBe(0); // no answer from behind the partition
        const shares = answers.filter((a) => a.status === 200).map((a) => ({ index: a.index!, share: a.share! }));
        expect(shares).toHaveLength(2);
        const token = extractToken(suite, { identity, clientSecret: combineClientSecret(suite, shares), factors: [{ pin: '4321' }] });
        expect(await logsIn(identity, token, '4321')).toBe(true);
      }
    } finally {
      frozen.heal();
    }
  }, 600_000);

  it('a D-TA killed with share requests in flight never answers one grant twice, before or after its restart', async () => {
    const victim = dtas[2]!;
    const users = await Promise.all(Array.from({ length: 12 }, (_, i) => activate(`crash-${i}@example.org`)));
    const grants = users.map((u) => ({ identity: u.identity, registration: u.registration, grant: u.grants.find((g) => g.dta === victim.id)! }));
    const before = grants.slice(0, 4);
    const inFlight = grants.slice(4);
    // Answered before the crash: these nonces are durable.
    const answeredBefore = await Promise.all(before.map(({ grant, identity }) => fetchShare(grant, identity)));
    expect(answeredBefore.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    // The crash lands while the rest are on their way.
    const racing = Promise.all(inFlight.map(({ grant, identity }) => fetchShare(grant, identity)));
    await new Promise((resolve) => setTimeout(resolve, 15));
    await victim.server.kill();
    const duringCrash = await racing;
    await restartDta(victim, swarmKey);
    await waitFor('the restarted D-TA has its realm', async () => (await jsonRequest(`${victim.server.url}/v1/realms/${REALM}`)).body['state'] === 'active', 120_000, 500);

    // Every grant, sent again twice: a grant never gets a second 200.
    const okCount = new Map<number, number>();
    inFlight.forEach((_, i) => okCount.set(i, duringCrash[i]!.status === 200 ? 1 : 0));
    for (let round = 0; round < 2; round += 1) {
      // The restarted D-TA listens on a new port (the test config asks for port 0).
      const retried = await Promise.all(inFlight.map(({ grant, identity }) => fetchShare(grant, identity, 20_000, victim.server.url)));
      retried.forEach((answer, i) => {
        if (answer.status === 200) okCount.set(i, okCount.get(i)! + 1);
        else expect([400, 403, 409]).toContain(answer.status);
      });
    }
    expect([...okCount.values()].every((n) => n <= 1)).toBe(true);
    const replayedBefore = await Promise.all(before.map(({ grant, identity }) => fetchShare(grant, identity, 20_000, victim.server.url)));
    for (const answer of replayedBefore) expect([400, 403, 409]).toContain(answer.status);
    // A request the crash cut off after its nonce was committed leaves a spent grant that was never
    // answered; the device asks for a fresh one (POST /v1/grants) and gets its share: nothing lost.
    for (const [i, { identity, registration }] of inFlight.entries()) {
      if (okCount.get(i) === 1) continue;
      const fresh = await jsonRequest(`${mfa.server.url}/v1/grants`, { json: { registration } });
      expect(fresh.status).toBe(200);
      const grant = (fresh.body['grants'] as Grant[]).find((g) => g.dta === victim.id)!;
      expect((await fetchShare(grant, identity, 20_000, victim.server.url)).status).toBe(200);
    }
  }, 600_000);

  it('the MFA server killed right after acknowledging registrations still has them after a restart', async () => {
    const users = ['k1@example.org', 'k2@example.org', 'k3@example.org'];
    const registrations: string[] = [];
    for (const userId of users) {
      const requested = await jsonRequest(`${mfa.server.url}/v1/registrations`, { json: { userId, deviceName: 'crash drill' } });
      expect(requested.status).toBe(202);
      registrations.push(String(requested.body['registration']));
    }
    const codes = await Promise.all(users.map(activationCode));
    await mfa.server.kill();
    await mfa.restart();
    await waitFor('MFA server ready again', async () => (await jsonRequest(`${mfa.server.url}/readyz`)).status === 200, 180_000, 500);
    for (const [i, userId] of users.entries()) {
      const activated = await jsonRequest(`${mfa.server.url}/v1/activations`, { json: { registration: registrations[i]!, code: codes[i]! } });
      expect(activated.status).toBe(200);
      const identity = base64urlToBytes(String(activated.body['identity']));
      const shares = [];
      for (const grant of (activated.body['grants'] as Grant[]).slice(0, 2)) {
        const answer = await fetchShare(grant, identity);
        expect(answer.status).toBe(200);
        shares.push({ index: answer.index!, share: answer.share! });
      }
      const token = extractToken(suite, { identity, clientSecret: combineClientSecret(suite, shares), factors: [{ pin: '9090' }] });
      expect(await logsIn(identity, token, '9090')).toBe(true);
      expect(userId).toContain('@');
    }
  }, 600_000);
});
