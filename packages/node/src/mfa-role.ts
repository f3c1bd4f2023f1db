/**
 * The ZKP MFA role on a node: its `mfa` config section and its wiring (@milagro/mfa's service with
 * grants signed by the node's identity for each D-TA of the realm, the server secret combined from
 * the D-TAs' shares that arrive in the node's inbox, and the configured activation).
 */
import { readFileSync } from 'node:fs';
import { SERVER_SHARE_MESSAGE_TYPE } from '@milagro/dta';
import {
  DevelopmentOutbox,
  MfaService,
  adminApproval,
  createMfaApi,
  emailActivation,
  keyStoreTokenSigner,
  smtpTransport,
  webhookActivation,
  type AccessTokenSigner,
  type ActivationVerifier,
} from '@milagro/mfa';
import { createSuite } from '@milagro/mpin';
import { z } from 'zod';
import type { NodeInfrastructure } from './bootstrap.js';
import { readSecret, secretSourceSchema } from './config.js';
import { dtaGrantIssuer } from './dta-grants.js';
import { DtaServerSecretSource } from './dta-server-secret.js';
import type { RoleContext, RoleRuntime } from './role.js';

const rateLimit = z.object({ limit: z.number().int().min(1), windowSeconds: z.number().int().min(1) }).strict();

const realmDtaSchema = z
  .object({
    /** The D-TA's identity (CID of its inception document), as in the realm's member list. */
    id: z.string().min(1).max(256),
    /** Its public base URL; clients fetch their shares there. */
    url: z.url({ protocol: /^https?$/ }),
  })
  .strict();

const activationSchema = z.discriminatedUnion('kind', [
  z
    .object({
      /** Activation codes by e-mail into the in-memory development outbox, served at GET /v1/development/outbox. Never in production. */
      kind: z.literal('development-outbox'),
      from: z.string().min(3),
      /** Activation link; `{code}` is replaced by the code. Put it in the fragment so it stays out of server logs. */
      link: z.string().includes('{code}').optional(),
    })
    .strict(),
  z
    .object({
      /** Activation codes by e-mail through an SMTP server (the user id is the address). */
      kind: z.literal('email'),
      from: z.string().min(3),
      link: z.string().includes('{code}').optional(),
      smtp: z
        .object({
          host: z.string().min(1),
          port: z.number().int().min(1).max(65_535).optional(),
          /** `starttls` (default, port 587), `tls` (port 465) or `none` (a relay on localhost; no credentials then). */
          security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
          user: z.string().min(1).optional(),
          password: secretSourceSchema.optional(),
          /** PEM file of a private CA that signed the server's certificate. */
          caFile: z.string().min(1).optional(),
        })
        .strict()
        .refine((smtp) => (smtp.user === undefined) === (smtp.password === undefined), { message: 'give both user and password, or neither', path: ['password'] })
        .refine((smtp) => smtp.user === undefined || smtp.security !== 'none', { message: 'credentials are only sent over TLS', path: ['security'] }),
    })
    .strict(),
  z
    .object({
      /** The relying party receives a signed activation JWT and delivers the code to its user. */
      kind: z.literal('webhook'),
      url: z.url({ protocol: /^https?$/ }),
      timeoutMs: z.number().int().min(100).max(60_000).optional(),
    })
    .strict(),
  z.object({ /** An operator approves each registration through the admin API. */ kind: z.literal('admin') }).strict(),
]);

