/**
 * A larger vault, five operators with t = 3 (in one process): the DKG gives one output key, any
 * three sign (two are stopped), and a forged proof of knowledge is still blamed on its sender
 * (the per-sender check works for every threshold, not only t = 2).
 */
import * as dagCbor from '@ipld/dag-cbor';
import { schnorr } from '@noble/curves/secp256k1.js';
import { CUSTODY_MESSAGE_TYPES } from '../src/custody-protocol.js';
import { createSpendRequest, signVaultDefinition } from '../src/principal.js';
import { CustodyNetwork } from './support/custody-network.js';

jest.setTimeout(120_000);

let network: CustodyNetwork;

beforeAll(async () => {
  network = await CustodyNetwork.create(['one', 'two', 'three', 'four', 'five']);
});

afterAll(async () => {
  await network.close();
});

it('runs a 3-of-5 DKG and signs with three operators while two are stopped', async () => {
  const principal = await network.party('principal');
  await network.operator('one').service.createVault(await signVaultDefinition(principal, network.definition('five', principal.id, 3)));
  const vaults = await Promise.all(network.operators.map((o) => o.service.waitForVault('five', { timeoutMs: 60_000 })));
  expect(new Set(vaults.map((v) => v.key!.outputKey)).size).toBe(1);
  for (const name of ['two', 'four']) await network.stop(network.operator(name));
  try {
    const message = new Uint8Array(32).fill(9);
    const result = await network.operator('five').service.sign(await createSpendRequest(principal, 'five', { kind: 'message', message }));
    expect(schnorr.verify(result.signatures[0]!, message, Buffer.from(vaults[0]!.key!.outputKey, 'hex'))).toBe(true);
    expect(result.signers).toEqual([1, 3, 5]);
  } finally {
    for (const name of ['two', 'four']) await network.start(network.operator(name));
  }
});

it('blames the sender of a forged proof of knowledge when t = 3', async () => {
  const principal = await network.party('principal');
  const four = network.operator('four');
  network.interceptors.push((m) => {
    if (m.type !== CUSTODY_MESSAGE_TYPES.vaultCommit || m.from !== four.id) return m;
    const value = dagCbor.decode(m.body) as Record<string, Uint8Array>;
    const proof = value['proof']!.slice();
    proof[40]! ^= 1;
    return { ...m, body: dagCbor.encode({ ...value, proof }) };
  });
  try {
    await network.operator('one').service.createVault(await signVaultDefinition(principal, network.definition('forged', principal.id, 3)));
    for (const o of network.operators) await expect(o.service.waitForVault('forged', { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'PROTOCOL_FAILED' });
    expect((await network.operator('one').service.vault('forged')).reason).toMatch(/operator 4\b.*proof of knowledge/);
  } finally {
    network.interceptors.length = 0;
  }
});
