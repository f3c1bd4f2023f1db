/**
 * The outcome of a signing request reaches every operator of the vault, not only the signers
 * (spec §5, step 5): three operators t = 2 in one process (real SQLite, key stores, PKI identities
 * and audit chains). An operator that never saw the request, and one that lost a split brain (it
 * took the request id and found no second signer), record the signature the others made: checked
 * under the vault's key, over the request the principal signed, marked `learnedFrom`, and in their
 * audit chains. An operator whose own policy check refuses a request the others signed records it
 * refused, with the signatures, and raises a `policy-conflict` (notice and audit entry). A result
 * whose signatures do not verify, or that names another request, is ignored.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { schnorr } from '@noble/curves/secp256k1.js';
import { hexToBytes } from '@milagro/crypto';
import { CUSTODY_MESSAGE_TYPES, sessionId } from '../src/custody-protocol.js';
import type { CustodyMessage } from '../src/custody-service.js';
import { approveSpend, createSpendRequest, signVaultDefinition, type CustodySigner } from '../src/principal.js';
import { CustodyNetwork, type Operator } from './support/custody-network.js';

jest.setTimeout(180_000);

const VAULT = 'learns';
let network: CustodyNetwork;
let principal: CustodySigner;
let approver: CustodySigner;
let outputKey: Uint8Array;

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma'], { withAudit: true });
  principal = await network.party('principal');
  approver = await network.party('approver');
  await network.operator('alpha').service.createVault(await signVaultDefinition(principal, network.definition(VAULT, principal.id, 2, { approvers: [approver.id], approvals: 1 })));
  const vaults = await Promise.all(network.operators.map((o) => o.service.waitForVault(VAULT, { timeoutMs: 120_000 })));
  outputKey = Buffer.from(vaults[0]!.key!.outputKey, 'hex');
});

afterAll(async () => {
  await network.close();
});

async function approvedRequest(seed: number) {
  const message = new Uint8Array(32).fill(seed);
  const signed = await createSpendRequest(principal, VAULT, { kind: 'message', message });
  return { message, signed: { ...signed, approvals: [await approveSpend(approver, signed.request)] } };
}

/** Holds back every message to `name` (returned, in order) until the returned release is called. */
function cutOff(name: string): { held: Array<CustodyMessage & { to: string }>; release: () => void } {
  const id = network.operator(name).id;
  const held: Array<CustodyMessage & { to: string }> = [];
  const intercept = (message: CustodyMessage & { to: string }) => {
    if (message.to !== id && message.from !== id) return message;
    held.push(message);
    return undefined;
  };
  network.interceptors.push(intercept);
  return { held, release: () => network.interceptors.splice(network.interceptors.indexOf(intercept), 1) };
}

/** The result `from` sent to the cut-off operator (it is sent as the coordination ends). */
async function heldResult(cut: { held: Array<CustodyMessage & { to: string }> }, from: Operator): Promise<CustodyMessage & { to: string }> {
  for (let i = 0; i < 600; i++) {
    const found = cut.held.find((m) => m.type === CUSTODY_MESSAGE_TYPES.signResult && m.from === from.id);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no result from ${from.name}`);
}

async function waitForState(operator: Operator, requestId: string, state: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const stored = await operator.service.request(VAULT, requestId).catch(() => undefined);
    if (stored?.state === state) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${operator.name} never recorded ${requestId} as ${state}`);
}

function auditEntries(operator: Operator) {
  return network.auditEntries(operator, VAULT);
}

it('an operator that never saw the request records the signature the others made', async () => {
  const [alpha, gamma] = [network.operator('alpha'), network.operator('gamma')];
  const cut = cutOff('gamma');
  const { message, signed } = await approvedRequest(0x21);
  const result = await alpha.service.sign(signed);
  expect(result.signers).toEqual([1, 2]);
  cut.release();
  // Only the result comes through (the request itself stays lost): gamma checks it on its own.
  const resultMessage = await heldResult(cut, alpha);
  await gamma.service.handleMessage(resultMessage);
  const stored = await gamma.service.request(VAULT, result.requestId);
  expect(stored.state).toBe('signed');
  expect(stored.result!.learnedFrom).toBe(alpha.id);
  expect(stored.result!.signers).toEqual([1, 2]);
  expect(Buffer.from(stored.result!.signatures[0]!)).toEqual(Buffer.from(result.signatures[0]!));
  expect(schnorr.verify(stored.result!.signatures[0]!, message, outputKey)).toBe(true);
  // The id is consumed at gamma now: the request never signs there.
  await expect(gamma.service.sign(signed)).rejects.toMatchObject({ code: 'REQUEST_REPLAYED' });
  const signedEntries = (await auditEntries(gamma)).filter((e) => e.entry.kind === 'spend-signed' && e.entry['requestId'] === result.requestId);
  expect(signedEntries).toHaveLength(1);
  expect(signedEntries[0]!.entry['learnedFrom']).toBe(alpha.id);
  // Delivered again: recorded once.
  await gamma.service.handleMessage(resultMessage);
  expect((await auditEntries(gamma)).filter((e) => e.entry.kind === 'spend-signed' && e.entry['requestId'] === result.requestId)).toHaveLength(1);
});

