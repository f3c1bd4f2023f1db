// One contract, every backend: what any KeyStore must do, proven against memory, encrypted file and
// a real SoftHSM2 token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem768_x25519 as xWing } from '@noble/post-quantum/hybrid.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import fc from 'fast-check';
import {
  BLS_DEFAULT_DST,
  FileKeyStore,
  KEY_TYPES,
  MemoryKeyStore,
  type KeyStore,
  type KeyStoreErrorCode,
  type KeyType,
} from '@milagro/keystore';
import { Pkcs11KeyStore } from '../src/pkcs11/index.js';
import { createSoftHsmToken, softHsmSkipReason, type SoftHsmToken } from './softhsm-token.js';

const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };
const message = new TextEncoder().encode('milagro keystore contract');

interface Backend {
  readonly name: string;
  open(): Promise<KeyStore>;
  teardown(): void;
}

let fileDir: string | undefined;
let token: SoftHsmToken | undefined;

const backends: Backend[] = [
  { name: 'memory', open: async () => new MemoryKeyStore(), teardown: () => undefined },
  {
    name: 'encrypted file',
    open: async () => {
      fileDir ??= mkdtempSync(join(tmpdir(), 'milagro-keystore-contract-'));
      return FileKeyStore.open({ path: join(fileDir, `keys-${Math.random()}.mks`), passphrase: 'correct horse', scrypt: FAST_SCRYPT });
    },
    teardown: () => fileDir && rmSync(fileDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }),
  },
];
if (softHsmSkipReason) {
  console.warn(softHsmSkipReason);
} else {
  backends.push({
    name: 'PKCS#11 (SoftHSM2)',
    open: async () => {
      token ??= createSoftHsmToken();
      const store = await Pkcs11KeyStore.open({ module: token.module, tokenLabel: token.tokenLabel, pin: { file: token.pinFile } });
      // Each test starts from an empty token.
      for (const key of await store.list()) await store.delete({ id: key.id });
      return store;
    },
    teardown: () => token?.remove(),
  });
}

async function expectCode(promise: Promise<unknown>, code: KeyStoreErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'KeyStoreError', code });
}

/** Verifies with the reference libraries, independently of the store. */
function verifiesIndependently(type: KeyType, publicKey: Uint8Array, signature: Uint8Array): boolean {
  switch (type) {
    case 'ed25519':
      return ed25519.verify(signature, message, publicKey);
    case 'ml-dsa-65':
      return ml_dsa65.verify(signature, message, publicKey);
    case 'bls12-381':
      return bls12_381.longSignatures.verify(signature, bls12_381.longSignatures.hash(message, BLS_DEFAULT_DST), publicKey);
    case 'secp256k1':
      return secp256k1.verify(signature, sha256(message), publicKey, { prehash: false, lowS: true });
    case 'p-256':
      return p256.verify(signature, sha256(message), publicKey, { prehash: false, lowS: true });
    default:
      throw new Error(`${type} does not sign`);
  }
}

const SIGNING: KeyType[] = ['ed25519', 'ml-dsa-65', 'bls12-381', 'secp256k1', 'p-256'];

