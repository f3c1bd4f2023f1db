/**
 * Resharing to a new operator set (in one process): a 2-of-3 vault held by alpha, beta and gamma
 * moves, on the principal's signature, to a 3-of-4 vault held by beta, gamma, delta and epsilon.
 * The output key and addresses stay; alpha ends `retired` without its share; the new operators sign
 * (with beta stopped); a dealer that deals a constant term other than its share is named.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { schnorr } from '@noble/curves/secp256k1.js';
import { CUSTODY_MESSAGE_TYPES } from '../src/custody-protocol.js';
import { vaultShareLabel } from '../src/custody-service.js';
import { createSpendRequest, signReshare, signVaultDefinition } from '../src/principal.js';
import { CustodyNetwork } from './support/custody-network.js';

jest.setTimeout(120_000);

let network: CustodyNetwork;

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma', 'delta', 'epsilon']);
});

afterAll(async () => {
  await network.close();
});

it('moves a 2-of-3 vault to 3-of-4 with two new operators, same address; the operator left out retires', async () => {
  const principal = await network.party('principal');
  const old = network.definition('moved', principal.id, 2, {}, ['alpha', 'beta', 'gamma']);
  await network.operator('alpha').service.createVault(await signVaultDefinition(principal, old));
  const before = await Promise.all(['alpha', 'beta', 'gamma'].map((n) => network.operator(n).service.waitForVault('moved', { timeoutMs: 60_000 })));

  const next = network.definition('moved', principal.id, 3, {}, ['beta', 'gamma', 'delta', 'epsilon']);
  const mallory = await network.party('mallory');
  await expect(network.operator('gamma').service.reshareVault({ definition: next, signature: await signReshare(mallory, next, 0) })).rejects.toMatchObject({ code: 'NOT_AUTHORISED' });
  await network.operator('gamma').service.reshareVault({ definition: next, signature: await signReshare(principal, next, 0) });

  const after = await Promise.all(['beta', 'gamma', 'delta', 'epsilon'].map((n) => network.operator(n).service.waitForVault('moved', { timeoutMs: 60_000, epoch: 1 })));
  for (const status of after) {
    expect(status.key).toEqual(before[0]!.key);
    expect(status.definition.operators).toEqual(next.operators);
    expect(status.definition.threshold).toBe(3);
  }
  expect(after.map((s) => s.index)).toEqual([1, 2, 3, 4]);
  const alpha = network.operator('alpha');
  await waitUntil(async () => (await alpha.service.vault('moved')).state === 'retired');
  await expect(alpha.keyStore.exportSecret({ label: vaultShareLabel('moved', 0) })).rejects.toThrow();
  await expect(alpha.service.sign(await createSpendRequest(principal, 'moved', { kind: 'message', message: new Uint8Array(32) }))).rejects.toMatchObject({ code: 'VAULT_NOT_READY' });

  await network.stop(network.operator('beta'));
  try {
    const message = new Uint8Array(32).fill(0x21);
    const result = await network.operator('delta').service.sign(await createSpendRequest(principal, 'moved', { kind: 'message', message }));
    expect(schnorr.verify(result.signatures[0]!, message, Buffer.from(before[0]!.key!.outputKey, 'hex'))).toBe(true);
    expect(result.signers).toEqual([2, 3, 4]);
  } finally {
    await network.start(network.operator('beta'));
  }
});

it('names a dealer whose constant term is not its share of the key', async () => {
  const principal = await network.party('principal');
  await network.operator('alpha').service.createVault(await signVaultDefinition(principal, network.definition('cheat', principal.id, 2, {}, ['alpha', 'beta', 'gamma'])));
  await Promise.all(['alpha', 'beta', 'gamma'].map((n) => network.operator(n).service.waitForVault('cheat', { timeoutMs: 60_000 })));
  const beta = network.operator('beta');
  // beta swaps its first two commitments towards delta: the constant term no longer matches its share.
  network.interceptors.push((m) => {
    if (m.type !== CUSTODY_MESSAGE_TYPES.reshareCommit || m.from !== beta.id || m.to !== network.operator('delta').id) return m;
    const value = dagCbor.decode(m.body) as { commitment: Uint8Array[] };
    return { ...m, body: dagCbor.encode({ ...value, commitment: [value.commitment[1], value.commitment[0], ...value.commitment.slice(2)] }) };
  });
  try {
    const next = network.definition('cheat', principal.id, 2, {}, ['alpha', 'beta', 'delta']);
    await network.operator('alpha').service.reshareVault({ definition: next, signature: await signReshare(principal, next, 0) });
    await waitUntil(() => network.operator('delta').notices.some((n) => n.kind === 'operator-blamed' && n.peer === beta.id));
    const reason = network.operator('delta').notices.find((n) => n.kind === 'operator-blamed')!.reason;
    expect(reason).toMatch(/operator 2 .*constant term/);
    // The vault stays on its current sharing at the old operators.
    for (const name of ['alpha', 'beta', 'gamma']) {
      await waitUntil(async () => network.operator(name).notices.some((n) => n.kind === 'session-failed' && n.vaultId === 'cheat'));
      const status = await network.operator(name).service.vault('cheat');
      expect(status.state).toBe('active');
      expect(status.epoch).toBe(0);
    }
  } finally {
    network.interceptors.length = 0;
  }
});

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
