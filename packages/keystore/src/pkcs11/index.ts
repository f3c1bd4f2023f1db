/**
 * @packageDocumentation
 * `@milagro/keystore/pkcs11`: the {@link Pkcs11KeyStore} over graphene-pk11, in its own entry point
 * because it loads the native pkcs11js addon.
 *
 * @example
 * ```ts
 * import { Pkcs11KeyStore } from '@milagro/keystore/pkcs11';
 *
 * const hsm = await Pkcs11KeyStore.open({
 *   module: '/usr/lib/softhsm/libsofthsm2.so',
 *   tokenLabel: 'milagro',
 *   pin: { env: 'MILAGRO_HSM_PIN' },
 * });
 * const key = await hsm.generate('p-256', { label: 'tls' });
 * ```
 */
export { Pkcs11KeyStore, DEFAULT_HSM_KEY_TYPES, type Pkcs11KeyStoreOptions } from './pkcs11-key-store.js';
export type { PinSource } from './pin-source.js';
