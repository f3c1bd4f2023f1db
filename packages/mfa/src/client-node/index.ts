/**
 * @packageDocumentation
 * Node-only parts of the MFA client (`@milagro/mfa/client-node`), kept apart so browser bundles of
 * `@milagro/mfa/client` never see `node:fs`.
 *
 * ```ts
 * import { MfaClient } from '@milagro/mfa/client';
 * import { FileCredentialStore } from '@milagro/mfa/client-node';
 *
 * const client = new MfaClient({ baseUrl: 'https://login.acme.example', store: new FileCredentialStore('/home/alice/.milagro/mfa.json') });
 * ```
 */
export { FileCredentialStore } from './file-credential-store.js';
