// The KEK can wrap with RFC 3394 AES key wrap instead of KWP (what AWS CloudHSM offers as
// NO_PAD): wrapped frames are 8-byte aligned, so software keys round-trip either way.
import { Pkcs11KeyStore } from '../src/pkcs11/index.js';
import { createSoftHsmToken, softHsmSkipReason } from './softhsm-token.js';

if (softHsmSkipReason) console.warn(softHsmSkipReason);

(softHsmSkipReason ? test.skip : test)('software keys round-trip under CKM_AES_KEY_WRAP (RFC 3394)', async () => {
  const token = createSoftHsmToken();
  try {
    const store = await Pkcs11KeyStore.open({
      module: token.module,
      tokenLabel: token.tokenLabel,
      pin: { file: token.pinFile },
      wrapMechanism: 'AES_KEY_WRAP',
    });
    for (const length of [1, 7, 8, 9, 100]) {
      const secret = new Uint8Array(length).map((_, i) => i + length);
      await store.import('secret', secret, { label: `len/${length}` });
      expect(await store.exportSecret({ label: `len/${length}` })).toEqual(secret);
    }
    await store.rotateKek();
    expect(await store.exportSecret({ label: 'len/9' })).toEqual(new Uint8Array(9).map((_, i) => i + 9));
    await store.close();
  } finally {
    token.remove();
  }
});
