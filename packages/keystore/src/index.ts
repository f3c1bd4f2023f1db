/**
 * @packageDocumentation
 * Keys at rest for Milagro, used in place: one {@link KeyStore} interface over a memory store, an
 * encrypted file (scrypt + AES-256-GCM) and PKCS#11 HSMs (graphene-pk11; SoftHSM2, AWS CloudHSM).
 * The PKCS#11 store lives in the `@milagro/keystore/pkcs11` entry point, so that importing this one
 * never loads the native pkcs11js addon.
 *
 * @example
 * ```ts
 * import { FileKeyStore } from '@milagro/keystore';
 *
 * const store = await FileKeyStore.open({ path: './keys.mks', passphrase: process.env.MILAGRO_PASSPHRASE! });
 * const { publicKey } = await store.generate('ed25519', { label: 'identity/sign' });
 * const signature = await store.sign({ label: 'identity/sign' }, new TextEncoder().encode('hello'));
 * await store.close();
 * ```
 */
export { KeyStoreError, isKeyStoreError, type KeyStoreErrorCode } from './errors.js';
export {
  KEY_TYPES,
  type CreateKeyOptions,
  type KeyInfo,
  type KeyRef,
  type KeyResidency,
  type KeyStore,
  type KeyType,
  type RotateKekOptions,
  type SignOptions,
} from './key-store.js';
export { BLS_DEFAULT_DST } from './software-key.js';
export { MemoryKeyStore } from './memory-key-store.js';
export { FileKeyStore, type FileKeyStoreOptions } from './file-key-store.js';
export { DEFAULT_SCRYPT_PARAMS, type ScryptParams } from './passphrase-kek.js';
export type { KeyFileHandle, KeyFileStat, KeyFileSystem } from './key-file-system.js';
export type { FileLockOptions } from './file-lock.js';
