/**
 * Resharing blame that every operator checks on its own (spec §3, ADR 0022): a 2-of-3 vault held by
 * alpha, beta and gamma is reshared to alpha, beta and delta, with messages as real envelopes (signed
 * by the sender, sealed to the recipient, addressed by CID). Run indices: alpha 1, beta 2, gamma 3,
 * delta 4. A new operator that receives a resharing share failing its dealer's commitments reveals the
 * dealer's round-1 and share envelopes with their content keys; every other operator opens them,
 * checks the dealer's signatures and the share against the commitments, and names:
 * - the dealer, "verified evidence", when the share it signed is bad (or, with its round-1 envelope
 *   alone, when the constant term it signed to one operator is not its share of the key);
 * - the accuser, "accused … falsely", when the share it reveals is good (a receiver that lies).
 * The vault stays on its current sharing either way.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { CUSTODY_MESSAGE_TYPES } from '../src/custody-protocol.js';
import { operatorIdentifier, type VaultKey } from '../src/frost-dkg.js';
import { reshareEvidenceRules } from '../src/reshare-run.js';
import { signReshare, signVaultDefinition, type CustodySigner } from '../src/principal.js';
import { CustodyNetwork, type Operator } from './support/custody-network.js';

jest.setTimeout(180_000);

let network: CustodyNetwork;
let principal: CustodySigner;
let alpha: Operator;
let beta: Operator;
let gamma: Operator;
let delta: Operator;

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma', 'delta'], { withAudit: true, sealed: true });
  principal = await network.party('principal');
  [alpha, beta, gamma, delta] = network.operators as [Operator, Operator, Operator, Operator];
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

async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Creates the vault (alpha, beta, gamma; t = 2), then starts its resharing to alpha, beta, delta; resolves once each operator failed the run, with its reason. */
async function reshareFailedEverywhere(vaultId: string): Promise<Map<string, string>> {
  await alpha.service.createVault(await signVaultDefinition(principal, network.definition(vaultId, principal.id, 2, {}, ['alpha', 'beta', 'gamma'])));
  for (const o of [alpha, beta, gamma]) await o.service.waitForVault(vaultId, { timeoutMs: 120_000 });
  const next = network.definition(vaultId, principal.id, 2, {}, ['alpha', 'beta', 'delta']);
  await alpha.service.reshareVault({ definition: next, signature: await signReshare(principal, next, 0) });
  const failed = (o: Operator) => o.notices.filter((n) => n.kind === 'session-failed' && n.vaultId === vaultId);
  const reasons = new Map<string, string>();
  for (const o of network.operators) {
    await waitUntil(() => failed(o).length > 0, `${o.name} to fail the resharing of ${vaultId}`);
    reasons.set(o.name, String(failed(o)[0]!.reason));
  }
  for (const o of [alpha, beta, gamma]) expect((await o.service.vault(vaultId)).epoch).toBe(0);
  return reasons;
}

async function reshareFailedEntry(operator: Operator, vaultId: string): Promise<Record<string, unknown>> {
  return (await network.auditEntries(operator, vaultId)).find((e) => e.entry.kind === 'reshare-failed')!.entry;
}

it('a bad resharing share from a dealer to a new operator is proven: every operator names the dealer from the evidence', async () => {
  // gamma (a dealer leaving the vault) signs a bad share to delta only: alpha and beta see nothing wrong themselves.
  network.interceptors.push((m) => (m.type === CUSTODY_MESSAGE_TYPES.reshareShare && m.from === gamma.id && m.to === delta.id ? { ...m, body: withShareFlipped(m.body) } : m));
  const reasons = await reshareFailedEverywhere('bad-reshare-share');
  expect(reasons.get('delta')).toMatch(/^operator 3 \(.+\) sent a (resharing share that does not match its commitments|malformed resharing share)/);
  const verified = `operator 3 (${gamma.id}) sent operator 4 a resharing share that does not match its commitments (verified evidence)`;
  expect(reasons.get('alpha')).toBe(verified);
  expect(reasons.get('beta')).toBe(verified);
  expect(beta.notices.filter((n) => n.kind === 'operator-blamed' && n.vaultId === 'bad-reshare-share').map((n) => n.peer)).toEqual([gamma.id]);
  expect(await reshareFailedEntry(beta, 'bad-reshare-share')).toMatchObject({ accused: 3, evidence: 'verified' });
});

