/**
 * Issue 10's acceptance, with real processes: three custody servers (each its own OS process with
 * an embedded Helia node, file key store and SQLite database) and a principal node holding the
 * principal, two approvers and a stranger. Over HTTP and messaging, t = 2 of 3: the DKG gives one
 * Taproot address at every operator, equal to an independent BIP-341 computation; a PSBT spending
 * the vault's output is signed and the transaction verifies independently; a replayed request does
 * not sign twice; requests failing the policy are refused; signing works with one operator stopped;
 * a refresh keeps the address. (A cheating operator in its own process: cheating-operator-is-named.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToBase64url } from '@milagro/crypto';
import { generateSwarmKey } from '@milagro/ipfs';
import { schnorr } from '@noble/curves/secp256k1.js';
import * as btc from '@scure/btc-signer';
import { jsonRequest, type JsonAnswer } from '../../../tools/jest/dta-cluster.js';
import { killAllPeers, spawnPeer, waitFor, type PeerProcess } from '../../../tools/jest/peer-process.js';
import { bip341OutputKey, someAddress, spendPsbt, verifyKeyPathSpend } from '../../../packages/custody/test/support/bitcoin.js';
import { restartOperator, startOperators, type OperatorProcess } from './support/custody-cluster.js';

jest.setTimeout(600_000);

const PRINCIPAL = join(__dirname, 'support', 'principal-peer.ts');
const VAULT = 'treasury';

let root: string;
let swarmKey: string;
let operators: OperatorProcess[] = [];
let principal: PeerProcess;
let ids: Record<'principal' | 'approver-1' | 'approver-2' | 'mallory', string>;
let outputKey: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'milagro-custody-e2e-'));
  swarmKey = generateSwarmKey();
  operators = await startOperators({ root, swarmKey, count: 3 });
  principal = await spawnPeer({ entry: PRINCIPAL, config: { dataDir: join(root, 'principal'), swarmKey }, timeoutMs: 180_000 });
  ids = principal.ready['ids'] as typeof ids;
  for (const operator of operators) await principal.request('dial', { addr: operator.addrs[0] });
}, 600_000);

afterAll(async () => {
  await Promise.all(operators.map((o) => o.server.stop()));
  killAllPeers();
  rmSync(root, { recursive: true, force: true });
});

async function vaultAt(operator: OperatorProcess): Promise<Record<string, unknown>> {
  return (await jsonRequest(`${operator.server.url}/v1/vaults/${VAULT}`)).body;
}

async function spend(at: OperatorProcess, args: Record<string, unknown>): Promise<{ answer: JsonAnswer; body: Record<string, unknown> }> {
  const body = await principal.request<Record<string, unknown>>('spend', { vaultId: VAULT, ...args });
  return { answer: await jsonRequest(`${at.server.url}/v1/vaults/${VAULT}/signatures`, { json: body }), body };
}

it('runs the DKG over messaging: one Taproot address at every operator, equal to the BIP-341 tweak of the group key', async () => {
  const definition = {
    vaultId: VAULT,
    principal: ids.principal,
    operators: operators.map((o) => o.id),
    threshold: 2,
    policy: { approvers: [ids['approver-1'], ids['approver-2']], approvals: 1, maxAmountSats: 60_000, destinations: [], allowMessages: true },
  };
  const { signature } = await principal.request<{ signature: string }>('signVault', { definition });
  const created = await jsonRequest(`${operators[0]!.server.url}/v1/vaults`, { json: { definition, signature } });
  expect(created.status).toBe(202);
  expect(created.body['state']).toBe('pending');
  for (const operator of operators) await waitFor(`${operator.name} active`, async () => (await vaultAt(operator))['state'] === 'active', 300_000, 500);
  const vaults = await Promise.all(operators.map(vaultAt));
  expect(new Set(vaults.map((v) => v['outputKey'])).size).toBe(1);
  expect(vaults.map((v) => v['index'])).toEqual([1, 2, 3]);
  outputKey = String(vaults[0]!['outputKey']);
  const internalX = Buffer.from(String(vaults[0]!['internalKey']), 'hex').subarray(1);
  expect(Buffer.from(bip341OutputKey(internalX)).toString('hex')).toBe(outputKey);
  const addresses = vaults[0]!['addresses'] as Record<string, string>;
  expect(addresses['regtest']).toBe(btc.p2tr(internalX, undefined, { ...btc.TEST_NETWORK, bech32: 'bcrt' }).address);
  expect(addresses['mainnet']).toBe(btc.p2tr(internalX).address);
  for (const v of vaults) expect(v['addresses']).toEqual(addresses);
});

it('signs a PSBT spending the vault output: the transaction verifies independently; the same request again is refused', async () => {
  const psbt = spendPsbt(outputKey, { send: 40_000n, to: someAddress(3) });
  const { answer, body } = await spend(operators[1]!, { kind: 'psbt', payload: bytesToBase64url(psbt), approvals: 1 });
  expect(answer.status).toBe(200);
  expect(answer.body['state']).toBe('signed');
  const script = btc.OutScript.encode({ type: 'tr', pubkey: Buffer.from(outputKey, 'hex') });
  const transaction = Buffer.from(String(answer.body['transaction']), 'hex');
  expect(verifyKeyPathSpend(transaction, outputKey, [{ script, amount: 100_000n }])).toBe(true);
  expect(btc.Transaction.fromRaw(transaction).id).toBe(answer.body['txid']);

  for (const at of [operators[1]!, operators[0]!]) {
    const again = await jsonRequest(`${at.server.url}/v1/vaults/${VAULT}/signatures`, { json: body });
    expect(again.status).toBe(409);
    expect(again.type).toMatch(/application\/problem\+json/);
    expect(again.body['code']).toBe('REQUEST_REPLAYED');
  }
});

it('refuses requests failing the policy: no approval, over the amount limit, not signed by the principal', async () => {
  const message = bytesToBase64url(new Uint8Array(32).fill(1));
  const unapproved = await spend(operators[0]!, { kind: 'message', payload: message, approvals: 0 });
  expect(unapproved.answer.status).toBe(403);
  expect(unapproved.answer.body['code']).toBe('POLICY_REFUSED');
  const tooMuch = await spend(operators[0]!, { kind: 'psbt', payload: bytesToBase64url(spendPsbt(outputKey, { send: 80_000n, to: someAddress(4) })), approvals: 2 });
  expect(tooMuch.answer.status).toBe(403);
  expect(tooMuch.answer.body['code']).toBe('POLICY_REFUSED');
  const forged = await spend(operators[0]!, { kind: 'message', payload: message, approvals: 1, as: 'mallory' });
  expect(forged.answer.status).toBe(403);
  expect(forged.answer.body['code']).toBe('NOT_AUTHORISED');
});

it('signs with one operator stopped', async () => {
  const third = operators[2]!;
  await third.server.stop();
  try {
    const message = new Uint8Array(32).fill(0x33);
    const { answer } = await spend(operators[0]!, { kind: 'message', payload: bytesToBase64url(message), approvals: 1 });
    expect(answer.status).toBe(200);
    const signatures = answer.body['signatures'] as string[];
    expect(schnorr.verify(Buffer.from(signatures[0]!, 'hex'), message, Buffer.from(outputKey, 'hex'))).toBe(true);
    expect(answer.body['signers']).toEqual([1, 2]);
  } finally {
    await restartOperator(third, swarmKey);
    await principal.request('dial', { addr: third.addrs[0] });
  }
});

it('refreshes the shares: the address stays and the vault still signs', async () => {
  const { signature } = await principal.request<{ signature: string }>('signRefresh', { vaultId: VAULT, epoch: 0 });
  const started = await jsonRequest(`${operators[1]!.server.url}/v1/vaults/${VAULT}/refresh`, { json: { signature } });
  expect(started.status).toBe(202);
  for (const operator of operators) await waitFor(`${operator.name} refreshed`, async () => (await vaultAt(operator))['epoch'] === 1, 300_000, 500);
  for (const operator of operators) expect((await vaultAt(operator))['outputKey']).toBe(outputKey);
  const message = new Uint8Array(32).fill(0x44);
  const { answer } = await spend(operators[2]!, { kind: 'message', payload: bytesToBase64url(message), approvals: 1 });
  expect(answer.status).toBe(200);
  expect(schnorr.verify(Buffer.from((answer.body['signatures'] as string[])[0]!, 'hex'), message, Buffer.from(outputKey, 'hex'))).toBe(true);
});

it('serves its OpenAPI document with the custody routes', async () => {
  const { body } = await jsonRequest(`${operators[0]!.server.url}/openapi.json`);
  expect(Object.keys(body['paths'] as object)).toEqual(expect.arrayContaining(['/v1/vaults', '/v1/vaults/{vaultId}', '/v1/vaults/{vaultId}/signatures', '/v1/vaults/{vaultId}/refresh']));
});
