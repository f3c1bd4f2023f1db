/**
 * The MFA service's HTTP routes (mount them on `@milagro/http`'s server): registration, activation,
 * login pass 1 and 2, session and logout, the JWKS, operator approval, and, in development only,
 * the mail outbox. Thin: each route validates its input with zod, calls one service method and maps
 * `MfaError` codes to problem documents. Byte strings are unpadded base64url.
 */
import { base64urlToBytes, bytesToBase64url, constantTimeEqual, sha256, utf8ToBytes } from '@milagro/crypto';
import { HttpApi, HttpProblem, type ErrorMapper } from '@milagro/http';
import { z } from 'zod';
import type { DevelopmentOutbox } from './activation.js';
import { MAX_DEVICE_NAME_LENGTH, MAX_USER_ID_LENGTH } from './constants.js';
import { isMfaError, type MfaErrorCode } from './errors.js';
import { MAX_IDENTITY_BYTES, type Activation, type MfaService } from './mfa-service.js';

const STATUS: Record<MfaErrorCode, number> = {
  INVALID_REQUEST: 400,
  AUTHENTICATION_FAILED: 401,
  NOT_AUTHENTICATED: 401,
  ACTIVATION_FAILED: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  ACTIVATION_DELIVERY_FAILED: 502,
  GRANTS_UNAVAILABLE: 503,
  NOT_READY: 503,
  CLOSED: 503,
};

/** Maps `MfaError`s to problems; messages are safe to return (no secrets by contract). */
export const mfaErrorMapper: ErrorMapper = (error) => {
  if (!isMfaError(error)) return undefined;
  const headers: Record<string, string> = {};
  if (error.code === 'RATE_LIMITED') headers['retry-after'] = String((error as { retryAfter?: number }).retryAfter ?? 60);
  if (error.code === 'NOT_READY' || error.code === 'CLOSED' || error.code === 'GRANTS_UNAVAILABLE') headers['retry-after'] = '5';
  if (error.code === 'AUTHENTICATION_FAILED' || error.code === 'NOT_AUTHENTICATED') headers['www-authenticate'] = 'Bearer realm="milagro-mfa"';
  return new HttpProblem({ status: STATUS[error.code], code: error.code, detail: error.message, headers });
};

/** A base64url string of at most `maxBytes` decoded bytes, decoded by validation. */
function bytes(maxBytes: number, description: string) {
  return z
    .string()
    .min(1)
    .max(Math.ceil((maxBytes * 4) / 3))
    .regex(/^[A-Za-z0-9_-]*$/, 'must be unpadded base64url')
    .describe(`${description} (unpadded base64url)`)
    .transform((text, ctx) => {
      try {
        return base64urlToBytes(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be unpadded base64url' });
        return z.NEVER;
      }
    });
}

/** An opaque secret id (registration secret, session): kept as text, checked by the service. */
const secretId = (description: string) => z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]*$/, 'must be unpadded base64url').describe(description);

const activationSchema = z.object({
  userId: z.string(),
  identity: z.string().describe('the M-Pin identity (base64url): opaque to the client'),
  realm: z.object({ id: z.string(), threshold: z.number().int(), suite: z.string(), pinDigits: z.number().int() }),
  grants: z.array(z.object({ dta: z.string(), url: z.string(), token: z.string().describe('grant token, base64url') })),
  grantsExpireAt: z.number().int(),
});

function activationJson(activation: Activation): z.input<typeof activationSchema> {
  return {
    userId: activation.userId,
    identity: bytesToBase64url(activation.identity),
    realm: { ...activation.realm },
    grants: activation.grants.map((grant) => ({ dta: grant.dta, url: grant.url, token: bytesToBase64url(grant.token) })),
    grantsExpireAt: activation.grantsExpireAt,
  };
}

export interface MfaApiOptions {
  /** The operator's bearer token (≥ 16 characters) for approvals; compared as SHA-256 digests in constant time. Without it, no admin routes. */
  readonly adminToken?: string;
  /** Development only: serve this outbox at `GET /v1/development/outbox` (the demo reads activation links there). */
  readonly developmentOutbox?: DevelopmentOutbox;
}

const GENERIC_LOGIN_FAILURE = 'AUTHENTICATION_FAILED: any failure (one code, whatever went wrong)';

