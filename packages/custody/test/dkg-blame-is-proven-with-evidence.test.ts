/**
 * DKG blame that every operator checks on its own (spec §3, ADR 0022): three operators t = 2 in one
 * process whose messages travel as real envelopes (signed by the sender, sealed to the recipient,
 * addressed by CID, as @milagro/messaging sends them). An operator that receives a private share
 * failing `vss_verify` reveals the accused's round-1 and share envelopes with their content keys;
 * every other operator opens them, checks the accused's signatures and `vss_verify`, and names:
 * - the accused, "verified evidence", when the share it signed is bad (or, with its round-1 envelope
 *   alone, when the proof of knowledge it signed to one operator does not verify);
 * - the accuser, "accused … falsely", when the share it reveals is good (a receiver that lies), or
 *   when its evidence does not open (a forged content key).
 * A refresh (a zero-sharing) proves a bad refresh share the same way.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CUSTODY_MESSAGE_TYPES } from '../src/custody-protocol.js';
import { signRefresh, signVaultDefinition, type CustodySigner } from '../src/principal.js';
import { CustodyNetwork, type Operator } from './support/custody-network.js';

jest.setTimeout(180_000);

let network: CustodyNetwork;
let principal: CustodySigner;
let alpha: Operator;
let beta: Operator;
let gamma: Operator;

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma'], { withAudit: true, sealed: true });
  principal = await network.party('principal');
  [alpha, beta, gamma] = network.operators as [Operator, Operator, Operator];
});

afterAll(async () => {
  await network.close();
});

afterEach(() => {
  network.interceptors.length = 0;
  network.receivers.length = 0;
});

function withShareFlipped(body: Uint8Array): Uint8Array {
  const value = dagCbor.decode(body) as Record<string, unknown>;
  const share = (value['share'] as Uint8Array).slice();
  share[31]! ^= 1;
  return dagCbor.encode({ ...value, share });
}

/** Creates the vault at alpha; resolves with each operator's failure reason once it failed everywhere. */
async function failedEverywhere(vaultId: string): Promise<Map<string, string>> {
  await alpha.service.createVault(await signVaultDefinition(principal, network.definition(vaultId, principal.id, 2)));
  const reasons = new Map<string, string>();
  for (const o of network.operators) {
    await expect(o.service.waitForVault(vaultId, { timeoutMs: 120_000 })).rejects.toMatchObject({ code: 'PROTOCOL_FAILED' });
    reasons.set(o.name, String((await o.service.vault(vaultId)).reason));
  }
  return reasons;
}

async function vaultFailedEntry(operator: Operator, vaultId: string): Promise<Record<string, unknown>> {
  return (await network.auditEntries(operator, vaultId)).find((e) => e.entry.kind === 'vault-failed')!.entry;
}

it('a bad private share is proven: every operator names its sender from the evidence', async () => {
  // gamma signs a bad share to alpha only: beta sees nothing wrong itself and must rely on the evidence.
  network.interceptors.push((m) => (m.type === CUSTODY_MESSAGE_TYPES.vaultShare && m.from === gamma.id && m.to === alpha.id ? { ...m, body: withShareFlipped(m.body) } : m));
  const reasons = await failedEverywhere('bad-share');
  expect(reasons.get('alpha')).toMatch(/^operator 3 \(.+\) sent a private share that does not match its commitments/);
  expect(reasons.get('beta')).toBe(`operator 3 (${gamma.id}) sent operator 1 a private share that does not match its commitments (verified evidence)`);
  expect(reasons.get('gamma')).toContain('operator 3');
  expect(beta.notices.filter((n) => n.kind === 'operator-blamed').map((n) => n.peer)).toEqual([gamma.id]);
  expect(await vaultFailedEntry(alpha, 'bad-share')).toMatchObject({ accused: 3, evidence: 'published' });
  expect(await vaultFailedEntry(beta, 'bad-share')).toMatchObject({ accused: 3, evidence: 'verified' });
});

