/**
 * Signing with three operators, t = 2 (in one process, real SQLite and key stores): a 32-byte
 * message and a PSBT spending the vault's Taproot output are signed; the BIP-340 signature and the
 * finalised transaction verify independently (BIP-341 sighash written out in the test); signing
 * works with one operator stopped; requests failing the policy are refused, also by the honest
 * operators when a coordinator forwards them anyway; a replayed request never signs twice.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { schnorr } from '@noble/curves/secp256k1.js';
import * as btc from '@scure/btc-signer';
import { CUSTODY_MESSAGE_TYPES, encodeMessage, sessionId } from '../src/custody-protocol.js';
import { approveSpend, createSpendRequest, signVaultDefinition, type CustodySigner } from '../src/principal.js';
import { decodeSpendRequest } from '../src/vault.js';
import { someAddress, spendPsbt, verifyKeyPathSpend } from './support/bitcoin.js';
import { CustodyNetwork } from './support/custody-network.js';

jest.setTimeout(120_000);

let network: CustodyNetwork;
let principal: CustodySigner;
let approvers: CustodySigner[];
let outputKey: string;
const allowed = someAddress(7);

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma']);
  principal = await network.party('principal');
  approvers = [await network.party('approver-1'), await network.party('approver-2'), await network.party('approver-3')];
  const definition = network.definition('treasury', principal.id, 2, {
    approvers: approvers.map((a) => a.id),
    approvals: 2,
    maxAmountSats: 60_000,
    destinations: [allowed],
    allowMessages: true,
  });
  await network.operator('alpha').service.createVault(await signVaultDefinition(principal, definition));
  const vaults = await Promise.all(network.operators.map((o) => o.service.waitForVault('treasury', { timeoutMs: 60_000 })));
  outputKey = vaults[0]!.key!.outputKey;
});

afterAll(async () => {
  await network.close();
});

async function approved(payload: Parameters<typeof createSpendRequest>[2], count = 2) {
  const signed = await createSpendRequest(principal, 'treasury', payload);
  const approvals = await Promise.all(approvers.slice(0, count).map((a) => approveSpend(a, signed.request)));
  return { ...signed, approvals };
}

it('signs a 32-byte message: a BIP-340 signature under the output key', async () => {
  const message = new Uint8Array(32).fill(0x42);
  const result = await network.operator('beta').service.sign(await approved({ kind: 'message', message }));
  expect(result.signatures).toHaveLength(1);
  expect(schnorr.verify(result.signatures[0]!, message, Buffer.from(outputKey, 'hex'))).toBe(true);
  expect(result.signers).toHaveLength(2);
  expect(result.blamed).toEqual([]);
});

it('signs a PSBT spending the Taproot output: the finalised transaction verifies independently', async () => {
  const psbt = spendPsbt(outputKey, { send: 40_000n, to: allowed });
  const result = await network.operator('alpha').service.sign(await approved({ kind: 'psbt', psbt }));
  expect(result.transaction).toBeDefined();
  const script = btc.OutScript.encode({ type: 'tr', pubkey: Buffer.from(outputKey, 'hex') });
  expect(verifyKeyPathSpend(result.transaction!, outputKey, [{ script, amount: 100_000n }])).toBe(true);
  // Tampering with the transaction breaks it.
  const tampered = result.transaction!.slice();
  tampered[tampered.length - 10]! ^= 1;
  expect(verifyKeyPathSpend(tampered, outputKey, [{ script, amount: 100_000n }])).toBe(false);
  expect(btc.Transaction.fromRaw(result.transaction!).id).toBe(result.txid);
  // The coordinator recorded the request as signed, with the transaction.
  const stored = await network.operator('alpha').service.request('treasury', result.requestId);
  expect(stored.state).toBe('signed');
  expect(Buffer.from(stored.result!.transaction!)).toEqual(Buffer.from(result.transaction!));
});

it('signs with one operator stopped', async () => {
  const gamma = network.operator('gamma');
  await network.stop(gamma);
  try {
    const message = new Uint8Array(32).fill(0x17);
    const result = await network.operator('alpha').service.sign(await approved({ kind: 'message', message }));
    expect(schnorr.verify(result.signatures[0]!, message, Buffer.from(outputKey, 'hex'))).toBe(true);
    expect(result.signers).toEqual([1, 2]);
  } finally {
    await network.start(gamma);
  }
});

it('refuses requests that fail the policy: too few approvals, over the limit, outside the allow-list', async () => {
  const alpha = network.operator('alpha').service;
  await expect(alpha.sign(await approved({ kind: 'message', message: new Uint8Array(32) }, 1))).rejects.toMatchObject({ code: 'POLICY_REFUSED' });
  await expect(alpha.sign(await approved({ kind: 'psbt', psbt: spendPsbt(outputKey, { send: 70_000n, to: allowed }) }))).rejects.toMatchObject({ code: 'POLICY_REFUSED' });
  await expect(alpha.sign(await approved({ kind: 'psbt', psbt: spendPsbt(outputKey, { send: 10_000n, to: someAddress(9) }) }))).rejects.toMatchObject({ code: 'POLICY_REFUSED' });
  const mallory = await network.party('mallory');
  const forged = await createSpendRequest(mallory, 'treasury', { kind: 'message', message: new Uint8Array(32) });
  await expect(alpha.sign({ ...forged, approvals: await Promise.all(approvers.slice(0, 2).map((a) => approveSpend(a, forged.request))) })).rejects.toMatchObject({ code: 'NOT_AUTHORISED' });
});

it('the honest operators refuse a request failing the policy even when a coordinator forwards it', async () => {
  // alpha plays a dishonest coordinator: it forwards an over-limit PSBT without checking it.
  const alpha = network.operator('alpha');
  const signed = await approved({ kind: 'psbt', psbt: spendPsbt(outputKey, { send: 90_000n, to: allowed }) });
  const { requestId } = decodeSpendRequest(signed.request);
  const session = sessionId('sign', 'treasury', Buffer.from(requestId, 'hex'));
  const body = encodeMessage({ session, request: signed.request, signature: signed.signature, approvals: signed.approvals.map((a) => ({ approver: a.approver, signature: a.signature })) });
  const before = network.sent.length;
  for (const name of ['beta', 'gamma']) await network.operator(name).service.handleMessage({ from: alpha.id, type: CUSTODY_MESSAGE_TYPES.signRequest, body });
  await waitFor(() => network.sent.slice(before).filter((m) => m.type === CUSTODY_MESSAGE_TYPES.signNonces).length === 2);
  const answers = network.sent.slice(before).filter((m) => m.type === CUSTODY_MESSAGE_TYPES.signNonces);
  for (const answer of answers) {
    const decoded = dagCbor.decode(answer.body) as { commitments: unknown; refusal: string };
    expect(decoded.commitments).toBeNull();
    expect(decoded.refusal).toMatch(/^POLICY_REFUSED/);
  }
});

it('a replayed request does not sign twice, at the same or another operator', async () => {
  const signed = await approved({ kind: 'message', message: new Uint8Array(32).fill(0x99) });
  const first = await network.operator('alpha').service.sign(signed);
  expect(first.signatures).toHaveLength(1);
  await expect(network.operator('alpha').service.sign(signed)).rejects.toMatchObject({ code: 'REQUEST_REPLAYED' });
  await expect(network.operator('beta').service.sign(signed)).rejects.toMatchObject({ code: 'REQUEST_REPLAYED' });
  // The forwarded request delivered again (a replay on the wire), once gamma heard the outcome, is refused too.
  const { requestId } = decodeSpendRequest(signed.request);
  await waitFor(async () => (await network.operator('gamma').service.request('treasury', requestId)).state !== 'signing');
  const before = network.sent.length;
  const original = network.sent.find((m) => m.type === CUSTODY_MESSAGE_TYPES.signRequest && m.to === network.operator('gamma').id && Buffer.from(m.body).includes(Buffer.from(signed.request)));
  expect(original).toBeDefined();
  await network.operator('gamma').service.handleMessage(original!);
  await waitFor(() => network.sent.slice(before).some((m) => m.type === CUSTODY_MESSAGE_TYPES.signNonces));
  const answer = dagCbor.decode(network.sent.slice(before).find((m) => m.type === CUSTODY_MESSAGE_TYPES.signNonces)!.body) as { refusal: string };
  expect(answer.refusal).toMatch(/^REQUEST_REPLAYED/);
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