describe.each(backends)('KeyStore contract: $name', (backend) => {
  let store: KeyStore;
  beforeEach(async () => {
    store = await backend.open();
  });
  afterEach(async () => {
    await store.close();
  });
  afterAll(() => backend.teardown());

  test('generates every key type and lists metadata only', async () => {
    for (const type of KEY_TYPES) await store.generate(type, { label: `gen/${type}` });
    const listed = await store.list();
    expect(listed.map((k) => k.label)).toEqual([...KEY_TYPES].map((t) => `gen/${t}`).sort());
    for (const info of listed) {
      expect(Object.keys(info).sort()).toEqual(
        (info.publicKey ? ['id', 'label', 'publicKey', 'residency', 'type'] : ['id', 'label', 'residency', 'type']).sort(),
      );
      expect(info.id).toMatch(/^[0-9a-f]{32}$/);
      expect(await store.describe({ id: info.id })).toEqual(info);
    }
  });

  test.each(SIGNING)('%s signatures verify with the reference library', async (type) => {
    const info = await store.generate(type, { label: `sign/${type}` });
    const publicKey = await store.publicKey({ label: `sign/${type}` });
    expect(publicKey).toEqual(info.publicKey);
    for (let i = 0; i < (type === 'secp256k1' ? 16 : 2); i++) {
      const signature = await store.sign({ id: info.id }, message);
      expect(verifiesIndependently(type, publicKey, signature)).toBe(true);
    }
  });

  test('imported keys keep their public key; export follows residency', async () => {
    const secrets: Record<KeyType, Uint8Array> = {
      ed25519: new Uint8Array(32).fill(1),
      'ml-dsa-65': new Uint8Array(32).fill(2),
      'x-wing': new Uint8Array(32).fill(3),
      'bls12-381': new Uint8Array(32).fill(4),
      secp256k1: new Uint8Array(32).fill(5),
      'p-256': new Uint8Array(32).fill(6),
      'aes-256': new Uint8Array(32).fill(7),
      secret: new TextEncoder().encode('a D-TA master secret share'),
    };
    const expected: Partial<Record<KeyType, Uint8Array>> = {
      ed25519: ed25519.getPublicKey(secrets.ed25519),
      'ml-dsa-65': ml_dsa65.keygen(secrets['ml-dsa-65']).publicKey,
      'x-wing': xWing.keygen(secrets['x-wing']).publicKey,
      'bls12-381': bls12_381.longSignatures.getPublicKey(secrets['bls12-381']).toBytes(true),
      secp256k1: secp256k1.getPublicKey(secrets.secp256k1, true),
      'p-256': p256.getPublicKey(secrets['p-256'], true),
    };
    for (const type of KEY_TYPES) {
      const info = await store.import(type, secrets[type], { label: `import/${type}` });
      expect(info.publicKey).toEqual(expected[type]);
      if (info.residency === 'hsm') {
        await expectCode(store.exportSecret({ id: info.id }), 'NOT_EXTRACTABLE');
      } else {
        expect(await store.exportSecret({ label: `import/${type}` })).toEqual(secrets[type]);
      }
    }
  });

  test('X-Wing decapsulation recovers the encapsulated secret', async () => {
    const { publicKey } = await store.generate('x-wing', { label: 'kem' });
    const { cipherText, sharedSecret } = xWing.encapsulate(publicKey!);
    expect(await store.decapsulate({ label: 'kem' }, cipherText)).toEqual(sharedSecret);
    await expectCode(store.decapsulate({ label: 'kem' }, cipherText.subarray(1)), 'INVALID_ARGUMENT');
  });

  test('AES-256-GCM round trips and rejects tampering and wrong associated data', async () => {
    await store.generate('aes-256', { label: 'aes' });
    const aad = new TextEncoder().encode('header');
    const sealed = await store.encrypt({ label: 'aes' }, message, aad);
    expect(sealed.length).toBe(12 + message.length + 16);
    expect(await store.decrypt({ label: 'aes' }, sealed, aad)).toEqual(message);
    await expectCode(store.decrypt({ label: 'aes' }, sealed), 'DECRYPTION_FAILED');
    const tampered = sealed.slice();
    tampered[20]! ^= 1;
    await expectCode(store.decrypt({ label: 'aes' }, tampered, aad), 'DECRYPTION_FAILED');
    await expectCode(store.decrypt({ label: 'aes' }, sealed.subarray(0, 20), aad), 'DECRYPTION_FAILED');
  });

  test('operations a key type lacks are UNSUPPORTED', async () => {
    await store.generate('x-wing', { label: 'kem' });
    await store.generate('ed25519', { label: 'sig' });
    await store.generate('secret', { label: 'opaque' });
    await expectCode(store.sign({ label: 'kem' }, message), 'UNSUPPORTED');
    await expectCode(store.decapsulate({ label: 'sig' }, new Uint8Array(1120)), 'UNSUPPORTED');
    await expectCode(store.encrypt({ label: 'sig' }, message), 'UNSUPPORTED');
    await expectCode(store.publicKey({ label: 'opaque' }), 'UNSUPPORTED');
    await expectCode(store.sign({ label: 'sig' }, message, { prehashed: true }), 'INVALID_ARGUMENT');
  });

  test('ECDSA prehashed signing signs the digest as given', async () => {
    const { publicKey } = await store.generate('secp256k1', { label: 'k1' });
    const digest = sha256(message);
    const signature = await store.sign({ label: 'k1' }, digest, { prehashed: true });
    expect(secp256k1.verify(signature, digest, publicKey!, { prehash: false })).toBe(true);
    await expectCode(store.sign({ label: 'k1' }, message, { prehashed: true }), 'INVALID_ARGUMENT');
  });

  test('labels are unique, refs that name nothing are NOT_FOUND, delete removes', async () => {
    const info = await store.generate('ed25519', { label: 'dup' });
    await expectCode(store.generate('p-256', { label: 'dup' }), 'ALREADY_EXISTS');
    await expectCode(store.sign({ label: 'nope' }, message), 'NOT_FOUND');
    await expectCode(store.describe({ id: 'f'.repeat(32) }), 'NOT_FOUND');
    await store.delete({ id: info.id });
    await expectCode(store.describe({ label: 'dup' }), 'NOT_FOUND');
    await expectCode(store.delete({ label: 'dup' }), 'NOT_FOUND');
    await expectCode(store.generate('ed25519', { label: '' }), 'INVALID_ARGUMENT');
    await expectCode(store.generate('rsa' as KeyType, { label: 'x' }), 'INVALID_ARGUMENT');
  });

  test('invalid key material is INVALID_KEY', async () => {
    const order = (n: bigint) => Uint8Array.from(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));
    await expectCode(store.import('ed25519', new Uint8Array(31), { label: 'a' }), 'INVALID_KEY');
    await expectCode(store.import('secp256k1', new Uint8Array(32), { label: 'b' }), 'INVALID_KEY');
    await expectCode(store.import('secp256k1', order(secp256k1.Point.Fn.ORDER), { label: 'c' }), 'INVALID_KEY');
    await expectCode(store.import('bls12-381', order(bls12_381.fields.Fr.ORDER), { label: 'd' }), 'INVALID_KEY');
    await expectCode(store.import('secret', new Uint8Array(0), { label: 'e' }), 'INVALID_KEY');
    await expectCode(store.import('aes-256', new Uint8Array(16), { label: 'f' }), 'INVALID_KEY');
    expect(await store.list()).toEqual([]);
  });

  test('rotating the KEK keeps every key usable and unchanged', async () => {
    // One key per storage path: HSM-resident, wrapped signing, wrapped KEM, opaque.
    const before = [];
    for (const type of ['secp256k1', 'ml-dsa-65', 'x-wing', 'secret'] as const) {
      before.push(await store.generate(type, { label: `rot/${type}` }));
    }
    const secret = await store.exportSecret({ label: 'rot/secret' });
    await store.rotateKek();
    expect(await store.list()).toEqual([...before].sort((a, b) => (a.label < b.label ? -1 : 1)));
    expect(await store.exportSecret({ label: 'rot/secret' })).toEqual(secret);
    for (const type of ['secp256k1', 'ml-dsa-65'] as const) {
      const info = before.find((k) => k.type === type)!;
      expect(verifiesIndependently(type, info.publicKey!, await store.sign({ id: info.id }, message))).toBe(true);
    }
  });

  test('opaque secrets round trip (property)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (secret) => {
        const label = `prop/${n++}`;
        await store.import('secret', secret, { label });
        expect(await store.exportSecret({ label })).toEqual(secret);
        await store.delete({ label });
      }),
      { numRuns: 10 },
    );
  });

  test('a closed store refuses every call with CLOSED', async () => {
    await store.generate('ed25519', { label: 'k' });
    await store.close();
    await expectCode(store.list(), 'CLOSED');
    await expectCode(store.sign({ label: 'k' }, message), 'CLOSED');
  });
});
