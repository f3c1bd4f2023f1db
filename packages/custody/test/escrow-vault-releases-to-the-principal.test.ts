/**
 * Escrow mode (three operators, t = 2, real PKI identities): on an approved `escrow-release`
 * request, two operators seal their shares to the principal, who combines them into the vault's
 * secret key and signs ECDSA with it. Vaults not created as escrow never release; the release
 * needs the policy's approvals and is refused when replayed.
 */
import { identityRecipientKey } from '@milagro/pki';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { recoverEscrowKey } from '../src/escrow.js';
import { approveSpend, createSpendRequest, signVaultDefinition } from '../src/principal.js';
import { decodeSpendRequest } from '../src/vault.js';
import { CustodyNetwork } from './support/custody-network.js';

jest.setTimeout(120_000);

let network: CustodyNetwork;

beforeAll(async () => {
  network = await CustodyNetwork.create(['alpha', 'beta', 'gamma'], { withAudit: true });
});

afterAll(async () => {
  await network.close();
});

it('releases two sealed shares that only the principal opens, giving the key behind the vault', async () => {
  const principal = await network.identityParty('principal');
  const approver = await network.party('approver');
  const definition = { ...network.definition('escrowed', principal.signer.id, 2, { approvers: [approver.id], approvals: 1 }), mode: 'escrow' as const };
  await network.operator('alpha').service.createVault(await signVaultDefinition(principal.signer, definition));
  const [vault] = await Promise.all(network.operators.map((o) => o.service.waitForVault('escrowed', { timeoutMs: 60_000 })));
  expect(vault!.definition.mode).toBe('escrow');

  const unapproved = await createSpendRequest(principal.signer, 'escrowed', { kind: 'escrow-release' });
  await expect(network.operator('beta').service.sign(unapproved)).rejects.toMatchObject({ code: 'POLICY_REFUSED' });

  const signed = await createSpendRequest(principal.signer, 'escrowed', { kind: 'escrow-release' });
  const request = { ...signed, approvals: [await approveSpend(approver, signed.request)] };
  const released = await network.operator('beta').service.sign(request);
  expect(released.signatures).toEqual([]);
  expect(released.sealedShares).toHaveLength(2);

  const { secretKey, compressedKey } = await recoverEscrowKey({
    vault: { vaultId: 'escrowed', operators: definition.operators, threshold: 2, outputKey: Buffer.from(vault!.key!.outputKey, 'hex') },
    requestId: decodeSpendRequest(signed.request).requestId,
    shares: released.sealedShares!,
    recipient: await identityRecipientKey(principal.identity, principal.keyStore),
    operatorKey: async (id) => network.keys.get(id)!,
  });
  expect(Buffer.from(compressedKey.slice(1)).toString('hex')).toBe(vault!.key!.outputKey);
  const hash = new Uint8Array(32).fill(0xec);
  const signature = secp256k1.sign(hash, secretKey, { prehash: false });
  expect(secp256k1.verify(signature, hash, compressedKey, { prehash: false })).toBe(true);

  // Someone else cannot open the shares.
  const mallory = await network.identityParty('mallory');
  await expect(
    recoverEscrowKey({
      vault: { vaultId: 'escrowed', operators: definition.operators, threshold: 2, outputKey: Buffer.from(vault!.key!.outputKey, 'hex') },
      requestId: decodeSpendRequest(signed.request).requestId,
      shares: released.sealedShares!,
      recipient: await identityRecipientKey(mallory.identity, mallory.keyStore),
      operatorKey: async (id) => network.keys.get(id)!,
    }),
  ).rejects.toMatchObject({ code: 'NOT_AUTHORISED' });

  await expect(network.operator('alpha').service.sign(request)).rejects.toMatchObject({ code: 'REQUEST_REPLAYED' });
});

it('never releases the shares of a vault that is not in escrow mode', async () => {
  const principal = await network.identityParty('principal-2');
  await network.operator('alpha').service.createVault(await signVaultDefinition(principal.signer, network.definition('frost-only', principal.signer.id, 2)));
  await Promise.all(network.operators.map((o) => o.service.waitForVault('frost-only', { timeoutMs: 60_000 })));
  await expect(network.operator('alpha').service.sign(await createSpendRequest(principal.signer, 'frost-only', { kind: 'escrow-release' }))).rejects.toMatchObject({ code: 'POLICY_REFUSED' });
});
