/**
 * Regression for the 2019 Go D-TA, where a replayed request overwrote a stored key seed: an order
 * envelope sent again (one after another, concurrently, after a restart, after a crash mid-way)
 * returns the same fulfilment, and the secret behind it is never generated again or replaced.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { IdentityResolver } from '@milagro/pki';
import {
  bitcoinAddressOf,
  bitcoinAddressPlugin,
  checkBitcoinCommitment,
  combineBitcoinKeys,
  releasedBitcoinKey,
  type FiduciaryPlugin,
} from '../src/fiduciary/index.js';
import { createParty, FiduciaryNode, MemoryBlockStore, PrincipalSide } from './support/fiduciary-parties.js';

const bitcoin = bitcoinAddressPlugin({ network: 'testnet' });

/** The bitcoin plugin, counting how often a new key half is created, optionally failing after the vault kept it. */
function countingPlugin(counter: { created: number; failNext?: boolean }): FiduciaryPlugin {
  return {
    ...bitcoin,
    async order(request, vault) {
      const outcome = await bitcoin.order(request as Parameters<typeof bitcoin.order>[0], {
        ...vault,
        keepSecret: (create) =>
          vault.keepSecret(() => {
            counter.created += 1;
            return create();
          }),
      });
      if (counter.failNext === true) {
        counter.failNext = false;
        throw new Error('simulated crash after the secret was kept');
      }
      return outcome;
    },
  } as FiduciaryPlugin;
}

describe('a replayed order', () => {
  const store = new MemoryBlockStore();
  const counter = { created: 0 } as { created: number; failNext?: boolean };
  let fiduciary: FiduciaryNode;
  let principal: PrincipalSide;
  const principalSecret = secp256k1.utils.randomSecretKey();
  const principalPublic = secp256k1.getPublicKey(principalSecret, true);

  beforeAll(async () => {
    fiduciary = await FiduciaryNode.start(store, [countingPlugin(counter)]);
    principal = new PrincipalSide(await createParty('principal', store), new IdentityResolver({ store }), fiduciary.id);
  });

  afterAll(() => fiduciary.stop());

  it('returns the same fulfilment, sequentially, concurrently and after a restart, and keeps one secret', async () => {
    const order = await principal.order('bitcoin-address', { publicKey: principalPublic });
    const first = await fiduciary.service.fulfilOrder(order.bytes);
    const fulfilment = await principal.openFulfilment(first.bytes, order.cid);
    const label = `dta/order/${fulfilment.reference}`;
    const keptSecret = await fiduciary.keyStore.exportSecret({ label });
    expect(counter.created).toBe(1);

    const again = await fiduciary.service.fulfilOrder(order.bytes);
    expect(again).toEqual(first);

    const concurrent = await Promise.all(Array.from({ length: 8 }, () => fiduciary.service.fulfilOrder(order.bytes)));
    for (const answer of concurrent) expect(answer).toEqual(first);

    await fiduciary.reopen();
    expect(await fiduciary.service.fulfilOrder(order.bytes)).toEqual(first);
    expect(await fiduciary.keyStore.exportSecret({ label })).toEqual(keptSecret);
    expect(counter.created).toBe(1);
    expect((await fiduciary.keyStore.list()).filter((key) => key.label.startsWith('dta/order/'))).toHaveLength(1);
  });

  it('lost to a crash after the secret was kept, is fulfilled again from the kept secret', async () => {
    const order = await principal.order('bitcoin-address', { publicKey: principalPublic });
    counter.failNext = true;
    const createdBefore = counter.created;
    const orderKeys = async () => (await fiduciary.keyStore.list()).map((key) => key.label).filter((label) => label.startsWith('dta/order/'));
    const keysBefore = await orderKeys();
    await expect(fiduciary.service.fulfilOrder(order.bytes)).rejects.toThrow(/simulated crash/);
    expect(counter.created).toBe(createdBefore + 1);
    const newKeys = (await orderKeys()).filter((label) => !keysBefore.includes(label));
    expect(newKeys).toHaveLength(1);
    const kept = await fiduciary.keyStore.exportSecret({ label: newKeys[0]! });

    await fiduciary.reopen();
    const fulfilmentEnvelope = await fiduciary.service.fulfilOrder(order.bytes);
    const fulfilment = await principal.openFulfilment(fulfilmentEnvelope.bytes, order.cid);
    expect(counter.created).toBe(createdBefore + 1); // no second key half
    const stored = await fiduciary.keyStore.exportSecret({ label: `dta/order/${fulfilment.reference}` });
    expect(`dta/order/${fulfilment.reference}`).toBe(newKeys[0]);
    expect(stored).toEqual(kept);
    // The address commits to the key half the crashed attempt kept.
    const { address } = checkBitcoinCommitment(fulfilment.commitment, principalPublic, 'testnet');
    expect(bitcoinAddressOf(combineBitcoinKeys(principalSecret, kept), 'testnet')).toBe(address);

    const redemption = await principal.redemption(fulfilment);
    const release = await principal.openRelease((await fiduciary.service.redeemOrder(redemption.bytes)).bytes, redemption.cid);
    expect(bitcoinAddressOf(combineBitcoinKeys(principalSecret, releasedBitcoinKey(release.secret)), 'testnet')).toBe(address);

    // After redemption, a replayed order still only returns the stored fulfilment.
    expect(await fiduciary.service.fulfilOrder(order.bytes)).toEqual(fulfilmentEnvelope);
    expect(counter.created).toBe(createdBefore + 1);
  });

  it('racing on two service instances over the same database and key store, yields one reference and one secret', async () => {
    const order = await principal.order('bitcoin-address', { publicKey: principalPublic });
    const { FiduciaryService } = await import('../src/fiduciary/index.js');
    const twin = await FiduciaryService.open({
      db: fiduciary.db,
      keyStore: fiduciary.keyStore,
      identity: fiduciary.identity,
      resolver: new IdentityResolver({ store }),
      store,
      plugins: [countingPlugin(counter)],
    });
    const createdBefore = counter.created;
    const [a, b] = await Promise.all([fiduciary.service.fulfilOrder(order.bytes), twin.fulfilOrder(order.bytes)]);
    expect(a).toEqual(b);
    const fulfilment = await principal.openFulfilment(a.bytes, order.cid);
    expect(counter.created - createdBefore).toBeLessThanOrEqual(2); // both may try to create; one import wins
    const label = `dta/order/${fulfilment.reference}`;
    const { address } = checkBitcoinCommitment(fulfilment.commitment, principalPublic, 'testnet');
    expect(bitcoinAddressOf(combineBitcoinKeys(principalSecret, await fiduciary.keyStore.exportSecret({ label })), 'testnet')).toBe(address);
    await twin.close();
  });
});
