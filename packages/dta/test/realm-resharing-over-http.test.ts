/**
 * The operator's realm routes over real HTTP servers, one per D-TA: create a realm with the
 * operator token, reshare it to two of its three members, and read the outcome from each D-TA's
 * status (epoch, indices, `retired`). The routes refuse a missing token (401), a bad member list
 * (400) and a retired D-TA's resharing (410), each as a problem document.
 */
import { createHttpServer } from '@milagro/http';
import { pino } from 'pino';
import { createDtaApi, type DtaServices } from '../src/dta-api.js';
import { fakeIdentity, RealmNetwork, type Member } from './support/realm-network.js';

jest.setTimeout(180_000);

const REALM = 'over-http';
const ADMIN = 'operator-token-for-these-tests';
let network: RealmNetwork;
const urls = new Map<string, string>();
const servers: Array<{ close(): Promise<void> }> = [];

const unused = (): never => {
  throw new Error('not used by these tests');
};

/** The routes of one member, always over its current service (a restart replaces it). */
function servicesOf(member: Member): DtaServices {
  return {
    self: member.id,
    realms: {
      createRealm: (definition) => network.member(member.name).service.createRealm(definition),
      reshareRealm: (request) => network.member(member.name).service.reshareRealm(request),
      realm: (realmId) => network.member(member.name).service.realm(realmId),
      listRealms: () => network.member(member.name).service.listRealms(),
    },
    issuance: { issueClientShare: unused, issueTimePermitShare: unused },
    fiduciary: { fulfilOrder: unused, redeemOrder: unused },
  };
}

async function call(name: string, method: string, path: string, body?: unknown, token: string | null = ADMIN): Promise<{ status: number; type: string; json: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const response = await fetch(`${urls.get(name)}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, type: response.headers.get('content-type') ?? '', json: (await response.json()) as Record<string, unknown> };
}

async function until(name: string, check: (status: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const { json } = await call(name, 'GET', `/v1/realms/${REALM}`);
    if (check(json)) return json;
    if (Date.now() > deadline) throw new Error(`${name}: realm never reached the expected state; last ${JSON.stringify(json)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  network = await RealmNetwork.create(['alpha', 'beta', 'gamma']);
  for (const member of network.members) {
    const server = createHttpServer({ apis: [createDtaApi(servicesOf(member), { adminToken: ADMIN })], logger: pino({ level: 'silent' }) });
    const listening = await server.listen({ port: 0, host: '127.0.0.1' });
    urls.set(member.name, listening.url.replace(/\/$/, ''));
    servers.push(listening);
  }
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await network.close();
});

it('creates a realm, reshares it from three members to two, and each D-TA reports the outcome', async () => {
  const [alpha, beta, gamma] = ['alpha', 'beta', 'gamma'].map((name) => network.member(name)) as [Member, Member, Member];
  const definition = { realmId: REALM, members: [alpha.id, beta.id, gamma.id], threshold: 2, mfaService: await fakeIdentity('mfa') };

  expect((await call('alpha', 'POST', '/v1/realms', definition, null)).status).toBe(401);
  const created = await call('alpha', 'POST', '/v1/realms', definition);
  expect(created.status).toBe(202);
  for (const name of ['alpha', 'beta', 'gamma']) await until(name, (s) => s['state'] === 'active');
  const groupKey = (await call('beta', 'GET', `/v1/realms/${REALM}`)).json['groupPublicKey'];

  // Refusals first: no token, and a threshold above the new member count.
  const reshare = { members: [beta.id, gamma.id], threshold: 2 };
  const anonymous = await call('beta', 'POST', `/v1/realms/${REALM}/resharing`, reshare, null);
  expect(anonymous.status).toBe(401);
  expect(anonymous.type).toContain('application/problem+json');
  const tooHigh = await call('beta', 'POST', `/v1/realms/${REALM}/resharing`, { members: [beta.id, gamma.id], threshold: 3 });
  expect(tooHigh).toMatchObject({ status: 400, json: { code: 'INVALID_REQUEST' } });

  const started = await call('beta', 'POST', `/v1/realms/${REALM}/resharing`, reshare);
  expect(started.status).toBe(202);
  expect(started.json).toMatchObject({ epoch: 0, state: 'active', resharing: { epoch: 1, members: [beta.id, gamma.id], threshold: 2 } });

  const b = await until('beta', (s) => s['epoch'] === 1 && s['state'] === 'active');
  const g = await until('gamma', (s) => s['epoch'] === 1 && s['state'] === 'active');
  expect([b['index'], g['index']]).toEqual([1, 2]);
  expect(b['groupPublicKey']).toBe(groupKey); // same master secret
  expect(b['members']).toEqual([beta.id, gamma.id]);
  expect(b['resharing']).toBeUndefined();
  await until('alpha', (s) => s['state'] === 'retired');

  const retired = await call('alpha', 'POST', `/v1/realms/${REALM}/resharing`, { members: [alpha.id, beta.id], threshold: 2 });
  expect(retired).toMatchObject({ status: 410, json: { code: 'REALM_RETIRED' } });
});
