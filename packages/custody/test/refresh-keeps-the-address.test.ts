/**
 * Proactive refresh (three operators, t = 2): on the principal's signed request the operators
 * re-randomise their shares; the output key and addresses stay, the old epoch's share is gone from
 * the key store, an old share no longer combines with a new one, and the vault still signs.
 */
import { schnorr, schnorr_FROST, secp256k1 } from '@noble/curves/secp256k1.js';
import { operatorIdentifier } from '../src/frost-dkg.js';
import { vaultShareLabel } from '../src/custody-service.js';
import { createSpendRequest, signRefresh, signVaultDefinition } from '../src/principal.js';
import { CustodyNetwork } from './support/custody-network.js';

jest.setTimeout(120_000);

let network: CustodyNetwork;

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma']);
});

afterAll(async () => {
  await network.close();
});

it('refreshes the shares, keeps the address, and still signs', async () => {
  const principal = await network.party('principal');
  const alpha = network.operator('alpha');
  await alpha.service.createVault(await signVaultDefinition(principal, network.definition('kept', principal.id, 2)));
  const before = await Promise.all(network.operators.map((o) => o.service.waitForVault('kept', { timeoutMs: 60_000 })));
  const oldShares = await Promise.all(network.operators.map((o) => o.keyStore.exportSecret({ label: vaultShareLabel('kept', 0) })));

  const mallory = await network.party('mallory');
  await expect(alpha.service.refreshVault('kept', await signRefresh(mallory, 'kept', 0))).rejects.toMatchObject({ code: 'NOT_AUTHORISED' });

  await network.operator('beta').service.refreshVault('kept', await signRefresh(principal, 'kept', 0));
  const after = await Promise.all(network.operators.map((o) => o.service.waitForVault('kept', { timeoutMs: 60_000, epoch: 1 })));
  for (const [i, status] of after.entries()) {
    expect(status.epoch).toBe(1);
    expect(status.key).toEqual(before[i]!.key);
  }
  const newShares = await Promise.all(network.operators.map((o) => o.keyStore.exportSecret({ label: vaultShareLabel('kept', 1) })));
  for (const o of network.operators) await expect(o.keyStore.exportSecret({ label: vaultShareLabel('kept', 0) })).rejects.toThrow();
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  for (let i = 0; i < 3; i++) expect(hex(newShares[i]!)).not.toBe(hex(oldShares[i]!));

  // New shares still combine to the key; an old share with a new one does not.
  const keyOf = (shares: Array<[number, Uint8Array]>): string => {
    const secret = schnorr_FROST.combineSecret(shares.map(([i, s]) => ({ identifier: operatorIdentifier(i), signingShare: s })), { min: 2, max: 3 });
    return hex(secp256k1.Point.BASE.multiply(secp256k1.Point.Fn.fromBytes(secret)).toBytes(true).slice(1));
  };
  expect(keyOf([[1, newShares[0]!], [3, newShares[2]!]])).toBe(after[0]!.key!.outputKey);
  expect(keyOf([[1, oldShares[0]!], [3, newShares[2]!]])).not.toBe(after[0]!.key!.outputKey);

  const message = new Uint8Array(32).fill(3);
  const result = await network.operator('gamma').service.sign(await createSpendRequest(principal, 'kept', { kind: 'message', message }));
  expect(schnorr.verify(result.signatures[0]!, message, Buffer.from(after[0]!.key!.outputKey, 'hex'))).toBe(true);
});
