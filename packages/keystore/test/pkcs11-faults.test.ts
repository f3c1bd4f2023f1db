// Faults on a real SoftHSM2 token: wrong PIN, missing module or token, the module finalised under
// load, an interrupted KEK rotation and damaged wrapped keys. Every one gives a typed error.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Module, ObjectClass, SessionFlag, UserType, type Session } from 'graphene-pk11';
import { isKeyStoreError, type KeyStoreErrorCode } from '@milagro/keystore';
import { Pkcs11KeyStore, type Pkcs11KeyStoreOptions } from '../src/pkcs11/index.js';
import { createSoftHsmToken, softHsmSkipReason, type SoftHsmToken } from './softhsm-token.js';

if (softHsmSkipReason) console.warn(softHsmSkipReason);
const describeHsm = softHsmSkipReason ? describe.skip : describe;

const message = new TextEncoder().encode('under load');

async function expectCode(promise: Promise<unknown>, code: KeyStoreErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'KeyStoreError', code });
}

describeHsm('PKCS#11 faults (SoftHSM2)', () => {
  let token: SoftHsmToken;
  let options: Pkcs11KeyStoreOptions;
  beforeAll(() => {
    token = createSoftHsmToken();
    options = { module: token.module, tokenLabel: token.tokenLabel, pin: { file: token.pinFile } };
  });
  afterAll(() => token.remove());

  /** A raw graphene session on the test token, for inspecting or damaging it. Only while no store is open. */
  function onToken<T>(use: (session: Session) => T): T {
    const module = Module.load(token.module);
    module.initialize();
    try {
      const slots = module.getSlots(true);
      let session: Session | undefined;
      for (let i = 0; i < slots.length; i++) {
        const slot = slots.items(i);
        if (slot.getToken().label.trim() === token.tokenLabel) session = slot.open(SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION);
      }
      session!.login(readFileSync(token.pinFile, 'utf8').trim(), UserType.USER);
      return use(session!);
    } finally {
      module.finalize();
    }
  }

  test('a wrong PIN is WRONG_PIN and the message does not contain it', async () => {
    const wrongPin = join(token.dir, 'wrong-pin');
    writeFileSync(wrongPin, 'definitely-not-the-pin\n', { mode: 0o600 });
    const err = await Pkcs11KeyStore.open({ ...options, pin: { file: wrongPin } }).catch((e: unknown) => e);
    expect(isKeyStoreError(err, 'WRONG_PIN')).toBe(true);
    expect(String((err as Error).message)).not.toContain('definitely-not-the-pin');
  });

  test('a PIN from an environment variable works; a missing one is PIN_UNAVAILABLE', async () => {
    process.env.MILAGRO_TEST_HSM_PIN = readFileSync(token.pinFile, 'utf8').trim();
    const store = await Pkcs11KeyStore.open({ ...options, pin: { env: 'MILAGRO_TEST_HSM_PIN' } });
    await store.close();
    delete process.env.MILAGRO_TEST_HSM_PIN;
    await expectCode(Pkcs11KeyStore.open({ ...options, pin: { env: 'MILAGRO_TEST_HSM_PIN' } }), 'PIN_UNAVAILABLE');
  });

  test('a missing module or token is TOKEN_UNAVAILABLE', async () => {
    await expectCode(Pkcs11KeyStore.open({ ...options, module: '/nonexistent/libpkcs11.so' }), 'TOKEN_UNAVAILABLE');
    await expectCode(Pkcs11KeyStore.open({ ...options, tokenLabel: 'no-such-token' }), 'TOKEN_UNAVAILABLE');
    const { tokenLabel: _unused, ...bySlot } = options;
    await expectCode(Pkcs11KeyStore.open({ ...bySlot, slotIndex: 99 }), 'TOKEN_UNAVAILABLE');
  });

  test('the module finalised under load: in-flight operations get TOKEN_UNAVAILABLE, then the store recovers', async () => {
    const store = await Pkcs11KeyStore.open({ ...options, sessions: 2 });
    const hsmKey = await store.generate('secp256k1', { label: 'load/hsm' });
    // Imported Ed25519 stays wrapped on SoftHSM 2.6 (it cannot create EdDSA private keys): cheap to sign.
    const wrapped = await store.import('ed25519', new Uint8Array(32).fill(7), { label: 'load/wrapped' });
    expect(hsmKey.residency).toBe('hsm');

    // Another component in the process finalises the shared library after ten operations.
    const intruder = Module.load(token.module);
    let completed = 0;
    const operations = Array.from({ length: 40 }, (_, i) =>
      store.sign({ id: i % 3 ? hsmKey.id : wrapped.id }, message).finally(() => {
        if (++completed === 10) {
          intruder.initialize();
          intruder.finalize();
        }
      }),
    );
    const results = await Promise.allSettled(operations);
    const failed = results.filter((r) => r.status === 'rejected');
    expect(results.length - failed.length).toBeGreaterThanOrEqual(10);
    expect(failed.length).toBeGreaterThan(0);
    for (const failure of failed) expect((failure as PromiseRejectedResult).reason).toMatchObject({ code: 'TOKEN_UNAVAILABLE' });

    // Recovery: the next operation reconnects and logs in again.
    const signature = await store.sign({ id: hsmKey.id }, message);
    expect(secp256k1.verify(signature, sha256(message), hsmKey.publicKey!, { prehash: false })).toBe(true);
    expect((await store.list()).map((k) => k.label)).toEqual(['load/hsm', 'load/wrapped']);
    await store.close();
  });

  test('HSM-resident keys are sensitive and non-extractable on the token', async () => {
    const store = await Pkcs11KeyStore.open(options);
    await store.generate('p-256', { label: 'resident' });
    await store.close();
    onToken((session) => {
      const key = session.find({ class: ObjectClass.PRIVATE_KEY, label: 'resident' }).items(0);
      const attrs = key.getAttribute({ sensitive: null, extractable: null, token: null });
      expect(attrs).toMatchObject({ sensitive: true, extractable: false, token: true });
      expect(() => key.getAttribute({ value: null })).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    });
  });

  test('an interrupted KEK rotation is finished when the store opens', async () => {
    let store = await Pkcs11KeyStore.open(options);
    const share = new TextEncoder().encode('share to keep');
    await store.import('secret', share, { label: 'rotation/share' });
    await store.rotateKek(); // KEK generation 2
    await store.close();
    // A crash after creating generation 3 and before re-wrapping anything.
    onToken((session) => {
      session.generateKey('AES_KEY_GEN', {
        class: ObjectClass.SECRET_KEY,
        valueLen: 32,
        token: true,
        private: true,
        sensitive: true,
        extractable: false,
        wrap: true,
        unwrap: true,
        label: 'milagro-keystore/kek',
        id: Buffer.from('0000000000000003', 'hex'),
      });
    });
    store = await Pkcs11KeyStore.open(options);
    expect(await store.exportSecret({ label: 'rotation/share' })).toEqual(share);
    await store.close();
    const keks = onToken((session) => {
      const found = session.find({ class: ObjectClass.SECRET_KEY, label: 'milagro-keystore/kek' });
      return Array.from({ length: found.length }, (_, i) => (found.items(i).getAttribute({ id: null }).id as Buffer).toString('hex'));
    });
    expect(keks).toEqual(['0000000000000003']);
  });

  test('a damaged wrapped key is CORRUPTED', async () => {
    let store = await Pkcs11KeyStore.open(options);
    await store.import('secret', new Uint8Array([1, 2, 3, 4]), { label: 'damaged' });
    await store.close();
    onToken((session) => {
      const object = session.find({ class: ObjectClass.DATA, label: 'damaged' }).items(0);
      const record = JSON.parse((object.getAttribute({ value: null }).value as Buffer).toString()) as { wrapped: string };
      const wrapped = Buffer.from(record.wrapped, 'base64');
      wrapped[5]! ^= 0x40;
      record.wrapped = wrapped.toString('base64');
      // CKA_VALUE of a data object is read-only once created: replace the object.
      session.destroy(object);
      session.create({
        class: ObjectClass.DATA,
        token: true,
        private: true,
        application: 'milagro-keystore/1',
        label: 'damaged',
        value: Buffer.from(JSON.stringify(record)),
      });
    });
    store = await Pkcs11KeyStore.open(options);
    await expectCode(store.exportSecret({ label: 'damaged' }), 'CORRUPTED');
    await store.delete({ label: 'damaged' });
    await store.close();
  });
});
