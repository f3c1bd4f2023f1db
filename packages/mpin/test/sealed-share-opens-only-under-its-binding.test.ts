/**
 * Sealed client-secret shares (the issuer→client hop, ADR 0009): a share opens with the client's
 * X-Wing key under the binding it was sealed with and under no other; a share sealed by the D-TA
 * before the format moved here still opens (same `info`, same DAG-CBOR associated data).
 */
import { CryptoError, XWingDecapsulationKey, generateXWingKeyPair, hexToBytes, randomBytes } from '@milagro/crypto';
import { SEALED_SHARE_INFO, openSealedShare, sealShare, type SealedShareBinding } from '../src/index.js';
import vector from './vectors/sealed-share-v1.json';

async function expectCryptoError(promise: Promise<unknown>, code: string): Promise<void> {
  const error: unknown = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(CryptoError);
  expect((error as CryptoError).code).toBe(code);
}

describe('a sealed share opens only under its binding', () => {
  const client = generateXWingKeyPair();
  const key = XWingDecapsulationKey.fromSecretKey(client.secretKey);
  const share = randomBytes(48);
  const binding: SealedShareBinding = { realmId: 'acme', dta: 'bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi', identityHash: randomBytes(32), epoch: 3, index: 2n };

  test('a share sealed by the D-TA before the move opens byte for byte', async () => {
    expect(SEALED_SHARE_INFO).toBe('milagro/dta/sealed-share/v1');
    const recorded: SealedShareBinding = { ...vector.binding, identityHash: hexToBytes(vector.binding.identityHash), index: BigInt(vector.binding.index) };
    const sealed = { enc: hexToBytes(vector.sealed.enc), ciphertext: hexToBytes(vector.sealed.ciphertext) };
    expect(await openSealedShare(hexToBytes(vector.secretKey), sealed, recorded)).toEqual(hexToBytes(vector.share));
  });

  test('round-trips, and refuses every other binding, another key and tampered bytes (DECRYPTION_FAILED)', async () => {
    const sealed = await sealShare(client.publicKey, share, binding);
    expect(await openSealedShare(key, sealed, binding)).toEqual(share);
    const others: SealedShareBinding[] = [
      { ...binding, realmId: 'acme2' },
      { ...binding, dta: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' },
      { ...binding, identityHash: randomBytes(32) },
      { ...binding, epoch: 4 },
      { ...binding, index: 1n },
    ];
    for (const other of others) await expectCryptoError(openSealedShare(key, sealed, other), 'DECRYPTION_FAILED');
    await expectCryptoError(openSealedShare(generateXWingKeyPair().secretKey, sealed, binding), 'DECRYPTION_FAILED');
    const tampered = sealed.ciphertext.slice();
    tampered[0]! ^= 1;
    await expectCryptoError(openSealedShare(key, { enc: sealed.enc, ciphertext: tampered }, binding), 'DECRYPTION_FAILED');
    await expectCryptoError(openSealedShare(key, { enc: sealed.enc.subarray(1), ciphertext: sealed.ciphertext }, binding), 'DECRYPTION_FAILED');
  });

  test('refuses to seal to something that is not an X-Wing public key', async () => {
    await expectCryptoError(sealShare(client.publicKey.subarray(1), share, binding), 'INVALID_LENGTH');
    await expectCryptoError(sealShare(new Uint8Array(1216).fill(0xff), share, binding), 'INVALID_ENCODING');
  });
});
