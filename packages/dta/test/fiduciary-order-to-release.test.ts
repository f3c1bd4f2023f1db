/**
 * A fiduciary order end to end, for both plugins: order → fulfilment → redemption → release, each
 * step a signed, sealed envelope linked to the previous one and pinned in the content store.
 */
import { randomBytes } from '@milagro/crypto';
import { decodeEnvelope } from '@milagro/envelope';
import { isKeyStoreError } from '@milagro/keystore';
import { IdentityResolver } from '@milagro/pki';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  bitcoinAddressOf,
  bitcoinAddressPlugin,
  checkBitcoinCommitment,
  checkSafeguardCommitment,
  combineBitcoinKeys,
  releasedBitcoinKey,
  releasedSecret,
  safeguardSecretPlugin,
} from '../src/fiduciary/index.js';
import { createParty, FiduciaryNode, MemoryBlockStore, PrincipalSide } from './support/fiduciary-parties.js';

describe('a fiduciary order from order to release', () => {
  const store = new MemoryBlockStore();
  let fiduciary: FiduciaryNode;
  let principal: PrincipalSide;
  let beneficiary: PrincipalSide;

  beforeAll(async () => {
    fiduciary = await FiduciaryNode.start(store, [safeguardSecretPlugin(), bitcoinAddressPlugin({ network: 'regtest' })]);
    const resolver = new IdentityResolver({ store });
    principal = new PrincipalSide(await createParty('principal', store), resolver, fiduciary.id);
    beneficiary = new PrincipalSide(await createParty('beneficiary', store), resolver, fiduciary.id);
  });

  afterAll(() => fiduciary.stop());

  it('safeguard-secret: the secret is kept encrypted, committed to, and released to the principal on redemption', async () => {
    const secret = randomBytes(8192);
    const order = await principal.order('safeguard-secret', { secret });
    const fulfilmentEnvelope = await fiduciary.service.fulfilOrder(order.bytes);
    const fulfilment = await principal.openFulfilment(fulfilmentEnvelope.bytes, order.cid);
    expect(fulfilment.reference).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fulfilment.plugin).toBe('safeguard-secret');
    expect(checkSafeguardCommitment(fulfilment.commitment, fulfilment.reference, secret)).toBe(true);
    expect(checkSafeguardCommitment(fulfilment.commitment, fulfilment.reference, randomBytes(16))).toBe(false);

    // The fiduciary holds an AES key for the order, not the secret.
    const key = await fiduciary.keyStore.describe({ label: `dta/order/${fulfilment.reference}` });
    expect(key.type).toBe('aes-256');

    const redemption = await principal.redemption(fulfilment);
    const releaseEnvelope = await fiduciary.service.redeemOrder(redemption.bytes);
    const release = await principal.openRelease(releaseEnvelope.bytes, redemption.cid);
    expect(release.reference).toBe(fulfilment.reference);
    expect(releasedSecret(release.secret)).toEqual(secret);

    // The chain: release → redemption → fulfilment → order, every envelope pinned.
    expect(decodeEnvelope(releaseEnvelope.bytes).header.prev?.toString()).toBe(redemption.cid);
    expect(decodeEnvelope(redemption.bytes).header.prev?.toString()).toBe(fulfilmentEnvelope.cid);
    expect(decodeEnvelope(fulfilmentEnvelope.bytes).header.prev?.toString()).toBe(order.cid);
    for (const cid of [order.cid, fulfilmentEnvelope.cid, redemption.cid, releaseEnvelope.cid]) expect(store.pinned.has(cid)).toBe(true);

    // Released once; the fiduciary no longer holds the key.
    const gone = await fiduciary.keyStore.describe({ label: `dta/order/${fulfilment.reference}` }).catch((e: unknown) => e);
    expect(isKeyStoreError(gone, 'NOT_FOUND')).toBe(true);
  });

  it('bitcoin-address, beneficiary named at order: the beneficiary redeems k_f and k_p + k_f controls the address from the order', async () => {
    const principalSecret = secp256k1.utils.randomSecretKey();
    const principalPublic = secp256k1.getPublicKey(principalSecret, true);
    const order = await principal.order('bitcoin-address', { publicKey: principalPublic }, beneficiary.id);
    const fulfilmentEnvelope = await fiduciary.service.fulfilOrder(order.bytes);
    const fulfilment = await principal.openFulfilment(fulfilmentEnvelope.bytes, order.cid);
    const { address } = checkBitcoinCommitment(fulfilment.commitment, principalPublic, 'regtest');
    expect(address.startsWith('bcrt1q')).toBe(true);

    // The principal passes reference and fulfilment CID to the beneficiary, who redeems.
    const redemption = await beneficiary.redemption(fulfilment);
    const releaseEnvelope = await fiduciary.service.redeemOrder(redemption.bytes);
    expect(decodeEnvelope(releaseEnvelope.bytes).header.to.map((r) => r.id)).toEqual([beneficiary.id]);
    const release = await beneficiary.openRelease(releaseEnvelope.bytes, redemption.cid);
    const privateKey = combineBitcoinKeys(principalSecret, releasedBitcoinKey(release.secret));
    expect(bitcoinAddressOf(privateKey, 'regtest')).toBe(address);
    // The principal alone (or the fiduciary's half alone) is another address.
    expect(bitcoinAddressOf(principalSecret, 'regtest')).not.toBe(address);
  });

  it('bitcoin-address, beneficiary named at redemption: the principal redeems and the release is sealed to the beneficiary only', async () => {
    const principalSecret = secp256k1.utils.randomSecretKey();
    const principalPublic = secp256k1.getPublicKey(principalSecret, true);
    const order = await principal.order('bitcoin-address', { publicKey: principalPublic });
    const fulfilment = await principal.openFulfilment((await fiduciary.service.fulfilOrder(order.bytes)).bytes, order.cid);
    const { address } = checkBitcoinCommitment(fulfilment.commitment, principalPublic, 'regtest');

    const redemption = await principal.redemption(fulfilment, beneficiary.id);
    const releaseEnvelope = await fiduciary.service.redeemOrder(redemption.bytes);
    await expect(principal.openRelease(releaseEnvelope.bytes, redemption.cid)).rejects.toMatchObject({ code: 'NOT_AUTHORISED' });
    const release = await beneficiary.openRelease(releaseEnvelope.bytes, redemption.cid);
    expect(bitcoinAddressOf(combineBitcoinKeys(principalSecret, releasedBitcoinKey(release.secret)), 'regtest')).toBe(address);
  });

  it('bitcoin-address, no beneficiary: the principal redeems its own key half', async () => {
    const principalSecret = secp256k1.utils.randomSecretKey();
    const principalPublic = secp256k1.getPublicKey(principalSecret, true);
    const order = await principal.order('bitcoin-address', { publicKey: principalPublic });
    const fulfilment = await principal.openFulfilment((await fiduciary.service.fulfilOrder(order.bytes)).bytes, order.cid);
    const { address } = checkBitcoinCommitment(fulfilment.commitment, principalPublic, 'regtest');
    const redemption = await principal.redemption(fulfilment);
    const release = await principal.openRelease((await fiduciary.service.redeemOrder(redemption.bytes)).bytes, redemption.cid);
    expect(bitcoinAddressOf(combineBitcoinKeys(principalSecret, releasedBitcoinKey(release.secret)), 'regtest')).toBe(address);
  });

  it('a principal refuses a commitment whose address is not that of the joint key', async () => {
    const principalPublic = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
    const order = await principal.order('bitcoin-address', { publicKey: principalPublic });
    const fulfilment = await principal.openFulfilment((await fiduciary.service.fulfilOrder(order.bytes)).bytes, order.cid);
    const otherPublic = secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
    expect(() => checkBitcoinCommitment(fulfilment.commitment, otherPublic, 'regtest')).toThrow(/not the address of the joint key/);
    expect(() => checkBitcoinCommitment(fulfilment.commitment, principalPublic, 'mainnet')).toThrow(/not the address of the joint key/);
  });
});
