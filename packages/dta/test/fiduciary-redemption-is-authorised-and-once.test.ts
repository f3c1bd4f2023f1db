/**
 * Regression for the 2019 Go D-TA, which released a safeguarded secret to anyone who knew the order
 * reference: only the principal or the named beneficiary may redeem, once.
 */
import { bytesToBase64url, randomBytes } from '@milagro/crypto';
import { IdentityResolver } from '@milagro/pki';
import { releasedSecret, safeguardSecretPlugin, type Fulfilment } from '../src/fiduciary/index.js';
import { expectDtaError } from './support/fiduciary-expect.js';
import { createParty, FiduciaryNode, MemoryBlockStore, PrincipalSide } from './support/fiduciary-parties.js';

describe('redeeming an order', () => {
  const store = new MemoryBlockStore();
  let fiduciary: FiduciaryNode;
  let principal: PrincipalSide;
  let beneficiary: PrincipalSide;
  let stranger: PrincipalSide;

  beforeAll(async () => {
    fiduciary = await FiduciaryNode.start(store, [safeguardSecretPlugin()]);
    const resolver = new IdentityResolver({ store });
    principal = new PrincipalSide(await createParty('principal', store), resolver, fiduciary.id);
    beneficiary = new PrincipalSide(await createParty('beneficiary', store), resolver, fiduciary.id);
    stranger = new PrincipalSide(await createParty('stranger', store), resolver, fiduciary.id);
  });

  afterAll(() => fiduciary.stop());

  async function placeOrder(secret: Uint8Array, named?: string): Promise<Fulfilment> {
    const order = await principal.order('safeguard-secret', { secret }, named);
    return principal.openFulfilment((await fiduciary.service.fulfilOrder(order.bytes)).bytes, order.cid);
  }

  it('is refused to a stranger who knows the reference and the fulfilment CID, and the order stays redeemable', async () => {
    const secret = randomBytes(32);
    const fulfilment = await placeOrder(secret, beneficiary.id);
    await expectDtaError(fiduciary.service.redeemOrder((await stranger.redemption(fulfilment)).bytes), 'NOT_AUTHORISED');
    // Naming themselves as beneficiary does not help either.
    await expectDtaError(fiduciary.service.redeemOrder((await stranger.redemption(fulfilment, stranger.id)).bytes), 'NOT_AUTHORISED');

    const redemption = await beneficiary.redemption(fulfilment);
    const release = await beneficiary.openRelease((await fiduciary.service.redeemOrder(redemption.bytes)).bytes, redemption.cid);
    expect(releasedSecret(release.secret)).toEqual(secret);
  });

  it('happens once: the same redemption again returns the same release, any other redemption is a conflict', async () => {
    const fulfilment = await placeOrder(randomBytes(64), beneficiary.id);
    const redemption = await beneficiary.redemption(fulfilment);
    const release = await fiduciary.service.redeemOrder(redemption.bytes);
    expect(await fiduciary.service.redeemOrder(redemption.bytes)).toEqual(release);

    await expectDtaError(fiduciary.service.redeemOrder((await beneficiary.redemption(fulfilment)).bytes), 'CONFLICT');
    await expectDtaError(fiduciary.service.redeemOrder((await principal.redemption(fulfilment)).bytes), 'CONFLICT');

    await fiduciary.reopen();
    expect(await fiduciary.service.redeemOrder(redemption.bytes)).toEqual(release);
    await expectDtaError(fiduciary.service.redeemOrder((await principal.redemption(fulfilment)).bytes), 'CONFLICT');
  });

  it('by principal and beneficiary at the same time: exactly one is released', async () => {
    const fulfilment = await placeOrder(randomBytes(16), beneficiary.id);
    const attempts = await Promise.allSettled([
      principal.redemption(fulfilment).then((r) => fiduciary.service.redeemOrder(r.bytes)),
      beneficiary.redemption(fulfilment).then((r) => fiduciary.service.redeemOrder(r.bytes)),
      principal.redemption(fulfilment).then((r) => fiduciary.service.redeemOrder(r.bytes)),
    ]);
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    for (const attempt of attempts.filter((a) => a.status === 'rejected')) expect((attempt as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT' });
  });

  it('cannot change a beneficiary named at order', async () => {
    const fulfilment = await placeOrder(randomBytes(16), beneficiary.id);
    await expectDtaError(fiduciary.service.redeemOrder((await principal.redemption(fulfilment, principal.id)).bytes), 'CONFLICT');
    // Repeating the named beneficiary is fine.
    const redemption = await principal.redemption(fulfilment, beneficiary.id);
    await beneficiary.openRelease((await fiduciary.service.redeemOrder(redemption.bytes)).bytes, redemption.cid);
  });

  it('of an unknown reference is NOT_FOUND, and a redemption that does not follow the fulfilment is refused', async () => {
    const fulfilment = await placeOrder(randomBytes(16));
    const unknown = { cid: fulfilment.cid, reference: bytesToBase64url(randomBytes(32)) };
    await expectDtaError(fiduciary.service.redeemOrder((await principal.redemption(unknown)).bytes), 'NOT_FOUND');
    const other = await placeOrder(randomBytes(16));
    await expectDtaError(fiduciary.service.redeemOrder((await principal.redemption({ cid: other.cid, reference: fulfilment.reference })).bytes), 'INVALID_REQUEST');
  });
});