it('a new operator that accuses an honest dealer is named: the share it reveals matches the commitments', async () => {
  // delta receives a good share from alpha, but its own copy is corrupted on arrival (a receiver that lies):
  // it accuses alpha, and the envelope it must reveal is alpha's real one.
  network.receivers.push((m) => (m.type === CUSTODY_MESSAGE_TYPES.reshareShare && m.from === alpha.id && m.to === delta.id ? { ...m, body: withShareFlipped(m.body) } : m));
  const reasons = await reshareFailedEverywhere('false-reshare-accusation');
  const falsely = `operator 4 (${delta.id}) accused operator 1 falsely: the share it revealed matches operator 1's commitments`;
  for (const name of ['alpha', 'beta', 'gamma']) expect(reasons.get(name)).toBe(falsely);
  for (const o of [alpha, beta, gamma]) {
    expect(o.notices.filter((n) => n.kind === 'operator-blamed' && n.vaultId === 'false-reshare-accusation').map((n) => n.peer)).toEqual([delta.id]);
  }
  expect(await reshareFailedEntry(beta, 'false-reshare-accusation')).toMatchObject({ accused: 4, evidence: 'refuted' });
});

it('a constant term sent wrong to one new operator only is proven with the round-1 envelope alone', async () => {
  // beta swaps its first two commitments towards delta only: the constant term it signed there is not its share of the key.
  network.interceptors.push((m) => {
    if (m.type !== CUSTODY_MESSAGE_TYPES.reshareCommit || m.from !== beta.id || m.to !== delta.id) return m;
    const value = dagCbor.decode(m.body) as { commitment: Uint8Array[] };
    return { ...m, body: dagCbor.encode({ ...value, commitment: [value.commitment[1], value.commitment[0], ...value.commitment.slice(2)] }) };
  });
  const reasons = await reshareFailedEverywhere('bad-reshare-constant');
  expect(reasons.get('delta')).toMatch(/^operator 2 \(.+\) dealt a constant term that is not its share of the key/);
  // alpha and gamma check the commitments beta signed to delta: either against beta's real ones, if they hold them
  // by then (they differ), or on their own (the constant term is not beta's share of the key).
  const verified = [
    `operator 2 (${beta.id}) showed operator 4 other round-1 commitments than it sent here (verified evidence)`,
    `operator 2 (${beta.id}) sent operator 4 resharing commitments that do not deal its share of the key (verified evidence)`,
  ];
  expect(verified).toContain(reasons.get('alpha'));
  expect(verified).toContain(reasons.get('gamma'));
});

it('the resharing rules: an old dealer must commit to its share of the key; a share must match at the new index', () => {
  const { Point } = secp256k1;
  const Fn = Point.Fn;
  // Old 2-of-3 sharing of s = 7 + 5x: shares 12, 17, 22 at 1, 2, 3. λ over {1, 2, 3}: 3, -3, 1.
  const shares = [12n, 17n, 22n];
  const verifyingShares = Object.fromEntries(shares.map((s, i) => [operatorIdentifier(i + 1), Point.BASE.multiply(s).toBytes(true)]));
  const key = { publicPackage: { commitments: [], verifyingShares } } as unknown as VaultKey;
  const rules = reshareEvidenceRules({ operators: ['a', 'b', 'c'], threshold: 2, key }, { operators: ['a', 'b', 'd'], threshold: 2 });
  expect(rules.commitments).toBe(2);
  // Dealer b (run index 2): constant term λ_2·s_2 = -3·17, then a random coefficient 9.
  const constant = Fn.mul(Fn.neg(3n), 17n);
  const commitment = [Point.BASE.multiply(constant).toBytes(true), Point.BASE.multiply(9n).toBytes(true)];
  expect(rules.commitValid(2, commitment, {})).toBe(true);
  expect(rules.commitValid(2, [commitment[1]!, commitment[0]!], {})).toBe(false);
  expect(rules.commitValid(1, commitment, {})).toBe(false);
  expect(rules.commitValid(4, commitment, {})).toBe(false); // d is not an old operator
  expect(rules.commitValid(2, [new Uint8Array(33).fill(2), commitment[1]!], {})).toBe(false);
  // d is run index 4, new index 3: its share from b is constant + 9·3.
  const toD = Fn.toBytes(Fn.add(constant, 27n));
  expect(rules.shareMatches(4, commitment, toD)).toBe(true);
  expect(rules.shareMatches(4, commitment, Fn.toBytes(Fn.add(constant, 28n)))).toBe(false);
  expect(rules.shareMatches(3, commitment, toD)).toBe(false); // c (run index 3) is not in the new set
});
