/**
 * The D-TA's HTTP routes (mount them on `@milagro/http`'s server): realm administration, share
 * issuance and fiduciary orders. Thin: every route validates its input with zod, calls one service
 * method, and maps `DtaError` codes to problem documents. Byte strings are unpadded base64url.
 */
import { base64urlToBytes, bytesToBase64url, constantTimeEqual, sha256, utf8ToBytes } from '@milagro/crypto';
import { HttpApi, HttpProblem, type ErrorMapper } from '@milagro/http';
import { z } from 'zod';
import { isDtaError, type DtaErrorCode } from './errors.js';
import type { FiduciaryService } from './fiduciary/fiduciary-service.js';
import type { IssuanceService } from './issuance.js';
import type { RealmService, RealmStatus } from './realm-service.js';
import { MAX_IDENTITY_ID_LENGTH, REALM_ID_PATTERN } from './wire.js';

/** HTTP status of each `DtaError` code. */
const STATUS: Record<DtaErrorCode, number> = {
  INVALID_REQUEST: 400,
  GRANT_INVALID: 403,
  GRANT_EXPIRED: 403,
  GRANT_REPLAYED: 409,
  GRANT_WRONG_AUDIENCE: 403,
  PERMIT_BEYOND_HORIZON: 403,
  IDENTITY_REVOKED: 403,
  NOT_AUTHORISED: 403,
  NOT_FOUND: 404,
  REALM_RETIRED: 410,
  CONFLICT: 409,
  REALM_NOT_READY: 503,
  DEPENDENCY_UNAVAILABLE: 503,
  PROTOCOL_FAILED: 502,
  CLOSED: 503,
};

/** Maps `DtaError`s to problems; the message is safe to return (no secrets by contract). */
export const dtaErrorMapper: ErrorMapper = (error) => {
  if (!isDtaError(error)) return undefined;
  return new HttpProblem({
    status: STATUS[error.code],
    code: error.code,
    detail: error.message,
    ...(STATUS[error.code] === 503 ? { headers: { 'retry-after': '5' } } : {}),
  });
};