/** The `mfa` section of a node's configuration. */
export const mfaSectionSchema = z
  .object({
    /** `iss` of access tokens: the service's public URL or name. */
    issuer: z.string().min(1),
    /** `aud` of access tokens, when the relying party wants one. */
    audience: z.string().min(1).optional(),
    realm: z
      .object({
        id: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'realm ids are 1-63 characters of [a-z0-9-]'),
        /** Shares needed (t): clients need t client-secret shares, this server t server-secret shares. */
        threshold: z.number().int().min(1).max(255),
        /** The realm's D-TAs, in any order (their Shamir indices come with their shares). */
        dtas: z.array(realmDtaSchema).min(1).max(255),
        /** Lifetime of the grants handed to clients; at most the realm's grantMaxLifetimeMinutes. */
        grantLifetimeSeconds: z.number().int().min(30).max(3600).default(300),
      })
      .strict()
      .refine((realm) => realm.threshold <= realm.dtas.length, { message: 'threshold exceeds the number of D-TAs', path: ['threshold'] })
      .refine((realm) => new Set(realm.dtas.map((dta) => dta.id)).size === realm.dtas.length, { message: 'a D-TA is listed twice', path: ['dtas'] }),
    activation: activationSchema,
    /** Bearer token of the admin routes (approvals). */
    adminToken: secretSourceSchema.default({ env: 'MILAGRO_MFA_ADMIN_TOKEN' }),
    limits: z
      .object({
        maxFailures: z.number().int().min(1).max(100).optional(),
        sessionTtlSeconds: z.number().int().min(5).max(600).optional(),
        tokenTtlSeconds: z.number().int().min(30).max(86_400).optional(),
        registrationTtlSeconds: z.number().int().min(60).max(86_400).optional(),
        maxActivationAttempts: z.number().int().min(1).max(100).optional(),
        grantWindowSeconds: z.number().int().min(60).max(86_400).optional(),
        perIp: rateLimit.optional(),
        perIdentity: rateLimit.optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type MfaSection = z.infer<typeof mfaSectionSchema>;

function withCode(link: string | undefined): { link?: (code: string) => string } {
  return link === undefined ? {} : { link: (code: string) => link.replaceAll('{code}', encodeURIComponent(code)) };
}

function activationVerifier(section: MfaSection, signer: AccessTokenSigner, developmentOutbox: DevelopmentOutbox | undefined): ActivationVerifier {
  const settings = section.activation;
  switch (settings.kind) {
    case 'development-outbox':
      return emailActivation({ transport: developmentOutbox as DevelopmentOutbox, from: settings.from, ...withCode(settings.link) });
    case 'email': {
      const { smtp } = settings;
      return emailActivation({
        transport: smtpTransport({
          host: smtp.host,
          security: smtp.security,
          ...(smtp.port === undefined ? {} : { port: smtp.port }),
          ...(smtp.user === undefined || smtp.password === undefined ? {} : { auth: { user: smtp.user, password: readSecret(smtp.password) } }),
          ...(smtp.caFile === undefined ? {} : { tls: { ca: readFileSync(smtp.caFile, 'utf8') } }),
        }),
        from: settings.from,
        ...withCode(settings.link),
      });
    }
    case 'webhook':
      return webhookActivation({ url: settings.url, signer, issuer: section.issuer, ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }) });
    case 'admin':
      return adminApproval();
  }
}

/**
 * Opens the MFA service of one realm, claims the server-share messages in the node's inbox (the
 * service turns ready once t shares combine and self-check), and returns its routes. `GET /v1/node`
 * is not among them: mount `createNodeApi` unless the node also runs the D-TA role.
 */
export async function startMfaRole(node: NodeInfrastructure, section: MfaSection, context: RoleContext): Promise<RoleRuntime> {
  const { logger } = context;
  const adminToken = readSecret(section.adminToken);
  const suite = createSuite({ suite: 'modern', backend: context.backend });
  const tokenSigner = await keyStoreTokenSigner(node.keyStore);
  const developmentOutbox = section.activation.kind === 'development-outbox' ? new DevelopmentOutbox() : undefined;
  const { realm } = section;
  const messenger = context.inbox.claim((type) => type === SERVER_SHARE_MESSAGE_TYPE);
  const serverSecret = new DtaServerSecretSource({
    suite,
    realmId: realm.id,
    threshold: realm.threshold,
    dtas: realm.dtas,
    send: (to, message) => messenger.send(to, message),
    logger,
  });
  const stopInbox = new AbortController();
  const inboxDone = (async () => {
    for await (const message of messenger.messages({ signal: stopInbox.signal })) {
      serverSecret.accept(message);
      await messenger.consumed(message.position);
    }
  })().catch((error: unknown) => {
    if (!stopInbox.signal.aborted) logger.error({ event: 'inbox-failed', code: (error as { code?: unknown }).code }, 'the inbox loop stopped');
  });

  let service: MfaService;
  try {
    service = await MfaService.open({
      db: node.db,
      realm: { id: realm.id, threshold: realm.threshold },
      suite,
      serverSecret,
      grants: dtaGrantIssuer({ identity: node.identity, keyStore: node.keyStore, realmId: realm.id, dtas: realm.dtas, lifetimeSeconds: realm.grantLifetimeSeconds }),
      activation: activationVerifier(section, tokenSigner, developmentOutbox),
      tokenSigner,
      issuer: section.issuer,
      ...(section.audience === undefined ? {} : { audience: section.audience }),
      limits: section.limits,
      registry: context.registry,
      logger,
    });
  } catch (error) {
    stopInbox.abort();
    throw error;
  }
  void service.start().catch(() => undefined);
  let closed = false;
  return {
    apis: [createMfaApi(service, { adminToken, ...(developmentOutbox === undefined ? {} : { developmentOutbox }) })],
    ready: { 'server-secret': () => !closed && service.isReady() },
    async close() {
      closed = true;
      stopInbox.abort();
      await service.close();
      await inboxDone;
    },
  };
}