it('after a split brain, the operator that took the id and found no second signer records the signature and answers with it', async () => {
  const [alpha, gamma] = [network.operator('alpha'), network.operator('gamma')];
  const cut = cutOff('gamma');
  const { message, signed } = await approvedRequest(0x22);
  const result = await alpha.service.sign(signed);
  // gamma, cut off, is asked for the same request: it takes the id and waits for a second signer.
  const answer = gamma.service.sign(signed);
  await waitForState(gamma, result.requestId, 'signing');
  cut.release();
  await gamma.service.handleMessage(await heldResult(cut, alpha));
  const outcome = await answer;
  expect(Buffer.from(outcome.signatures[0]!)).toEqual(Buffer.from(result.signatures[0]!));
  expect(outcome.learnedFrom).toBe(alpha.id);
  expect(schnorr.verify(outcome.signatures[0]!, message, outputKey)).toBe(true);
  expect((await gamma.service.request(VAULT, result.requestId)).state).toBe('signed');
  const kinds = (await auditEntries(gamma)).filter((e) => e.entry['requestId'] === result.requestId).map((e) => e.entry.kind);
  expect(kinds.filter((k) => k === 'spend-signed')).toHaveLength(1);
  expect(kinds).not.toContain('spend-failed');
});

it('a result whose signatures do not verify, or that names another request, is ignored', async () => {
  const [alpha, beta, gamma] = [network.operator('alpha'), network.operator('beta'), network.operator('gamma')];
  const cut = cutOff('gamma');
  const { signed } = await approvedRequest(0x23);
  const result = await alpha.service.sign(signed);
  cut.release();
  const real = await heldResult(cut, alpha);
  const body = dagCbor.decode(real.body) as Record<string, unknown>;
  const flipped = (body['signatures'] as Uint8Array[]).map((s) => s.slice());
  flipped[0]![5]! ^= 1;
  const other = await approvedRequest(0x24);
  const otherId = (dagCbor.decode(other.signed.request) as { requestId: string }).requestId;
  const otherSpend = { request: other.signed.request, signature: other.signed.signature, approvals: [] };
  const forgeries = [
    { ...body, signatures: flipped },
    // The signatures of one request with another (principal-signed) request: they do not verify over its message.
    { ...body, spend: otherSpend, requestId: otherId, session: sessionId('sign', VAULT, hexToBytes(otherId)) },
    // Another request under this request's session.
    { ...body, spend: otherSpend, requestId: otherId },
  ];
  for (const forged of forgeries) await gamma.service.handleMessage({ from: beta.id, type: CUSTODY_MESSAGE_TYPES.signResult, body: dagCbor.encode(forged) });
  await expect(gamma.service.request(VAULT, result.requestId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  await expect(gamma.service.request(VAULT, otherId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  expect(gamma.notices.filter((n) => n.kind === 'message-ignored' && n.reason.startsWith(CUSTODY_MESSAGE_TYPES.signResult)).length).toBeGreaterThanOrEqual(3);
  // The real one still counts.
  await gamma.service.handleMessage(real);
  expect((await gamma.service.request(VAULT, result.requestId)).state).toBe('signed');
});

it('an operator whose own policy check refuses a request the others signed records it refused and raises a policy conflict', async () => {
  const [alpha, gamma] = [network.operator('alpha'), network.operator('gamma')];
  // gamma's PKI view of the approver differs (say, a rotation only it has seen): the approval does not verify there.
  await network.stop(gamma);
  const otherKey = (await network.party('someone else')).id;
  await network.start(gamma, {
    signingKey: async (identity) => {
      const key = network.keys.get(identity === approver.id ? otherKey : identity);
      if (!key) throw new Error('unknown identity');
      return key;
    },
  });
  const { message, signed } = await approvedRequest(0x25);
  const result = await alpha.service.sign(signed);
  expect(result.signers).toEqual([1, 2]);
  await waitForState(gamma, result.requestId, 'refused');
  const stored = await gamma.service.request(VAULT, result.requestId);
  expect(stored.reason).toMatch(/^policy conflict: operators 1, 2 signed/);
  expect(stored.result!.policyConflict).toMatch(/^POLICY_REFUSED: 0 valid approval/);
  expect(schnorr.verify(stored.result!.signatures[0]!, message, outputKey)).toBe(true);
  expect(gamma.notices.filter((n) => n.kind === 'policy-conflict').map((n) => n.peer)).toEqual([alpha.id]);
  const conflicts = (await auditEntries(gamma)).filter((e) => e.entry.kind === 'spend-signed-against-policy');
  expect(conflicts.map((e) => e.entry['requestId'])).toEqual([result.requestId]);
  expect((await auditEntries(gamma)).some((e) => e.entry.kind === 'spend-signed' && e.entry['requestId'] === result.requestId)).toBe(false);
});