/** A base64url byte string of at most `maxBytes` decoded bytes, decoded by validation. */
function bytes(maxBytes: number, description: string) {
  return z
    .string()
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

const realmIdSchema = z.string().regex(REALM_ID_PATTERN, 'realm ids are 1-63 characters of [a-z0-9-]');
const identityIdSchema = z.string().min(1).max(MAX_IDENTITY_ID_LENGTH).describe('an identity: the CID of its inception document');
const realmParams = z.object({ realmId: realmIdSchema });

const realmDefinitionSchema = z
  .object({
    realmId: realmIdSchema,
    members: z.array(identityIdSchema).min(1).max(255).describe('member D-TAs; the Shamir index of members[i] is i + 1'),
    threshold: z.number().int().min(1).max(255),
    mfaService: identityIdSchema,
    permitHorizonDays: z.number().int().min(0).max(366).default(7),
    grantMaxLifetimeMinutes: z.number().int().min(1).max(10_080).default(60),
  })
  .strict();

const realmStatusSchema = z.object({
  realmId: z.string(),
  members: z.array(z.string()),
  threshold: z.number().int(),
  mfaService: z.string(),
  permitHorizonDays: z.number().int(),
  grantMaxLifetimeMinutes: z.number().int(),
  state: z.enum(['pending', 'active', 'failed', 'retired']).describe('retired: this D-TA was removed from the realm by a resharing and issues nothing more for it'),
  reason: z.string().optional(),
  epoch: z.number().int(),
  proposer: z.string(),
  index: z.number().int().optional().describe("this D-TA's Shamir index, once active"),
  groupPublicKey: z.string().optional().describe('s·G1, compressed, base64url, once active'),
  qualified: z.array(z.number().int()).optional(),
  transcriptHash: z.string().optional(),
  resharing: z
    .object({ epoch: z.number().int(), state: z.string(), members: z.array(z.string()), threshold: z.number().int(), reason: z.string().optional() })
    .optional()
    .describe('a resharing of the realm that is running at this D-TA or failed (absent once it succeeded)'),
});

function realmStatusJson(status: RealmStatus): z.input<typeof realmStatusSchema> {
  const { definition, result } = status;
  return {
    ...definition,
    members: [...definition.members],
    state: status.state,
    ...(status.reason === undefined ? {} : { reason: status.reason }),
    epoch: status.epoch,
    proposer: status.proposer,
    ...(result === undefined
      ? {}
      : {
          index: Number(result.index),
          groupPublicKey: bytesToBase64url(result.groupPublicKey),
          qualified: result.qualified.map(Number),
          transcriptHash: bytesToBase64url(result.transcriptHash),
        }),
    ...(status.resharing === undefined
      ? {}
      : {
          resharing: {
            epoch: status.resharing.epoch,
            state: status.resharing.state,
            members: [...status.resharing.definition.members],
            threshold: status.resharing.definition.threshold,
            ...(status.resharing.reason === undefined ? {} : { reason: status.resharing.reason }),
          },
        }),
  };
}

const shareSchema = z.object({
  realmId: z.string(),
  epoch: z.number().int(),
  index: z.number().int().describe("the issuing D-TA's Shamir index: combine shares with Lagrange weights at these indices"),
  share: z.string().optional().describe('the share (G1, compressed), base64url'),
  sealed: z.object({ enc: z.string(), ciphertext: z.string() }).optional().describe('the share sealed with HPKE to `sealTo`'),
});
const permitSchema = shareSchema.extend({ day: z.number().int() });
const envelopeAnswer = z.object({ cid: z.string().describe('CID of the answer envelope'), envelope: z.string().describe('the DAG-CBOR envelope, base64url') });

/** What the routes call: a `DtaNode` is one; a custom server may pass its own composition. */
export interface DtaServices {
  /** This D-TA's identity (CID string). */
  readonly self: string;
  readonly realms: Pick<RealmService, 'createRealm' | 'reshareRealm' | 'realm' | 'listRealms'>;
  readonly issuance: Pick<IssuanceService, 'issueClientShare' | 'issueTimePermitShare'>;
  readonly fiduciary: Pick<FiduciaryService, 'fulfilOrder' | 'redeemOrder'>;
}

export interface DtaApiOptions {
  /** The operator's bearer token for realm administration; compared as SHA-256 digests in constant time. */
  readonly adminToken: string;
  /** What `GET /v1/node` tells peers and operators (identity, IPFS addresses). */
  readonly describeNode?: () => Promise<Record<string, unknown>>;
}

/** The D-TA's routes, ready for `createHttpServer({ apis: [createDtaApi(node, options)] })`. */
export function createDtaApi(node: DtaServices, options: DtaApiOptions): HttpApi {
  if (options.adminToken.length < 16) throw new Error('the admin token must have at least 16 characters');
  const adminDigest = sha256(utf8ToBytes(options.adminToken));
  const requireAdmin = (authorization: string | undefined): void => {
    const match = /^Bearer (\S+)$/.exec(authorization ?? '');
    if (match === null || !constantTimeEqual(sha256(utf8ToBytes(match[1] as string)), adminDigest)) {
      throw new HttpProblem({ status: 401, code: 'NOT_AUTHENTICATED', detail: 'this operation needs the operator token', headers: { 'www-authenticate': 'Bearer realm="milagro-dta"' } });
    }
  };
  const problems = {
    400: { description: 'malformed input' },
    403: { description: 'not authorised: grant invalid, expired or for another D-TA; identity revoked; day beyond the horizon' },
    404: { description: 'unknown realm' },
    409: { description: 'grant already used' },
    503: { description: 'the realm has no usable share yet' },
  };

  const api = new HttpApi({ errorMapper: dtaErrorMapper, tags: ['dta'] });

  api.route({
    method: 'GET',
    path: '/v1/node',
    operationId: 'getNode',
    summary: "This D-TA's identity and network addresses",
    responses: { 200: { description: 'the node', schema: z.object({ identity: z.string() }).loose() } },
    handler: async () => ({ status: 200, body: { identity: node.self, ...(options.describeNode === undefined ? {} : await options.describeNode()) } }),
  });

  api.route({
    method: 'POST',
    path: '/v1/realms',
    operationId: 'createRealm',
    summary: 'Propose a realm to its member D-TAs and run the DKG (operator only)',
    description: 'Returns at once with the pending realm; poll GET /v1/realms/{realmId} until `active`. Every other member must list this D-TA in its trusted proposers.',
    body: realmDefinitionSchema,
    responses: { ...problems, 202: { description: 'the DKG started', schema: realmStatusSchema }, 401: { description: 'no or wrong operator token' }, 409: { description: 'the realm exists' } },
    handler: async ({ body, request }) => {
      requireAdmin(request.headers.authorization);
      return { status: 202, body: realmStatusJson(await node.realms.createRealm(body)) };
    },
  });

  api.route({
    method: 'POST',
    path: '/v1/realms/{realmId}/resharing',
    operationId: 'reshareRealm',
    summary: "Move an active realm to new members and threshold without changing its master secret (operator only)",
    description:
      'Returns at once with the realm, whose `resharing` shows the run; poll GET /v1/realms/{realmId} until `epoch` advances. Shamir indices follow the new member order. Members removed by the resharing end `retired`.',
    params: realmParams,
    body: z
      .object({
        members: z.array(identityIdSchema).min(1).max(255).describe('the new member D-TAs; the Shamir index of members[i] is i + 1'),
        threshold: z.number().int().min(1).max(255),
      })
      .strict(),
    responses: { ...problems, 202: { description: 'the resharing started', schema: realmStatusSchema }, 401: { description: 'no or wrong operator token' }, 409: { description: 'a run of the realm is in progress' } },
    handler: async ({ params, body, request }) => {
      requireAdmin(request.headers.authorization);
      return { status: 202, body: realmStatusJson(await node.realms.reshareRealm({ realmId: params.realmId, ...body })) };
    },
  });

  api.route({
    method: 'GET',
    path: '/v1/realms',
    operationId: 'listRealms',
    summary: 'Realms this D-TA is a member of',
    responses: { 200: { description: 'the realms', schema: z.object({ realms: z.array(realmStatusSchema) }) } },
    handler: async () => ({ status: 200, body: { realms: (await node.realms.listRealms()).map(realmStatusJson) } }),
  });

  api.route({
    method: 'GET',
    path: '/v1/realms/{realmId}',
    operationId: 'getRealm',
    summary: "A realm's public status at this D-TA",
    params: realmParams,
    responses: { 200: { description: 'the realm', schema: realmStatusSchema }, ...problems },
    handler: async ({ params }) => ({ status: 200, body: realmStatusJson(await node.realms.realm(params.realmId)) }),
  });

  api.route({
    method: 'POST',
    path: '/v1/realms/{realmId}/client-shares',
    operationId: 'issueClientShare',
    summary: "This D-TA's share of an M-Pin client secret, authorised by a grant of the realm's MFA service",
    params: realmParams,
    body: z
      .object({
        grant: bytes(4096, 'grant token signed by the MFA service'),
        identity: bytes(1024, 'the M-Pin identity'),
        sealTo: bytes(1216, 'optional X-Wing public key: the share comes back sealed to it').optional(),
      })
      .strict(),
    responses: { 200: { description: 'the share', schema: shareSchema }, ...problems },
    handler: async ({ params, body }) => {
      const result = await node.issuance.issueClientShare({ realmId: params.realmId, grant: body.grant, identity: body.identity, ...(body.sealTo === undefined ? {} : { sealTo: body.sealTo }) });
      const origin = { realmId: result.realmId, epoch: result.epoch, index: Number(result.index) };
      return {
        status: 200,
        body:
          'share' in result
            ? { ...origin, share: bytesToBase64url(result.share) }
            : { ...origin, sealed: { enc: bytesToBase64url(result.sealed.enc), ciphertext: bytesToBase64url(result.sealed.ciphertext) } },
      };
    },
  });

  api.route({
    method: 'POST',
    path: '/v1/realms/{realmId}/time-permit-shares',
    operationId: 'issueTimePermitShare',
    summary: "This D-TA's share of an identity's time permit for one day, authorised by a grant",
    params: realmParams,
    body: z
      .object({
        grant: bytes(4096, 'grant token (purpose time-permit, the same day)'),
        identity: bytes(1024, 'the M-Pin identity'),
        day: z.number().int().min(1).max(2 ** 32 - 1).describe('days since 1970-01-01 UTC'),
      })
      .strict(),
    responses: { 200: { description: 'the share', schema: permitSchema }, ...problems },
    handler: async ({ params, body }) => {
      const result = await node.issuance.issueTimePermitShare({ realmId: params.realmId, grant: body.grant, identity: body.identity, day: body.day });
      return { status: 200, body: { realmId: result.realmId, epoch: result.epoch, index: Number(result.index), day: result.day, share: bytesToBase64url(result.share) } };
    },
  });

  api.route({
    method: 'POST',
    path: '/v1/orders',
    operationId: 'placeOrder',
    summary: 'Place a fiduciary order (an order envelope signed by the principal, sealed to this D-TA)',
    description: 'Idempotent: the same order envelope returns the same fulfilment; a secret is never generated twice.',
    body: z.object({ order: bytes(64 * 1024, 'the order envelope') }).strict(),
    responses: { 200: { description: 'the fulfilment envelope, sealed to the principal', schema: envelopeAnswer }, 400: { description: 'malformed order' }, 403: { description: 'bad signature or not addressed here' } },
    handler: async ({ body }) => {
      const fulfilment = await node.fiduciary.fulfilOrder(body.order);
      return { status: 200, body: { cid: fulfilment.cid, envelope: bytesToBase64url(fulfilment.bytes) } };
    },
  });

  api.route({
    method: 'POST',
    path: '/v1/redemptions',
    operationId: 'redeemOrder',
    summary: 'Redeem a fiduciary order (a redemption envelope signed by the principal or beneficiary)',
    body: z.object({ redemption: bytes(64 * 1024, 'the redemption envelope') }).strict(),
    responses: {
      200: { description: 'the release envelope, sealed to the redeemer', schema: envelopeAnswer },
      400: { description: 'malformed redemption' },
      403: { description: 'the signer is neither principal nor beneficiary' },
      404: { description: 'unknown reference' },
      409: { description: 'already redeemed' },
    },
    handler: async ({ body }) => {
      const release = await node.fiduciary.redeemOrder(body.redemption);
      return { status: 200, body: { cid: release.cid, envelope: bytesToBase64url(release.bytes) } };
    },
  });

  return api;
}
