/**
 * Durable state (three operators, t = 2, one process, real SQLite files and key stores): after
 * every operator restarts, the vault is still active with its share in the key store and signs;
 * a request signed before the restart is still refused as a replay (request ids are consumed in
 * the database, not in memory). A DKG with one operator offline fails at the deadline and names it.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { createSpendRequest, signVaultDefinition } from '../src/principal.js';
import { CustodyNetwork } from './support/custody-network.js';

jest.setTimeout(120_000);

let network: CustodyNetwork;

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma'], { roundTimeoutMs: 10_000 });
});

afterAll(async () => {
  await network.close();
});

it('keeps the vault and the consumed request ids across restarts', async () => {
  const principal = await network.party('principal');
  await network.operator('alpha').service.createVault(await signVaultDefinition(principal, network.definition('durable', principal.id, 2)));
  const [vault] = await Promise.all(network.operators.map((o) => o.service.waitForVault('durable', { timeoutMs: 60_000 })));
  const signed = await createSpendRequest(principal, 'durable', { kind: 'message', message: new Uint8Array(32).fill(4) });
  await network.operator('alpha').service.sign(signed);

  for (const o of network.operators) {
    await network.stop(o);
    await network.start(o, { roundTimeoutMs: 10_000 });
  }
  for (const o of network.operators) expect((await o.service.vault('durable')).key).toEqual(vault!.key);
  for (const name of ['alpha', 'gamma']) await expect(network.operator(name).service.sign(signed)).rejects.toMatchObject({ code: 'REQUEST_REPLAYED' });
  const message = new Uint8Array(32).fill(5);
  const fresh = await network.operator('gamma').service.sign(await createSpendRequest(principal, 'durable', { kind: 'message', message }));
  expect(schnorr.verify(fresh.signatures[0]!, message, Buffer.from(vault!.key!.outputKey, 'hex'))).toBe(true);
});

it('fails a DKG with an operator offline at the deadline, naming it', async () => {
  const principal = await network.party('principal');
  const gamma = network.operator('gamma');
  await network.stop(gamma);
  try {
    await network.operator('alpha').service.createVault(await signVaultDefinition(principal, network.definition('offline', principal.id, 2)));
    for (const name of ['alpha', 'beta']) {
      await expect(network.operator(name).service.waitForVault('offline', { timeoutMs: 60_000 })).rejects.toMatchObject({ code: 'PROTOCOL_FAILED' });
      expect((await network.operator(name).service.vault('offline')).reason).toMatch(/operator\(s\) 3\b/);
    }
  } finally {
    await network.start(gamma, { roundTimeoutMs: 10_000 });
  }
});
