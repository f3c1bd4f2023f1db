/**
 * Key shares in a PKCS#11 key store (SoftHSM2): one operator of a 2-of-3 vault keeps its signing
 * share in a `Pkcs11KeyStore`, the others in encrypted files. After the DKG its share is on the
 * token wrapped under the HSM's key (never in the clear in the token's files), and the vault
 * signs with that operator taking part. Skipped where SoftHSM2 is not installed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FileKeyStore } from '@milagro/keystore';
import { Pkcs11KeyStore } from '@milagro/keystore/pkcs11';
import { schnorr } from '@noble/curves/secp256k1.js';
import { createSoftHsmToken, softHsmSkipReason, type SoftHsmToken } from '../../keystore/test/softhsm-token.js';
import { vaultShareLabel } from '../src/custody-service.js';
import { createSpendRequest, signVaultDefinition } from '../src/principal.js';
import { CustodyNetwork } from './support/custody-network.js';

jest.setTimeout(120_000);

let network: CustodyNetwork;
let token: SoftHsmToken;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

(softHsmSkipReason ? describe.skip : describe)('an operator with an HSM key store', () => {
  beforeAll(async () => {
    token = createSoftHsmToken();
    network = await CustodyNetwork.create(['alpha', 'beta', 'gamma'], {
      keyStoreFor: async (operator) =>
        operator.name === 'alpha'
          ? Pkcs11KeyStore.open({ module: token.module, tokenLabel: token.tokenLabel, pin: { file: token.pinFile } })
          : FileKeyStore.open({ path: join(operator.dir, 'keys'), passphrase: 'test passphrase', scrypt: { N: 2 ** 10, r: 8, p: 1 } }),
    });
  });

  afterAll(async () => {
    await network?.close();
    token?.remove();
  });

  it('keeps its share wrapped on the token and signs with it', async () => {
    const principal = await network.party('principal');
    await network.operator('alpha').service.createVault(await signVaultDefinition(principal, network.definition('hsm', principal.id, 2)));
    const [vault] = await Promise.all(network.operators.map((o) => o.service.waitForVault('hsm', { timeoutMs: 60_000 })));
    const alpha = network.operator('alpha');
    const info = await alpha.keyStore.describe({ label: vaultShareLabel('hsm', 0) });
    expect(info.type).toBe('secret');
    expect(info.residency).toBe('software'); // wrapped under the token's key-encryption key
    const share = Buffer.from(await alpha.keyStore.exportSecret({ label: vaultShareLabel('hsm', 0) }));
    for (const file of filesUnder(token.dir)) expect(readFileSync(file).includes(share)).toBe(false);

    await network.stop(network.operator('gamma')); // so alpha must sign
    try {
      const message = new Uint8Array(32).fill(0x48);
      const result = await network.operator('beta').service.sign(await createSpendRequest(principal, 'hsm', { kind: 'message', message }));
      expect(result.signers).toEqual([1, 2]);
      expect(schnorr.verify(result.signatures[0]!, message, Buffer.from(vault!.key!.outputKey, 'hex'))).toBe(true);
    } finally {
      await network.start(network.operator('gamma'));
    }
  });
});
