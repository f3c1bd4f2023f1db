/**
 * Issue 7's acceptance, with real processes: three D-TA servers (each its own OS process with an
 * embedded Helia node, file key store and SQLite database) and a client node holding the MFA
 * service, a principal, a beneficiary and a stranger. The D-TAs run the realm's DKG over messaging
 * (t = 2 of 3); with the third stopped, the other two issue; the combined client secret logs in
 * against the combined server secret; grants, permits, revocation, fiduciary orders and malformed
 * input are refused exactly as docs/specs/dta.md says.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64urlToBytes, bytesToBase64url, createMclBackend, sha256, utf8ToBytes } from '@milagro/crypto';
import { generateSwarmKey } from '@milagro/ipfs';
import {
  clientPass1,
  clientPass2,
  combineClientSecret,
  combineServerSecret,
  combineTimePermit,
  createChallenge,
  createServerKey,
  createSuite,
  extractToken,
  verifyLogin,
  type MpinSuite,
} from '@milagro/mpin';
import { killAllPeers, spawnPeer, waitFor, type PeerProcess } from '../../../tools/jest/peer-process.js';
import { DTA_ADMIN_TOKEN, jsonRequest, restartDta, startDtaCluster, type DtaProcess, type JsonAnswer } from '../../../tools/jest/dta-cluster.js';

const CLIENT = join(__dirname, 'support', 'realm-client-peer.ts');
const REALM = 'acme-mfa';
const ALICE = utf8ToBytes('alice@example.org');
const today = (): number => Math.floor(Date.now() / 86_400_000);

let root: string;
let swarmKey: string;
let client: PeerProcess;
let ids: Record<'mfa' | 'principal' | 'beneficiary' | 'stranger', string>;
let dtas: DtaProcess[] = [];
let suite: MpinSuite;

/** JSON over HTTP; `admin` adds the operator token. */
function json(url: string, init: RequestInit & { json?: unknown; admin?: boolean } = {}): Promise<JsonAnswer> {
  const { admin, ...rest } = init;
  return jsonRequest(url, { ...rest, ...(admin === true ? { bearer: DTA_ADMIN_TOKEN } : {}) });
}

async function grant(args: Record<string, unknown>): Promise<string> {
  return client.request<string>('grant', { realm: REALM, identity: bytesToBase64url(ALICE), ...args });
}

async function clientShare(dta: DtaProcess, body: Record<string, unknown>) {
  return json(`${dta.server.url}/v1/realms/${REALM}/client-shares`, { json: body });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'milagro-dta-e2e-'));
  swarmKey = generateSwarmKey();
  suite = createSuite({ suite: 'modern', backend: await createMclBackend() });
  dtas = await startDtaCluster({ root, swarmKey });
  client = await spawnPeer({ entry: CLIENT, config: { dataDir: join(root, 'client'), swarmKey }, timeoutMs: 180_000 });
  ids = client.ready['ids'] as typeof ids;
  for (const dta of dtas) await client.request('dial', { addr: dta.addrs[0] });
}, 600_000);

afterAll(async () => {
  await Promise.all(dtas.map((dta) => dta.server.stop()));
  killAllPeers();
  rmSync(root, { recursive: true, force: true });
});

