/**
 * @packageDocumentation
 * The MFA client (`@milagro/mfa/client`), for browsers and Node: register a device, activate it,
 * fetch client-secret shares from any `threshold` of the realm's D-TAs (sealed end to end to a
 * fresh X-Wing key), choose a PIN, log in with M-Pin's two passes, log out. The store keeps only the
 * M-Pin token and public metadata: never the PIN, never the client secret. Spec: docs/specs/mfa-client.md.
 *
 * ```ts
 * import { MfaClient, IndexedDbCredentialStore } from '@milagro/mfa/client';
 *
 * const client = new MfaClient({ baseUrl: 'https://login.acme.example', store: new IndexedDbCredentialStore() });
 * await client.register({ userId: 'alice@example.org', deviceName: 'laptop' });
 * await client.activate({ code });          // the code from the activation e-mail
 * await client.setPin('2468');
 * const { accessToken } = await client.login('2468');
 * await client.logout(accessToken);
 * ```
 *
 * On Node, keep the credential in a file: `FileCredentialStore` from `@milagro/mfa/client-node`.
 */
export { MfaClient, type ActivationResult, type ClientStatus, type LoginResult, type MfaClientOptions, type RegistrationStarted } from './mfa-client.js';
export { MfaClientError, isMfaClientError, type MfaClientErrorCode } from './client-errors.js';
export {
  MemoryCredentialStore,
  parseCredential,
  serializeCredential,
  type CredentialStore,
  type DeviceCredential,
  type PendingRegistration,
  type RealmInfo,
  type StoredCredential,
} from './credential-store.js';
export { IndexedDbCredentialStore, type IndexedDbCredentialStoreOptions } from './indexed-db-credential-store.js';
