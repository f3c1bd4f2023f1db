/**
 * A cheating operator is detected and named (three operators, t = 2, in one process):
 * - in the DKG, an operator that sends another a private share not matching its commitments is
 *   blamed by the receiver, and the vault fails at every operator with its index in the reason;
 * - a forged round-1 proof of knowledge is blamed the same way;
 * - in signing, an operator whose signature share does not verify is named in the result, and the
 *   coordinator signs with the honest operator instead.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { schnorr } from '@noble/curves/secp256k1.js';
import { CUSTODY_MESSAGE_TYPES } from '../src/custody-protocol.js';
import { createSpendRequest, signVaultDefinition, type CustodySigner } from '../src/principal.js';
import { CustodyNetwork } from './support/custody-network.js';

jest.setTimeout(120_000);

let network: CustodyNetwork;
let principal: CustodySigner;

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma']);
  principal = await network.party('principal');
});

afterAll(async () => {
  await network.close();
});

function tamper(body: Uint8Array, field: string, change: (value: Uint8Array) => Uint8Array): Uint8Array {
  const value = dagCbor.decode(body) as Record<string, unknown>;
  return dagCbor.encode({ ...value, [field]: change(value[field] as Uint8Array) });
}

const flipLastByte = (bytes: Uint8Array): Uint8Array => {
  const copy = bytes.slice();
  copy[copy.length - 1]! ^= 1;
  return copy;
};

it('names the operator that sent a bad DKG share, and the vault fails everywhere', async () => {
  const [alpha, , gamma] = network.operators as [(typeof network.operators)[0], (typeof network.operators)[0], (typeof network.operators)[0]];
  network.interceptors.push((m) => (m.type === CUSTODY_MESSAGE_TYPES.vaultShare && m.from === gamma.id && m.to === alpha.id ? { ...m, body: tamper(m.body, 'share', flipLastByte) } : m));
  try {
    await alpha.service.createVault(await signVaultDefinition(principal, network.definition('bad-share', principal.id, 2)));
    for (const o of network.operators) {
      await expect(o.service.waitForVault('bad-share', { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'PROTOCOL_FAILED' });
      const status = await o.service.vault('bad-share');
      expect(status.state).toBe('failed');
      expect(status.reason).toMatch(/operator 3\b/);
    }
    expect(alpha.notices.some((n) => n.kind === 'operator-blamed' && n.peer === gamma.id)).toBe(true);
  } finally {
    network.interceptors.length = 0;
  }
});

it('names the operator whose round-1 proof of knowledge does not verify', async () => {
  const [alpha, beta] = network.operators as [(typeof network.operators)[0], (typeof network.operators)[0]];
  network.interceptors.push((m) => (m.type === CUSTODY_MESSAGE_TYPES.vaultCommit && m.from === beta.id && m.to === alpha.id ? { ...m, body: tamper(m.body, 'proof', flipLastByte) } : m));
  try {
    await alpha.service.createVault(await signVaultDefinition(principal, network.definition('bad-proof', principal.id, 2)));
    for (const o of network.operators) await expect(o.service.waitForVault('bad-proof', { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'PROTOCOL_FAILED' });
    expect((await alpha.service.vault('bad-proof')).reason).toMatch(/operator 2\b.*proof of knowledge/);
  } finally {
    network.interceptors.length = 0;
  }
});

it('names the operator whose signature share does not verify, and signs with the honest one', async () => {
  const [alpha, beta, gamma] = network.operators as [(typeof network.operators)[0], (typeof network.operators)[0], (typeof network.operators)[0]];
  await alpha.service.createVault(await signVaultDefinition(principal, network.definition('signing', principal.id, 2)));
  const vaults = await Promise.all(network.operators.map((o) => o.service.waitForVault('signing', { timeoutMs: 60_000 })));
  const outputKey = Buffer.from(vaults[0]!.key!.outputKey, 'hex');

  // gamma's nonces are held back until beta has answered, so beta is chosen first; beta's shares are corrupted.
  let held: Parameters<typeof alpha.service.handleMessage>[0] | undefined;
  network.interceptors.push((m) => {
    if (m.type === CUSTODY_MESSAGE_TYPES.signNonces && m.from === gamma.id && m.to === alpha.id && held === undefined) {
      held = m;
      return undefined;
    }
    if (m.type === CUSTODY_MESSAGE_TYPES.signShares && m.from === beta.id) {
      const value = dagCbor.decode(m.body) as { shares: Uint8Array[] };
      setTimeout(() => void alpha.service.handleMessage(held!), 0);
      return { ...m, body: dagCbor.encode({ ...value, shares: value.shares.map(flipLastByte) }) };
    }
    return m;
  });
  try {
    const message = new Uint8Array(32).fill(5);
    const result = await alpha.service.sign(await createSpendRequest(principal, 'signing', { kind: 'message', message }));
    expect(schnorr.verify(result.signatures[0]!, message, outputKey)).toBe(true);
    expect(result.blamed).toEqual([{ operator: 2, reason: expect.stringMatching(/signature share/) }]);
    expect(result.signers).toEqual([1, 3]);
    expect(alpha.notices.some((n) => n.kind === 'operator-blamed' && n.peer === beta.id)).toBe(true);
  } finally {
    network.interceptors.length = 0;
  }
});
