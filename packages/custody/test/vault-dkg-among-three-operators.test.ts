/**
 * Three operators, t = 2, in one process over an in-memory transport (real SQLite files and real
 * encrypted-file key stores): a principal's signed definition becomes an active vault with the same
 * Taproot output key at every operator; the address matches an independent BIP-341 computation
 * from the untweaked group key (tagged hash with @noble/hashes, and btc-signer's p2tr); the shares
 * never meet, but (in this test only) any two combine to the key behind the address.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { schnorr_FROST, secp256k1 } from '@noble/curves/secp256k1.js';
import * as btc from '@scure/btc-signer';
import { operatorIdentifier } from '../src/frost-dkg.js';
import { signVaultDefinition } from '../src/principal.js';
import { vaultShareLabel } from '../src/custody-service.js';
import { CustodyNetwork } from './support/custody-network.js';

jest.setTimeout(120_000);

let network: CustodyNetwork;

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma']);
});

afterAll(async () => {
  await network.close();
});

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** BIP-341 taproot_tweak_pubkey, written out: Q = lift_x(P) + int(hashTapTweak(P))·G. */
function bip341OutputKey(internalX: Uint8Array): Uint8Array {
  const tag = sha256(new TextEncoder().encode('TapTweak'));
  const t = secp256k1.Point.Fn.fromBytes(sha256(new Uint8Array([...tag, ...tag, ...internalX])));
  const P = secp256k1.Point.fromBytes(new Uint8Array([0x02, ...internalX]));
  return P.add(secp256k1.Point.BASE.multiply(t)).toBytes(true).slice(1);
}

it('runs the DKG: every operator active with one output key, whose address is the BIP-341 tweak of the group key', async () => {
  const principal = await network.party('principal');
  const definition = network.definition('vault-one', principal.id, 2);
  const [alpha] = network.operators;
  const started = await alpha!.service.createVault(await signVaultDefinition(principal, definition));
  expect(started.state).toBe('pending');

  const vaults = await Promise.all(network.operators.map((o) => o.service.waitForVault('vault-one', { timeoutMs: 60_000 })));
  expect(new Set(vaults.map((v) => v.key!.outputKey)).size).toBe(1);
  expect(new Set(vaults.map((v) => JSON.stringify(v.key!.addresses))).size).toBe(1);
  expect(vaults.map((v) => v.index)).toEqual([1, 2, 3]);

  const key = vaults[0]!.key!;
  const internalX = Buffer.from(key.internalKey, 'hex').subarray(1);
  expect(hex(bip341OutputKey(internalX))).toBe(key.outputKey);
  expect(btc.p2tr(internalX, undefined, btc.NETWORK).address).toBe(key.addresses.mainnet);
  expect(btc.p2tr(internalX, undefined, btc.TEST_NETWORK).address).toBe(key.addresses.testnet);
  expect(btc.p2tr(internalX, undefined, { ...btc.TEST_NETWORK, bech32: 'bcrt' }).address).toBe(key.addresses.regtest);
  expect(key.addresses.mainnet).toMatch(/^bc1p/);
  expect(key.addresses.testnet).toMatch(/^tb1p/);
  expect(key.addresses.regtest).toMatch(/^bcrt1p/);

  // Only here, to prove the sharing: any two shares give the secret behind the output key.
  const shares = await Promise.all(network.operators.map(async (o, i) => ({ identifier: operatorIdentifier(i + 1), signingShare: await o.keyStore.exportSecret({ label: vaultShareLabel('vault-one', 0) }) })));
  for (const pair of [[0, 1], [1, 2], [0, 2]] as const) {
    const secret = schnorr_FROST.combineSecret([shares[pair[0]]!, shares[pair[1]]!], { min: 2, max: 3 });
    expect(hex(secp256k1.Point.BASE.multiply(secp256k1.Point.Fn.fromBytes(secret)).toBytes(true).slice(1))).toBe(key.outputKey);
  }
  for (const o of network.operators) expect(o.notices.filter((n) => n.kind !== 'message-ignored')).toEqual([]);
});

it('ignores every message delivered again after the vault is active', async () => {
  const before = await Promise.all(network.operators.map((o) => o.keyStore.exportSecret({ label: vaultShareLabel('vault-one', 0) })));
  const byId = new Map(network.operators.map((o) => [o.id, o]));
  for (const message of [...network.sent]) await byId.get(message.to)!.service.handleMessage(message);
  const after = await Promise.all(network.operators.map((o) => o.keyStore.exportSecret({ label: vaultShareLabel('vault-one', 0) })));
  expect(after.map(hex)).toEqual(before.map(hex));
  for (const o of network.operators) expect((await o.service.vault('vault-one')).state).toBe('active');
});

it('refuses a definition the principal did not sign, and an existing vault', async () => {
  const principal = await network.party('principal');
  const mallory = await network.party('mallory');
  const alpha = network.operator('alpha');
  const forged = await signVaultDefinition(mallory, network.definition('vault-two', principal.id, 2));
  await expect(alpha.service.createVault(forged)).rejects.toMatchObject({ code: 'NOT_AUTHORISED' });
  const again = await signVaultDefinition(principal, network.definition('vault-one', principal.id, 2));
  await expect(alpha.service.createVault(again)).rejects.toMatchObject({ code: 'CONFLICT' });
  await expect(alpha.service.vault('nope')).rejects.toMatchObject({ name: 'CustodyError', code: 'NOT_FOUND' });
});
