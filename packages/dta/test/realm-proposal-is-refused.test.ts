/**
 * A member accepts a realm proposal only from a member it trusts, only for a realm it belongs
 * to, and only with a valid definition whose session id matches; otherwise it refuses: it sends
 * nothing, records why, and ignores the session's later messages. Refusals are idempotent.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { randomBytes } from '@milagro/crypto';
import { createRealmProposal, encodeRealmProposal, REALM_MESSAGE_TYPES } from '../src/realm-protocol.js';
import { RealmRepository } from '../src/realm-repository.js';
import { fakeIdentity, RealmNetwork } from './support/realm-network.js';

jest.setTimeout(120_000);

let network: RealmNetwork;

beforeAll(async () => {
  // gamma trusts only beta to propose realms; alpha and beta trust everyone.
  network = await RealmNetwork.create(['alpha', 'beta', 'gamma'], (name, ids) => ({
    roundTimeoutMs: 8_000,
    ...(name === 'gamma' ? { trustedProposers: [ids['beta']!] } : {}),
  }));
});

afterAll(async () => {
  await network.close();
});

it('an untrusted proposer is refused: the member sends nothing and records why; the others complete without it', async () => {
  const [alpha, beta, gamma] = [network.member('alpha'), network.member('beta'), network.member('gamma')];
  await alpha.service.createRealm(network.definition('untrusted', 2, await fakeIdentity('mfa')));
  await Promise.all([alpha, beta].map((m) => m.service.waitForRealm('untrusted', { timeoutMs: 60_000 })));
  expect((await alpha.service.realm('untrusted')).result!.qualified).toEqual([1n, 2n]);

  expect(network.sent.filter((m) => m.from === gamma.id)).toEqual([]);
  await expect(gamma.service.realm('untrusted')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  const refusals = gamma.notices.filter((n) => n.kind === 'proposal-refused');
  expect(refusals).toEqual([expect.objectContaining({ reason: 'the proposer is not trusted to propose realms', realmId: 'untrusted', peer: alpha.id })]);
  const session = await (await RealmRepository.open(gamma.db)).session(refusals[0]!.sessionId!);
  expect(session).toMatchObject({ state: 'refused', reason: 'the proposer is not trusted to propose realms', proposer: alpha.id });

  // Redelivered, the proposal is not refused (or recorded) twice.
  const proposal = network.sent.find((m) => m.to === gamma.id && m.type === REALM_MESSAGE_TYPES.proposal)!;
  await gamma.service.handleMessage(proposal);
  expect(gamma.notices.filter((n) => n.kind === 'proposal-refused')).toHaveLength(1);
});

it('refuses proposals from non-members, for realms it is not in, with a forged session id, or malformed', async () => {
  const [alpha, beta, gamma] = [network.member('alpha'), network.member('beta'), network.member('gamma')];
  const mfa = await fakeIdentity('mfa');
  const stranger = await fakeIdentity('stranger');
  const send = (from: string, body: Uint8Array) => gamma.service.handleMessage({ from, type: REALM_MESSAGE_TYPES.proposal, body });
  const proposal = (members: string[]) =>
    createRealmProposal({ realmId: 'r-refused', members, threshold: 2, mfaService: mfa, permitHorizonDays: 1, grantMaxLifetimeMinutes: 5 }, 0, randomBytes(16));

  await send(stranger, encodeRealmProposal(proposal([beta.id, gamma.id])));
  await send(beta.id, encodeRealmProposal(proposal([alpha.id, beta.id]))); // gamma is not in it
  await send(beta.id, encodeRealmProposal({ ...proposal([beta.id, gamma.id]), sessionId: new Uint8Array(32) }));
  await send(beta.id, dagCbor.encode({ v: 1, kind: 'dkg' }));
  await send(beta.id, encodeRealmProposal(proposal([beta.id, gamma.id])).slice(0, 40)); // truncated

  const reasons = gamma.notices.filter((n) => n.kind === 'proposal-refused').slice(1).map((n) => n.reason);
  expect(reasons[0]).toBe('the proposer is not a member of the realm');
  expect(reasons[1]).toBe('this D-TA is not a member of the realm');
  expect(reasons[2]).toMatch(/malformed proposal: the session id does not match/);
  expect(reasons[3]).toMatch(/malformed proposal/);
  expect(reasons[4]).toMatch(/malformed proposal/);
  await expect(gamma.service.realm('r-refused')).rejects.toMatchObject({ code: 'NOT_FOUND' });

  // And a trusted member's valid proposal is accepted.
  await send(beta.id, encodeRealmProposal(proposal([beta.id, gamma.id])));
  expect((await gamma.service.realm('r-refused')).state).toBe('pending');
});

it('refuses createRealm for a realm this D-TA is not in, and invalid definitions', async () => {
  const alpha = network.member('alpha');
  const mfa = await fakeIdentity('mfa');
  const base = { realmId: 'bad', members: [alpha.id], threshold: 1, mfaService: mfa, permitHorizonDays: 1, grantMaxLifetimeMinutes: 5 };
  await expect(alpha.service.createRealm({ ...base, members: [network.member('beta').id] })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  for (const bad of [{ realmId: 'Bad!' }, { threshold: 2 }, { threshold: 0 }, { members: [alpha.id, alpha.id] }, { members: ['not-a-cid'] }, { mfaService: 'x' }, { permitHorizonDays: -1 }, { grantMaxLifetimeMinutes: 0.5 }]) {
    await expect(alpha.service.createRealm({ ...base, ...bad } as never)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  }
  // n = 1, t = 1 is the degenerate but valid case: it runs locally.
  await alpha.service.createRealm({ ...base, realmId: 'solo' });
  expect((await alpha.service.waitForRealm('solo', { timeoutMs: 30_000 })).index).toBe(1n);
});
