import { XWingDecapsulationKey, generateXWingKeyPair, randomBytes } from '@milagro/crypto';
import { openSealedShare, sealShare, type SealedShareBinding } from '../src/sealed-share.js';
import { expectDtaError } from './support/issuance-world.js';

// A sealed share opens with the client's key under the binding it was sealed with, and under no
// other: a share sealed for one identity, D-TA, realm, epoch or index cannot be passed off as another.
describe('a sealed share opens only under its binding', () => {
  const client = generateXWingKeyPair();
  const key = XWingDecapsulationKey.fromSecretKey(client.secretKey);
  const share = randomBytes(48);
  const binding: SealedShareBinding = {
    realmId: 'acme',
    dta: 'bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi',
    identityHash: randomBytes(32),
    epoch: 3,
    index: 2n,
  };

  it('round-trips', async () => {
    const sealed = await sealShare(client.publicKey, share, binding);
    expect(await openSealedShare(key, sealed, binding)).toEqual(share);
    expect(sealed.ciphertext).not.toEqual(share);
  });

  it('refuses every other binding, another key and tampered bytes', async () => {
    const sealed = await sealShare(client.publicKey, share, binding);
    const others: SealedShareBinding[] = [
      { ...binding, realmId: 'acme2' },
      { ...binding, dta: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' },
      { ...binding, identityHash: randomBytes(32) },
      { ...binding, epoch: 4 },
      { ...binding, index: 1n },
    ];
    for (const other of others) await expectDtaError(openSealedShare(key, sealed, other), 'INVALID_REQUEST');
    await expectDtaError(openSealedShare(XWingDecapsulationKey.fromSecretKey(generateXWingKeyPair().secretKey), sealed, binding), 'INVALID_REQUEST');
    const tampered = sealed.ciphertext.slice();
    tampered[0]! ^= 1;
    await expectDtaError(openSealedShare(key, { enc: sealed.enc, ciphertext: tampered }, binding), 'INVALID_REQUEST');
  });

  it('refuses to seal to something that is not an X-Wing public key (INVALID_REQUEST)', async () => {
    await expectDtaError(sealShare(client.publicKey.subarray(1), share, binding), 'INVALID_REQUEST');
    await expectDtaError(sealShare(new Uint8Array(1216).fill(0xff), share, binding), 'INVALID_REQUEST');
  });
});
