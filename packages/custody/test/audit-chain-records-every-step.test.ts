/**
 * Every request, approval, round and result is an envelope in the vault's `prev`-linked audit
 * chain at each operator (real PKI identities, envelopes signed by the operator and sealed to it):
 * the chain read back from the head verifies, links every entry to the one before, and tells the
 * vault's story in order; it holds no key share.
 */
import { approveSpend, createSpendRequest, signVaultDefinition } from '../src/principal.js';
import { CustodyNetwork } from './support/custody-network.js';

jest.setTimeout(120_000);

let network: CustodyNetwork;

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma'], { withAudit: true });
});

afterAll(async () => {
  await network.close();
});

it('records the vault, the request with its approvals, the rounds and the result, prev-linked', async () => {
  const principal = await network.party('principal');
  const approver = await network.party('approver');
  const alpha = network.operator('alpha');
  await alpha.service.createVault(await signVaultDefinition(principal, network.definition('audited', principal.id, 2, { approvers: [approver.id], approvals: 1 })));
  await Promise.all(network.operators.map((o) => o.service.waitForVault('audited', { timeoutMs: 60_000 })));
  const signed = await createSpendRequest(principal, 'audited', { kind: 'message', message: new Uint8Array(32).fill(1) });
  const result = await alpha.service.sign({ ...signed, approvals: [await approveSpend(approver, signed.request)] });
  for (const o of network.operators) await o.service.auditSettled();

  const status = await alpha.service.vault('audited');
  expect(status.auditHead).toBeDefined();
  const entries = await network.auditEntries(alpha, 'audited');
  const kinds = entries.map((e) => e.entry.kind).reverse();
  expect(kinds).toEqual(['vault-proposed', 'dkg-round', 'vault-active', 'spend-request', 'sign-round', 'spend-signed']);
  for (let i = 0; i < entries.length - 1; i++) expect(entries[i]!.prev).toBe(entries[i + 1]!.cid);
  expect(entries.at(-1)!.prev).toBeUndefined();
  const request = entries.find((e) => e.entry.kind === 'spend-request')!.entry;
  expect(request['requestId']).toBe(result.requestId);
  expect(request['approvals']).toEqual([approver.id]);
  expect(entries[0]!.entry['signatures']).toEqual([result.signatures[0]]);

  // The other operators keep their own chains of the same story.
  for (const name of ['beta', 'gamma']) {
    const o = network.operator(name);
    const own = await network.auditEntries(o, 'audited');
    expect(own.map((e) => e.entry.kind)).toContain('vault-active');
    expect(own.map((e) => e.entry.kind)).toContain('spend-request');
  }
});