describe('three D-TAs, threshold 2', () => {
  it('run the realm DKG: every member is active with the same group public key and its own index', async () => {
    const created = await json(`${dtas[0]!.server.url}/v1/realms`, {
      admin: true,
      json: { realmId: REALM, members: dtas.map((d) => d.id), threshold: 2, mfaService: ids.mfa, permitHorizonDays: 2, grantMaxLifetimeMinutes: 10 },
    });
    expect(created.status).toBe(202);
    const statuses: Array<Record<string, unknown>> = [];
    for (const dta of dtas) {
      await waitFor(`${dta.name} active`, async () => (await json(`${dta.server.url}/v1/realms/${REALM}`)).body['state'] === 'active', 180_000, 500);
      statuses.push((await json(`${dta.server.url}/v1/realms/${REALM}`)).body);
    }
    expect(new Set(statuses.map((s) => s['groupPublicKey'])).size).toBe(1);
    expect(statuses.map((s) => s['index'])).toEqual([1, 2, 3]);
    expect(new Set(statuses.map((s) => s['transcriptHash'])).size).toBe(1);
  }, 240_000);

  it('refuses to create a realm without the operator token', async () => {
    const response = await json(`${dtas[0]!.server.url}/v1/realms`, { json: { realmId: 'other', members: dtas.map((d) => d.id), threshold: 2, mfaService: ids.mfa } });
    expect(response.status).toBe(401);
    expect(response.type).toContain('application/problem+json');
  });

  it('sends server-secret shares only to the MFA service, which combines any two', async () => {
    await waitFor('server shares', async () => (await client.request<unknown[]>('serverShares', { realm: REALM })).length >= 3, 120_000, 500);
  }, 150_000);

  it('with the third D-TA stopped, any two issue: the combined client secret logs in against the combined server secret', async () => {
    await dtas[2]!.server.stop();
    const shares = [];
    for (const dta of dtas.slice(0, 2)) {
      const response = await clientShare(dta, { grant: await grant({ purpose: 'client-secret', audience: dta.id }), identity: bytesToBase64url(ALICE) });
      expect(response.status).toBe(200);
      shares.push({ index: BigInt(response.body['index'] as number), share: base64urlToBytes(String(response.body['share'])) });
    }
    const clientSecret = combineClientSecret(suite, shares);
    const serverShares = await client.request<Array<{ index: number; share: string }>>('serverShares', { realm: REALM });
    const server = createServerKey(suite, combineServerSecret(suite, serverShares.slice(1, 3).map((s) => ({ index: BigInt(s.index), share: base64urlToBytes(s.share) }))));
    const token = extractToken(suite, { identity: ALICE, clientSecret, factors: [{ pin: '2468' }] });
    for (const [pin, ok] of [['2468', true], ['1357', false]] as const) {
      const { message, state } = clientPass1(suite, { identity: ALICE, token, factors: [{ pin }] });
      const { challenge, keep } = createChallenge(suite);
      const { v } = clientPass2(state, challenge);
      expect(verifyLogin(server, { identity: ALICE, ...message, v, y: keep.y }).ok).toBe(ok);
    }

    // Time permits from the same two: the login with today's permit succeeds.
    const permitShares = [];
    for (const dta of dtas.slice(0, 2)) {
      const response = await json(`${dta.server.url}/v1/realms/${REALM}/time-permit-shares`, {
        json: { grant: await grant({ purpose: 'time-permit', audience: dta.id, day: today() }), identity: bytesToBase64url(ALICE), day: today() },
      });
      expect(response.status).toBe(200);
      permitShares.push({ index: BigInt(response.body['index'] as number), share: base64urlToBytes(String(response.body['share'])) });
    }
    const permit = combineTimePermit(suite, permitShares);
    const { message, state } = clientPass1(suite, { identity: ALICE, token, factors: [{ pin: '2468' }], timePermit: { day: today(), permit } });
    const { challenge, keep } = createChallenge(suite);
    const { v } = clientPass2(state, challenge);
    expect(verifyLogin(server, { identity: ALICE, day: today(), ...message, v, y: keep.y }).ok).toBe(true);
  }, 120_000);

  it('refuses replayed, expired, forged and wrong-audience grants', async () => {
    const [one, two] = dtas as [DtaProcess, DtaProcess];
    const token = await grant({ purpose: 'client-secret', audience: one.id });
    expect((await clientShare(one, { grant: token, identity: bytesToBase64url(ALICE) })).status).toBe(200);
    const replayed = await clientShare(one, { grant: token, identity: bytesToBase64url(ALICE) });
    expect([replayed.status, replayed.body['code']]).toEqual([409, 'GRANT_REPLAYED']);

    const expired = await clientShare(one, { grant: await grant({ purpose: 'client-secret', audience: one.id, lifetimeSeconds: 60, issuedSecondsAgo: 120 }), identity: bytesToBase64url(ALICE) });
    expect([expired.status, expired.body['code']]).toEqual([403, 'GRANT_EXPIRED']);

    const forged = await clientShare(one, { grant: await grant({ purpose: 'client-secret', audience: one.id, signAs: 'stranger' }), identity: bytesToBase64url(ALICE) });
    expect([forged.status, forged.body['code']]).toEqual([403, 'GRANT_INVALID']);

    const elsewhere = await clientShare(one, { grant: await grant({ purpose: 'client-secret', audience: two.id }), identity: bytesToBase64url(ALICE) });
    expect([elsewhere.status, elsewhere.body['code']]).toEqual([403, 'GRANT_WRONG_AUDIENCE']);

    const someoneElse = await clientShare(one, { grant: await grant({ purpose: 'client-secret', audience: one.id }), identity: bytesToBase64url(utf8ToBytes('mallory@example.org')) });
    expect(someoneElse.status).toBe(403);
  }, 60_000);

  it('refuses a permit beyond the horizon, and permits for a revoked identity until reinstated', async () => {
    const [one, two] = dtas as [DtaProcess, DtaProcess];
    const permit = async (day: number) =>
      json(`${one.server.url}/v1/realms/${REALM}/time-permit-shares`, { json: { grant: await grant({ purpose: 'time-permit', audience: one.id, day }), identity: bytesToBase64url(ALICE), day } });
    const far = await permit(today() + 3);
    expect([far.status, far.body['code']]).toEqual([403, 'PERMIT_BEYOND_HORIZON']);
    expect((await permit(today() + 2)).status).toBe(200);

    const aliceHash = bytesToBase64url(sha256(ALICE));
    await client.request('revoke', { realm: REALM, to: [one.id, two.id], seq: 1, revoke: [aliceHash] }, 60_000);
    await waitFor('revocation applied', async () => (await permit(today())).body['code'] === 'IDENTITY_REVOKED', 30_000, 200);
    const refused = await clientShare(one, { grant: await grant({ purpose: 'client-secret', audience: one.id }), identity: bytesToBase64url(ALICE) });
    expect(refused.body['code']).toBe('IDENTITY_REVOKED');

    await client.request('revoke', { realm: REALM, to: [one.id, two.id], seq: 2, revoke: [], reinstate: [aliceHash] }, 60_000);
    await waitFor('reinstatement applied', async () => (await permit(today())).status === 200, 30_000, 200);
  }, 120_000);

  it('answers malformed input with 400 problem documents and unknown things with 404', async () => {
    const url = dtas[0]!.server.url;
    const malformed = await clientShare(dtas[0]!, { grant: 'not base64url!', identity: 5 });
    expect(malformed.status).toBe(400);
    expect(malformed.type).toContain('application/problem+json');
    expect(malformed.body['code']).toBe('INVALID_REQUEST');
    // A well-formed request whose grant is junk: the credential is refused, as any invalid grant is.
    const junkGrant = await clientShare(dtas[0]!, { grant: bytesToBase64url(utf8ToBytes('junk')), identity: bytesToBase64url(ALICE) });
    expect([junkGrant.status, junkGrant.body['code']]).toEqual([403, 'GRANT_INVALID']);
    const oversized = await clientShare(dtas[0]!, { grant: 'A'.repeat(6000), identity: bytesToBase64url(ALICE) });
    expect([oversized.status, oversized.body['code']]).toEqual([400, 'INVALID_REQUEST']);
    const unknownRealm = await json(`${url}/v1/realms/no-such-realm`);
    expect([unknownRealm.status, unknownRealm.body['code']]).toEqual([404, 'NOT_FOUND']);
    const notJson = await fetch(`${url}/v1/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
    const openapi = await json(`${url}/openapi.json`);
    expect(Object.keys(openapi.body['paths'] as object)).toEqual(expect.arrayContaining(['/v1/realms/{realmId}/client-shares', '/v1/orders', '/v1/redemptions']));
  });
});

describe('fiduciary orders between a principal node and a fiduciary D-TA', () => {
  const secret = bytesToBase64url(utf8ToBytes('the combination of the vault'));

  it('safeguards a secret: ordered once, replays answered alike, redeemed once by the beneficiary, never by a stranger', async () => {
    const fiduciary = dtas[0]!;
    const order = await client.request<{ cid: string; envelope: string }>('order', { as: 'principal', fiduciary: fiduciary.id, plugin: 'safeguard-secret', secret, beneficiary: 'beneficiary' });
    const placed = await json(`${fiduciary.server.url}/v1/orders`, { json: { order: order.envelope } });
    expect(placed.status).toBe(200);
    const replays = await Promise.all([1, 2, 3].map(() => json(`${fiduciary.server.url}/v1/orders`, { json: { order: order.envelope } })));
    for (const replay of replays) expect(replay.body['cid']).toBe(placed.body['cid']);
    const fulfilment = await client.request<{ cid: string; reference: string }>('openFulfilment', { as: 'principal', fiduciary: fiduciary.id, envelope: placed.body['envelope'], order: order.cid });

    const redeem = async (as: string) => {
      const redemption = await client.request<{ cid: string; envelope: string }>('redeem', { as, fiduciary: fiduciary.id, reference: fulfilment.reference, fulfilment: fulfilment.cid });
      return { redemption, response: await json(`${fiduciary.server.url}/v1/redemptions`, { json: { redemption: redemption.envelope } }) };
    };
    const stranger = await redeem('stranger');
    expect([stranger.response.status, stranger.response.body['code']]).toEqual([403, 'NOT_AUTHORISED']);
    const rightful = await redeem('beneficiary');
    expect(rightful.response.status).toBe(200);
    const released = await client.request<{ secret: string }>('openRelease', { as: 'beneficiary', fiduciary: fiduciary.id, envelope: rightful.response.body['envelope'], redemption: rightful.redemption.cid });
    expect(released.secret).toBe(secret);
    const again = await redeem('principal');
    expect([again.response.status, again.response.body['code']]).toEqual([409, 'CONFLICT']);

    const unknown = await client.request<{ envelope: string }>('redeem', { as: 'principal', fiduciary: fiduciary.id, reference: 'A'.repeat(43), fulfilment: fulfilment.cid });
    const missing = await json(`${fiduciary.server.url}/v1/redemptions`, { json: { redemption: unknown.envelope } });
    expect([missing.status, missing.body['code']]).toEqual([404, 'NOT_FOUND']);
  }, 120_000);

  it('keeps a 2-party bitcoin key: the address of the redeemed key is the address from the order, and a replayed order never changes it', async () => {
    const fiduciary = dtas[1]!;
    const order = await client.request<{ cid: string; envelope: string }>('order', { as: 'principal', fiduciary: fiduciary.id, plugin: 'bitcoin-address' });
    const placed = await json(`${fiduciary.server.url}/v1/orders`, { json: { order: order.envelope } });
    expect(placed.status).toBe(200);
    const fulfilment = await client.request<{ cid: string; reference: string; commitment: { address: string } }>('openFulfilment', { as: 'principal', fiduciary: fiduciary.id, envelope: placed.body['envelope'], order: order.cid });
    // The fiduciary restarts; the replayed order must return the same fulfilment, not a new key.
    await fiduciary.server.stop();
    await restartDta(fiduciary, swarmKey);
    await client.request('dial', { addr: fiduciary.addrs[0] });
    const replayed = await json(`${fiduciary.server.url}/v1/orders`, { json: { order: order.envelope } });
    expect(replayed.body['cid']).toBe(placed.body['cid']);

    const redemption = await client.request<{ cid: string; envelope: string }>('redeem', { as: 'principal', fiduciary: fiduciary.id, reference: fulfilment.reference, fulfilment: fulfilment.cid, beneficiary: 'beneficiary' });
    const released = await json(`${fiduciary.server.url}/v1/redemptions`, { json: { redemption: redemption.envelope } });
    expect(released.status).toBe(200);
    const opened = await client.request<{ address: string }>('openRelease', { as: 'beneficiary', fiduciary: fiduciary.id, envelope: released.body['envelope'], redemption: redemption.cid, keyOf: order.cid });
    expect(opened.address).toBe(fulfilment.commitment.address);
  }, 180_000);
});
