/**
 * @packageDocumentation
 * The ZKP MFA service of Milagro (server core): users register a device, activate it through a
 * pluggable verifier (e-mail, relying-party webhook, operator approval), receive grants to fetch
 * M-Pin client-secret shares from any t of the realm's D-TAs, and log in with two passes that prove
 * knowledge of PIN and token without revealing either. The service stores no password, verifier or
 * user secret: only registrations, wrong-PIN counters, single-use sessions and revoked token ids,
 * in a shared database so that restarts and replicas agree. Spec: docs/specs/mfa-api.md.
 *
 * ```ts
 * import { openSqliteDatabase } from '@milagro/storage';
 * import { createHttpServer } from '@milagro/http';
 * import { FileKeyStore } from '@milagro/keystore';
 * import { MfaService, createMfaApi, emailActivation, keyStoreTokenSigner, DevelopmentOutbox } from '@milagro/mfa';
 * import { Registry } from 'prom-client';
 *
 * const registry = new Registry();
 * const outbox = new DevelopmentOutbox();
 * const service = await MfaService.open({
 *   db: await openSqliteDatabase({ path: './mfa.db' }),
 *   realm: { id: 'acme', threshold: 2 },
 *   serverSecret,  // a ServerSecretSource: combines t server-secret shares from the D-TAs
 *   grants,        // a GrantIssuer: @milagro/dta's createGrant, one per D-TA
 *   activation: emailActivation({ transport: outbox, from: 'login@acme.example', link: (code) => `https://login.acme.example/activate#${code}` }),
 *   tokenSigner: await keyStoreTokenSigner(await FileKeyStore.open({ path: './keys.mks', passphrase })),
 *   issuer: 'https://login.acme.example',
 *   registry,
 * });
 * void service.start(); // /readyz turns 200 once the server secret is loaded and checked
 * const server = createHttpServer({ apis: [createMfaApi(service)], ready: { 'server-secret': () => service.isReady() }, metrics: { registry } });
 * await server.listen({ port: 8443 });
 * ```
 */
export { MfaError, isMfaError, type MfaErrorCode } from './errors.js';
export {
  MfaService,
  MAX_IDENTITY_BYTES,
  type Activation,
  type LoginChallenge,
  type LoginSuccess,
  type MfaLimits,
  type MfaLogger,
  type MfaRealm,
  type MfaServiceOptions,
  type RegistrationTicket,
} from './mfa-service.js';
export { createMfaApi, mfaErrorMapper, type MfaApiOptions } from './mfa-api.js';
export {
  adminApproval,
  emailActivation,
  webhookActivation,
  DevelopmentOutbox,
  type ActivationRequest,
  type ActivationVerifier,
  type EmailActivationOptions,
  type MailMessage,
  type MailTransport,
  type WebhookActivationOptions,
} from './activation.js';
export { smtpTransport, SmtpError, type SmtpTransportOptions } from './smtp-transport.js';
export { checkServerSecret, staticServerSecret, type ServerSecretMaterial, type ServerSecretSource } from './server-secret.js';
export type { GrantIssuer, IssuedGrant } from './grant-issuer.js';
export {
  keyStoreTokenSigner,
  jwkThumbprint,
  publicJwk,
  verifyJwt,
  DEFAULT_TOKEN_KEY_LABEL,
  type AccessTokenClaims,
  type AccessTokenSigner,
  type Ed25519Jwk,
} from './access-token.js';
export { MFA_MIGRATION_NAMESPACE, type PendingRegistration } from './mfa-repository.js';
export type { RateLimit } from './rate-limiter.js';