/** The MFA routes, ready for `createHttpServer({ apis: [createMfaApi(service, options)], ready: { 'server-secret': () => service.isReady() } })`. */
export function createMfaApi(service: MfaService, options: MfaApiOptions = {}): HttpApi {
  const api = new HttpApi({ errorMapper: mfaErrorMapper, tags: ['mfa'] });
  const bearer = (authorization: string | undefined): string => {
    const match = /^Bearer ([A-Za-z0-9_.-]{1,4096})$/.exec(authorization ?? '');
    if (match === null) throw new HttpProblem({ status: 401, code: 'NOT_AUTHENTICATED', detail: 'no valid access token', headers: { 'www-authenticate': 'Bearer realm="milagro-mfa"' } });
    return match[1] as string;
  };
  const clientAddress = (request: { ip?: string | undefined }): string => request.ip ?? 'unknown';

  api.route({
    method: 'POST',
    path: '/v1/registrations',
    operationId: 'requestRegistration',
    summary: 'Ask to register a device for a user; the activation verifier delivers a code or waits for an operator',
    body: z.object({ userId: z.string().min(1).max(MAX_USER_ID_LENGTH), deviceName: z.string().min(1).max(MAX_DEVICE_NAME_LENGTH) }).strict(),
    responses: {
      202: {
        description: 'pending; keep `registration` on the device: activation needs it',
        schema: z.object({ registration: z.string(), reference: z.string(), expiresAt: z.number().int(), activation: z.enum(['code', 'approval']) }),
      },
      429: { description: 'RATE_LIMITED' },
      502: { description: 'ACTIVATION_DELIVERY_FAILED' },
    },
    handler: async ({ body, request }) => ({ status: 202, body: await service.requestRegistration({ ...body, clientAddress: clientAddress(request) }) }),
  });

  api.route({
    method: 'POST',
    path: '/v1/activations',
    operationId: 'activateRegistration',
    summary: "Activate a registration with the device's secret (and the code), and receive grants for the realm's D-TAs",
    body: z.object({ registration: secretId('the registration secret from POST /v1/registrations'), code: z.string().min(1).max(64).optional() }).strict(),
    responses: {
      200: { description: 'activated: the M-Pin identity and one grant per D-TA', schema: activationSchema },
      403: { description: 'ACTIVATION_FAILED: any failure' },
      503: { description: 'GRANTS_UNAVAILABLE: activated, but ask for grants again' },
    },
    handler: async ({ body }) => ({ status: 200, body: activationJson(await service.activate(body)) }),
  });

  api.route({
    method: 'POST',
    path: '/v1/grants',
    operationId: 'reissueGrants',
    summary: 'Fresh grants for a device activated a short while ago',
    body: z.object({ registration: secretId('the registration secret') }).strict(),
    responses: { 200: { description: 'the grants', schema: activationSchema }, 403: { description: 'ACTIVATION_FAILED' } },
    handler: async ({ body }) => ({ status: 200, body: activationJson(await service.reissueGrants(body)) }),
  });

  api.route({
    method: 'POST',
    path: '/v1/login/pass1',
    operationId: 'loginPass1',
    summary: 'M-Pin pass 1: send U = x·H(ID), receive a single-use session and the challenge y',
    body: z.object({ identity: bytes(MAX_IDENTITY_BYTES, 'the M-Pin identity'), u: bytes(128, 'U (G1)') }).strict(),
    responses: {
      200: { description: 'the challenge', schema: z.object({ session: z.string(), y: z.string(), expiresAt: z.number().int() }) },
      401: { description: GENERIC_LOGIN_FAILURE },
      429: { description: 'RATE_LIMITED: too many requests from this address' },
      503: { description: 'NOT_READY: no server secret yet' },
    },
    handler: async ({ body, request }) => {
      const challenge = await service.loginPass1({ ...body, clientAddress: clientAddress(request) });
      return { status: 200, body: { session: challenge.session, y: bytesToBase64url(challenge.y), expiresAt: challenge.expiresAt } };
    },
  });

  api.route({
    method: 'POST',
    path: '/v1/login/pass2',
    operationId: 'loginPass2',
    summary: 'M-Pin pass 2: send V = −(x+y)·CS for the session; receive an access token',
    body: z.object({ session: secretId('the session from pass 1'), v: bytes(128, 'V (G1)') }).strict(),
    responses: {
      200: {
        description: 'authenticated',
        schema: z.object({ accessToken: z.string(), tokenType: z.literal('Bearer'), expiresIn: z.number().int(), userId: z.string() }),
      },
      401: { description: GENERIC_LOGIN_FAILURE },
      429: { description: 'RATE_LIMITED: too many requests from this address' },
      503: { description: 'NOT_READY: no server secret yet' },
    },
    handler: async ({ body, request }) => {
      const success = await service.loginPass2({ ...body, clientAddress: clientAddress(request) });
      return { status: 200, body: { accessToken: success.accessToken, tokenType: 'Bearer', expiresIn: success.expiresIn, userId: success.userId } };
    },
  });

  api.route({
    method: 'GET',
    path: '/v1/session',
    operationId: 'getSession',
    summary: 'Who the bearer token authenticates (refused after logout)',
    responses: { 200: { description: 'the session', schema: z.object({ userId: z.string(), expiresAt: z.number().int() }) }, 401: { description: 'NOT_AUTHENTICATED' } },
    handler: async ({ request }) => {
      const claims = await service.verifyAccessToken(bearer(request.headers.authorization));
      return { status: 200, body: { userId: claims.sub, expiresAt: claims.exp } };
    },
  });

  api.route({
    method: 'POST',
    path: '/v1/logout',
    operationId: 'logout',
    summary: 'Revoke the bearer token on every replica until it expires',
    responses: { 204: { description: 'logged out' }, 401: { description: 'NOT_AUTHENTICATED' } },
    handler: async ({ request }) => {
      await service.logout(bearer(request.headers.authorization));
      return { status: 204 };
    },
  });

  api.route({
    method: 'GET',
    path: '/.well-known/jwks.json',
    operationId: 'getJwks',
    summary: 'The public keys of access tokens (EdDSA, Ed25519)',
    responses: {
      200: {
        description: 'the JWKS',
        schema: z.object({ keys: z.array(z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), kid: z.string(), alg: z.literal('EdDSA'), use: z.literal('sig') })) }),
      },
    },
    handler: () => ({ status: 200, body: service.jwks(), headers: { 'cache-control': 'public, max-age=300' } }),
  });

  if (options.adminToken !== undefined) {
    if (options.adminToken.length < 16) throw new Error('the admin token must have at least 16 characters');
    const adminDigest = sha256(utf8ToBytes(options.adminToken));
    const requireAdmin = (authorization: string | undefined): void => {
      const match = /^Bearer (\S+)$/.exec(authorization ?? '');
      if (match === null || !constantTimeEqual(sha256(utf8ToBytes(match[1] as string)), adminDigest)) {
        throw new HttpProblem({ status: 401, code: 'NOT_AUTHENTICATED', detail: 'this operation needs the operator token', headers: { 'www-authenticate': 'Bearer realm="milagro-mfa-admin"' } });
      }
    };
    const pendingSchema = z.object({
      reference: z.string(),
      userId: z.string(),
      deviceName: z.string(),
      createdAt: z.number().int(),
      expiresAt: z.number().int(),
      approved: z.boolean(),
    });

    api.route({
      method: 'GET',
      path: '/v1/admin/registrations',
      operationId: 'listPendingRegistrations',
      summary: 'Pending registrations (operator only)',
      responses: { 200: { description: 'pending registrations', schema: z.object({ registrations: z.array(pendingSchema) }) }, 401: { description: 'NOT_AUTHENTICATED' } },
      handler: async ({ request }) => {
        requireAdmin(request.headers.authorization);
        return { status: 200, body: { registrations: await service.pendingRegistrations() } };
      },
    });

    api.route({
      method: 'POST',
      path: '/v1/admin/registrations/{reference}/approval',
      operationId: 'approveRegistration',
      summary: 'Approve a pending registration (operator only); the device then activates without a code',
      params: z.object({ reference: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/) }),
      responses: { 204: { description: 'approved' }, 401: { description: 'NOT_AUTHENTICATED' }, 404: { description: 'NOT_FOUND: no such pending registration' } },
      handler: async ({ params, request }) => {
        requireAdmin(request.headers.authorization);
        if (!(await service.approveRegistration(params.reference))) throw new HttpProblem({ status: 404, code: 'NOT_FOUND', detail: 'no pending registration has this reference' });
        return { status: 204 };
      },
    });
  }

  if (options.developmentOutbox !== undefined) {
    const outbox = options.developmentOutbox;
    api.route({
      method: 'GET',
      path: '/v1/development/outbox',
      operationId: 'getDevelopmentOutbox',
      summary: 'DEVELOPMENT ONLY: the e-mails the service sent (activation links), newest last',
      query: z.object({ to: z.string().max(MAX_USER_ID_LENGTH).optional() }),
      responses: {
        200: {
          description: 'the messages',
          schema: z.object({ messages: z.array(z.object({ from: z.string(), to: z.string(), subject: z.string(), text: z.string(), sentAt: z.number() })) }),
        },
      },
      handler: ({ query }) => ({ status: 200, body: { messages: outbox.messages(query.to) } }),
    });
  }

  return api;
}
