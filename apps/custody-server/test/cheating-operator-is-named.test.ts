/**
 * A cheating operator is detected and named, with real processes: two custody servers and a third
 * operator in its own process running @milagro/custody's service with a transport that corrupts
 * what it sends (support/cheating-operator-peer.ts), plus the principal's node. t = 2 of 3.
 * - It sends a bad private DKG share to operator 1 only: operator 1 names it and publishes the
 *   evidence (the cheater's own signed envelopes, revealed); operator 2, which saw nothing wrong
 *   itself, checks the evidence and names operator 3 too, "verified evidence" (ADR 0022).
 * - It accuses operator 1 falsely (a good share from operator 1, corrupted on arrival): the evidence
 *   it must reveal shows a good share, so both honest servers name the accuser, operator 3.
 * - It sends bad signature shares: with the other honest server stopped, the coordinator refuses
 *   to produce a signature and names operator 3; with it back, the vault signs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToBase64url } from '@milagro/crypto';
import { generateSwarmKey } from '@milagro/ipfs';
import { schnorr } from '@noble/curves/secp256k1.js';
import { jsonRequest } from '../../../tools/jest/dta-cluster.js';
import { killAllPeers, spawnPeer, waitFor, type PeerProcess } from '../../../tools/jest/peer-process.js';
import { restartOperator, startOperators, type OperatorProcess } from './support/custody-cluster.js';

jest.setTimeout(600_000);

let root: string;
let swarmKey: string;
let servers: OperatorProcess[] = [];
let principal: PeerProcess;
let cheater: PeerProcess;
let principalId: string;
let cheaterId: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'milagro-custody-cheat-'));
  swarmKey = generateSwarmKey();
  servers = await startOperators({ root, swarmKey, count: 2, roundTimeoutMs: 30_000 });
  const peers = servers.flatMap((s) => s.addrs);
  cheater = await spawnPeer({ entry: join(__dirname, 'support', 'cheating-operator-peer.ts'), config: { dataDir: join(root, 'cheater'), swarmKey, peers }, timeoutMs: 180_000 });
  cheaterId = String(cheater.ready['id']);
  principal = await spawnPeer({ entry: join(__dirname, 'support', 'principal-peer.ts'), config: { dataDir: join(root, 'principal'), swarmKey }, timeoutMs: 180_000 });
  principalId = (principal.ready['ids'] as Record<string, string>)['principal']!;
  for (const addr of [...peers, ...(cheater.ready['addrs'] as string[]).slice(0, 1)]) await principal.request('dial', { addr });
}, 600_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.server.stop()));
  killAllPeers();
  rmSync(root, { recursive: true, force: true });
});

async function createVault(vaultId: string): Promise<void> {
  const definition = {
    vaultId,
    principal: principalId,
    operators: [...servers.map((s) => s.id), cheaterId],
    threshold: 2,
    policy: { approvers: [], approvals: 0, maxAmountSats: 1_000_000, destinations: [], allowMessages: true },
  };
  const { signature } = await principal.request<{ signature: string }>('signVault', { definition });
  const created = await jsonRequest(`${servers[0]!.server.url}/v1/vaults`, { json: { definition, signature } });
  expect(created.status).toBe(202);
}

async function vaultAt(server: OperatorProcess, vaultId: string): Promise<Record<string, unknown>> {
  return (await jsonRequest(`${server.server.url}/v1/vaults/${vaultId}`)).body;
}

async function failureReasons(vaultId: string): Promise<string[]> {
  const reasons: string[] = [];
  for (const server of servers) {
    await waitFor(`${server.name} failed`, async () => (await vaultAt(server, vaultId))['state'] === 'failed', 300_000, 500);
    reasons.push(String((await vaultAt(server, vaultId))['reason']));
  }
  return reasons;
}

it('names the operator that sends a bad DKG share, at every honest operator, from verified evidence', async () => {
  await cheater.request('mode', { mode: 'bad-dkg-share', to: servers[0]!.id });
  await createVault('cheated');
  const [first, second] = await failureReasons('cheated');
  expect(first).toBe(`operator 3 (${cheaterId}) sent a private share that does not match its commitments`);
  // Operator 2 got good shares: it names operator 3 on the evidence operator 1 published, checked itself.
  expect(second).toBe(`operator 3 (${cheaterId}) sent operator 1 a private share that does not match its commitments (verified evidence)`);
});

it('names a false accuser: the envelopes it reveals show a good share', async () => {
  await cheater.request('mode', { mode: 'false-accuser', against: servers[0]!.id });
  await createVault('false-accusation');
  for (const reason of await failureReasons('false-accusation')) {
    expect(reason).toBe(`operator 3 (${cheaterId}) accused operator 1 falsely: the share it revealed matches operator 1's commitments`);
  }
});

it('names the operator that sends bad signature shares, and signs once an honest operator is back', async () => {
  await cheater.request('mode', { mode: 'honest' });
  await createVault('signing');
  for (const server of servers) await waitFor(`${server.name} active`, async () => (await vaultAt(server, 'signing'))['state'] === 'active', 300_000, 500);
  const outputKey = String((await vaultAt(servers[0]!, 'signing'))['outputKey']);
  await cheater.request('mode', { mode: 'bad-signature-share' });

  const second = servers[1]!;
  await second.server.stop();
  try {
    const body = await principal.request<Record<string, unknown>>('spend', { vaultId: 'signing', kind: 'message', payload: bytesToBase64url(new Uint8Array(32).fill(1)) });
    const refused = await jsonRequest(`${servers[0]!.server.url}/v1/vaults/signing/signatures`, { json: body });
    expect(refused.status).toBe(502);
    expect(refused.body['code']).toBe('PROTOCOL_FAILED');
    expect(String(refused.body['detail'])).toMatch(/operator 3 .*signature share/);
  } finally {
    await restartOperator(second, swarmKey);
  }
  const message = new Uint8Array(32).fill(2);
  const body = await principal.request<Record<string, unknown>>('spend', { vaultId: 'signing', kind: 'message', payload: bytesToBase64url(message) });
  const signed = await jsonRequest(`${servers[0]!.server.url}/v1/vaults/signing/signatures`, { json: body });
  expect(signed.status).toBe(200);
  expect(schnorr.verify(Buffer.from((signed.body['signatures'] as string[])[0]!, 'hex'), message, Buffer.from(outputKey, 'hex'))).toBe(true);
  expect(signed.body['signers']).toEqual([1, 2]);
  for (const blamed of signed.body['blamed'] as Array<{ operator: number }>) expect(blamed.operator).toBe(3);
});
