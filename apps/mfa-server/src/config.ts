/**
 * The MFA server's configuration: the node part shared by every app (@milagro/node: data directory,
 * HTTP, IPFS, key store, curve backend, log) and the `mfa` section below. One JSON file (path from
 * `--config` or MILAGRO_MFA_CONFIG), validated strictly; secrets only from the environment or files.
 */
import { loadConfig as loadNodeConfig, nodeConfigShape, parseConfig as parseNodeConfig, secretSourceSchema } from '@milagro/node';
import { z } from 'zod';

const rateLimit = z.object({ limit: z.number().int().min(1), windowSeconds: z.number().int().min(1) }).strict();

const dtaSchema = z
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

export const MfaServerConfigSchema = z
  .object({
    ...nodeConfigShape,
    mfa: z
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
            dtas: z.array(dtaSchema).min(1).max(255),
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
      .strict(),
  })
  .strict();

export type MfaServerConfig = z.infer<typeof MfaServerConfigSchema>;

const LABEL = 'MFA';

/** Parses and validates a config object; a relative `dataDir` resolves against `baseDir`. */
export function parseConfig(raw: unknown, baseDir?: string): MfaServerConfig {
  return parseNodeConfig(MfaServerConfigSchema, raw, { label: LABEL, ...(baseDir === undefined ? {} : { baseDir }) });
}

/** Loads the file named by `--config <path>` or MILAGRO_MFA_CONFIG. */
export function loadConfig(argv?: readonly string[]): MfaServerConfig {
  return loadNodeConfig(MfaServerConfigSchema, { envVar: 'MILAGRO_MFA_CONFIG', label: LABEL, ...(argv === undefined ? {} : { argv }) });
}