it('a false accuser is named: the share it reveals matches the commitments', async () => {
  // gamma receives a good share from alpha, but its own copy is corrupted on arrival (a receiver that lies):
  // it accuses alpha, and the envelope it must reveal is alpha's real one.
  network.receivers.push((m) => (m.type === CUSTODY_MESSAGE_TYPES.vaultShare && m.from === alpha.id && m.to === gamma.id ? { ...m, body: withShareFlipped(m.body) } : m));
  const reasons = await failedEverywhere('false-accusation');
  const falsely = `operator 3 (${gamma.id}) accused operator 1 falsely: the share it revealed matches operator 1's commitments`;
  expect(reasons.get('alpha')).toBe(falsely);
  expect(reasons.get('beta')).toBe(falsely);
  for (const o of [alpha, beta]) expect(o.notices.filter((n) => n.kind === 'operator-blamed' && n.sessionId !== undefined).map((n) => n.peer)).toContain(gamma.id);
  expect(await vaultFailedEntry(beta, 'false-accusation')).toMatchObject({ accused: 3, evidence: 'refuted' });
});

it('a round-1 proof of knowledge sent bad to one operator only is proven the same way', async () => {
  network.interceptors.push((m) => {
    if (m.type !== CUSTODY_MESSAGE_TYPES.vaultCommit || m.from !== gamma.id || m.to !== alpha.id) return m;
    const value = dagCbor.decode(m.body) as Record<string, unknown>;
    const proof = (value['proof'] as Uint8Array).slice();
    proof[proof.length - 1]! ^= 1;
    return { ...m, body: dagCbor.encode({ ...value, proof }) };
  });
  const reasons = await failedEverywhere('bad-proof');
  expect(reasons.get('alpha')).toMatch(/^operator 3 \(.+\) its round-1 proof of knowledge or commitments do not verify/);
  expect(reasons.get('beta')).toBe(`operator 3 (${gamma.id}) sent operator 1 a round-1 proof of knowledge that does not verify (verified evidence)`);
  expect(await vaultFailedEntry(beta, 'bad-proof')).toMatchObject({ accused: 3, evidence: 'verified' });
});

it('evidence that does not open names the accuser', async () => {
  // gamma sends a bad share to alpha, but alpha's published evidence is garbled in transit by alpha itself
  // (a wrong content key): the others cannot see the bad share and name alpha.
  network.interceptors.push((m) => (m.type === CUSTODY_MESSAGE_TYPES.vaultShare && m.from === gamma.id && m.to === alpha.id ? { ...m, body: withShareFlipped(m.body) } : m));
  network.interceptors.push((m) => {
    if (m.type !== CUSTODY_MESSAGE_TYPES.vaultConfirm || m.from !== alpha.id) return m;
    const value = dagCbor.decode(m.body) as Record<string, unknown>;
    if (value['evidence'] === undefined) return m;
    const evidence = value['evidence'] as { commit: { envelope: Uint8Array; contentKey: Uint8Array }; share: { envelope: Uint8Array; contentKey: Uint8Array } };
    const contentKey = evidence.share.contentKey.slice();
    contentKey[0]! ^= 1;
    return { ...m, body: dagCbor.encode({ ...value, evidence: { ...evidence, share: { ...evidence.share, contentKey } } }) };
  });
  const reasons = await failedEverywhere('forged-evidence');
  expect(reasons.get('beta')).toMatch(new RegExp(`^operator 1 \\(${alpha.id}\\) accused operator 3 falsely: its share envelope does not verify`));
});

it('a bad refresh share is proven the same way; the vault stays on its current shares', async () => {
  await alpha.service.createVault(await signVaultDefinition(principal, network.definition('refreshed', principal.id, 2)));
  for (const o of network.operators) await o.service.waitForVault('refreshed', { timeoutMs: 120_000 });
  network.interceptors.push((m) => (m.type === CUSTODY_MESSAGE_TYPES.refreshShare && m.from === gamma.id && m.to === alpha.id ? { ...m, body: withShareFlipped(m.body) } : m));
  await alpha.service.refreshVault('refreshed', await signRefresh(principal, 'refreshed', 0));
  const expected = `operator 3 (${gamma.id}) sent operator 1 a refresh share that does not match its commitments (verified evidence)`;
  for (let i = 0; i < 1200 && !beta.notices.some((n) => n.kind === 'session-failed' && n.vaultId === 'refreshed'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  expect(beta.notices.filter((n) => n.kind === 'session-failed' && n.vaultId === 'refreshed').map((n) => n.reason)).toEqual([expected]);
  expect(beta.notices.filter((n) => n.kind === 'operator-blamed' && n.vaultId === 'refreshed').map((n) => n.peer)).toEqual([gamma.id]);
  for (const o of network.operators) expect((await o.service.vault('refreshed')).epoch).toBe(0);
});
