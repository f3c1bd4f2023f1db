/**
 * Envelopes that are tampered with, forged, sealed to another D-TA, of the wrong type, or for a
 * plugin this D-TA does not enable are refused with typed errors, and nothing is recorded.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { randomBytes } from '@milagro/crypto';
import { decodeEnvelope, encodeEnvelope } from '@milagro/envelope';
import { identityRecipientKey, identitySigner, IdentityResolver } from '@milagro/pki';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { createOrder, openFulfilment, safeguardSecretPlugin } from '../src/fiduciary/index.js';
import { expectDtaError } from './support/fiduciary-expect.js';
import { createParty, FiduciaryNode, MemoryBlockStore, PrincipalSide, type Party } from './support/fiduciary-parties.js';

describe('the fiduciary refuses', () => {
  const store = new MemoryBlockStore();
  let fiduciary: FiduciaryNode;
  let otherFiduciary: Party;
  let principalParty: Party;
  let principal: PrincipalSide;
  let resolver: IdentityResolver;

  beforeAll(async () => {
    fiduciary = await FiduciaryNode.start(store, [safeguardSecretPlugin()]);
    resolver = new IdentityResolver({ store });
    otherFiduciary = await createParty('other-dta', store);
    principalParty = await createParty('principal', store);
    principal = new PrincipalSide(principalParty, resolver, fiduciary.id);
  });

  afterAll(() => fiduciary.stop());

  async function orderCount(): Promise<number> {
    const row = await fiduciary.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM dta_orders');
    return Number(row?.n ?? 0);
  }

  it('an order whose ciphertext or sender was tampered with', async () => {
    const before = await orderCount();
    const order = decodeEnvelope((await principal.order('safeguard-secret', { secret: randomBytes(32) })).bytes);
    const data = order.data!.slice();
    data[data.length - 1]! ^= 1;
    await expectDtaError(fiduciary.service.fulfilOrder(encodeEnvelope({ ...order, data })), 'NOT_AUTHORISED');
    const signature = order.signature.slice();
    signature[10]! ^= 1;
    await expectDtaError(fiduciary.service.fulfilOrder(encodeEnvelope({ ...order, signature })), 'NOT_AUTHORISED');
    // Claiming to come from another identity (whose key did not sign it).
    const forged = encodeEnvelope({ ...order, header: { ...order.header, from: otherFiduciary.id } });
    await expectDtaError(fiduciary.service.fulfilOrder(forged), 'NOT_AUTHORISED');
    await expectDtaError(fiduciary.service.fulfilOrder(randomBytes(200)), 'INVALID_REQUEST');
    expect(await orderCount()).toBe(before);
  });

  it('an order addressed to another fiduciary', async () => {
    const keys = (await resolver.resolve(otherFiduciary.id)).keys;
    const order = await createOrder({
      principal: identitySigner(principalParty.identity, principalParty.keyStore),
      fiduciary: { id: otherFiduciary.id, publicKey: keys.kem },
      plugin: 'safeguard-secret',
      params: { secret: randomBytes(32) },
    });
    await expectDtaError(fiduciary.service.fulfilOrder(order.bytes), 'NOT_AUTHORISED');
  });

  it('an order for a plugin not enabled by config, or with bad params', async () => {
    const before = await orderCount();
    const bitcoinOrder = await principal.order('bitcoin-address', { publicKey: secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true) });
    await expectDtaError(fiduciary.service.fulfilOrder(bitcoinOrder.bytes), 'INVALID_REQUEST');
    await expectDtaError(fiduciary.service.fulfilOrder((await principal.order('safeguard-secret', { secret: randomBytes(8193) })).bytes), 'INVALID_REQUEST');
    await expectDtaError(fiduciary.service.fulfilOrder((await principal.order('safeguard-secret', { secret: 'text' })).bytes), 'INVALID_REQUEST');
    await expectDtaError(fiduciary.service.fulfilOrder((await principal.order('safeguard-secret', { secret: randomBytes(8), extra: 1 })).bytes), 'INVALID_REQUEST');
    // A beneficiary that is a well-formed identity CID of a document nobody published. (Flipping a
    // character of a real CID was flaky: a changed last base32 character may not be canonical, and
    // then the principal's own encoder refuses the order before the fiduciary sees it.)
    const unknownBeneficiary = CID.createV1(dagCbor.code, await sha256.digest(randomBytes(32))).toString();
    await expectDtaError(fiduciary.service.fulfilOrder((await principal.order('safeguard-secret', { secret: randomBytes(8) }, unknownBeneficiary)).bytes), 'INVALID_REQUEST');
    expect(await orderCount()).toBe(before);

    // Disabling a plugin after an order was fulfilled refuses its redemption too.
    const order = await principal.order('safeguard-secret', { secret: randomBytes(8) });
    const fulfilment = await principal.openFulfilment((await fiduciary.service.fulfilOrder(order.bytes)).bytes, order.cid);
    await fiduciary.reopen([]);
    await expectDtaError(fiduciary.service.redeemOrder((await principal.redemption(fulfilment)).bytes), 'INVALID_REQUEST');
    await fiduciary.reopen([safeguardSecretPlugin()]);
    await fiduciary.service.redeemOrder((await principal.redemption(fulfilment)).bytes);
  });

  it('an envelope of the wrong type in either step', async () => {
    const order = await principal.order('safeguard-secret', { secret: randomBytes(8) });
    await expectDtaError(fiduciary.service.redeemOrder(order.bytes), 'INVALID_REQUEST');
    const fulfilment = await fiduciary.service.fulfilOrder(order.bytes);
    await expectDtaError(fiduciary.service.fulfilOrder(fulfilment.bytes), 'INVALID_REQUEST');
  });

  it('(the principal) a fulfilment answering another order, or signed by someone else', async () => {
    const order = await principal.order('safeguard-secret', { secret: randomBytes(8) });
    const other = await principal.order('safeguard-secret', { secret: randomBytes(8) });
    const fulfilment = await fiduciary.service.fulfilOrder(order.bytes);
    await expectDtaError(principal.openFulfilment(fulfilment.bytes, other.cid), 'INVALID_REQUEST');
    const otherKeys = (await resolver.resolve(otherFiduciary.id)).keys;
    await expectDtaError(
      openFulfilment(fulfilment.bytes, {
        order: order.cid,
        fiduciary: { id: otherFiduciary.id, publicKey: otherKeys.sign },
        recipient: await identityRecipientKey(principalParty.identity, principalParty.keyStore),
      }),
      'NOT_AUTHORISED',
    );
  });

  it('calls after close', async () => {
    const order = await principal.order('safeguard-secret', { secret: randomBytes(8) });
    await fiduciary.service.close();
    await expectDtaError(fiduciary.service.fulfilOrder(order.bytes), 'CLOSED');
    await fiduciary.reopen();
  });
});
