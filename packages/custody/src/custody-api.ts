/**
 * The custody routes (mount them on `@milagro/http`'s server). Thin: every route validates its
 * input with zod, calls one service method, and maps `CustodyError` codes to problem documents.
 * No operator token: what authorises creating a vault, spending from it or refreshing it is the
 * principal's composite signature (and the approvers'), checked through the PKI by every operator.
 * Binary inputs are unpadded base64url; signatures, transactions and keys come back as hex.
 */
import { base64urlToBytes, bytesToBase64url, bytesToHex } from '@milagro/crypto';
import { HttpApi, HttpProblem, type ErrorMapper } from '@milagro/http';
import { z } from 'zod';
import type { CustodyService, SpendOutcome, VaultStatus } from './custody-service.js';
import type { StoredRequest } from './custody-repository.js';
import { CustodyError, isCustodyError, type CustodyErrorCode } from './errors.js';
import { decodeSpendRequest, MAX_APPROVERS, MAX_DESTINATIONS, MAX_OPERATORS, MAX_PSBT_BYTES, MAX_SATS } from './vault.js';
import { MAX_IDENTITY_ID_LENGTH, VAULT_ID_PATTERN } from './wire.js';

const STATUS: Record<CustodyErrorCode, number> = {
  INVALID_REQUEST: 400,
  NOT_AUTHORISED: 403,
  POLICY_REFUSED: 403,
  REQUEST_REPLAYED: 409,
  NOT_FOUND: 404,
  CONFLICT: 409,
  VAULT_NOT_READY: 503,
  PROTOCOL_FAILED: 502,
  DEPENDENCY_UNAVAILABLE: 503,
  CLOSED: 503,
};

/** Maps `CustodyError`s to problems; the message is safe to return (no secrets by contract). */
export const custodyErrorMapper: ErrorMapper = (error) => {
  if (!isCustodyError(error)) return undefined;
  return new HttpProblem({ status: STATUS[error.code], code: error.code, detail: error.message, ...(STATUS[error.code] === 503 ? { headers: { 'retry-after': '5' } } : {}) });
};

function bytes(maxBytes: number, description: string) {
  return z
    .string()
    .max(Math.ceil((maxBytes * 4) / 3) + 4)
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

const SIGNATURE_BYTES = 4096;
const vaultIdSchema = z.string().regex(VAULT_ID_PATTERN, 'vault ids are 1-63 characters of [a-z0-9-]');
const identitySchema = z.string().min(1).max(MAX_IDENTITY_ID_LENGTH).describe('an identity: the CID of its inception document');
const vaultParams = z.object({ vaultId: vaultIdSchema });

const definitionSchema = z
  .object({
    vaultId: vaultIdSchema,
    principal: identitySchema,
    operators: z.array(identitySchema).min(2).max(MAX_OPERATORS).describe('the custody servers; the FROST identifier of operators[i] is i + 1'),
    threshold: z.number().int().min(2).max(MAX_OPERATORS),
    policy: z
      .object({
        approvers: z.array(identitySchema).max(MAX_APPROVERS),
        approvals: z.number().int().min(0).max(MAX_APPROVERS).describe('m of the k approvers must approve each request'),
        maxAmountSats: z.number().int().min(0).max(MAX_SATS).describe('most satoshis a PSBT may move out of the vault (outputs elsewhere plus fee)'),
        destinations: z.array(z.string().min(1).max(100)).max(MAX_DESTINATIONS).describe('allowed destination addresses; empty: any'),
        allowMessages: z.boolean().describe('whether raw 32-byte messages may be signed'),
      })
      .strict(),
    mode: z.literal('escrow').optional().describe('escrow (for ECDSA chains): approved requests may release the shares to the principal, who then holds the whole key. Weaker: see docs/specs/custody.md'),
  })
  .strict();

const vaultSchema = z.object({
  vaultId: z.string(),
  principal: z.string(),
  operators: z.array(z.string()),
  threshold: z.number().int(),
  policy: definitionSchema.shape.policy,
  mode: z.literal('escrow').optional(),
  state: z.enum(['pending', 'active', 'failed', 'retired']).describe('retired: a resharing left this operator out'),
  reason: z.string().optional(),
  epoch: z.number().int().describe('0 after the DKG, +1 per refresh'),
  index: z.number().int().describe("this operator's FROST identifier"),
  outputKey: z.string().optional().describe('x-only Taproot output key (hex), once active'),
  internalKey: z.string().optional().describe('untweaked group key, compressed (hex): the internal key is its x'),
  addresses: z.object({ mainnet: z.string(), testnet: z.string(), regtest: z.string() }).optional().describe('P2TR (bech32m) addresses'),
  auditHead: z.string().optional().describe("CID of the newest entry of this operator's audit chain for the vault"),
});

function vaultJson(status: VaultStatus): z.input<typeof vaultSchema> {
  const d = status.definition;
  return {
    vaultId: d.vaultId,
    principal: d.principal,
    operators: [...d.operators],
    threshold: d.threshold,
    policy: { ...d.policy, approvers: [...d.policy.approvers], destinations: [...d.policy.destinations] },
    ...(d.mode === undefined ? {} : { mode: d.mode }),
    state: status.state,
    ...(status.reason === undefined ? {} : { reason: status.reason }),
    epoch: status.epoch,
    index: status.index,
    ...(status.key === undefined ? {} : { outputKey: status.key.outputKey, internalKey: status.key.internalKey, addresses: { ...status.key.addresses } }),
    ...(status.auditHead === undefined ? {} : { auditHead: status.auditHead }),
  };
}

const resultSchema = z.object({
  requestId: z.string(),
  state: z.enum(['signing', 'signed', 'failed', 'refused']),
  reason: z.string().optional(),
  signatures: z.array(z.string()).optional().describe('BIP-340 signatures (hex), one per message or PSBT input'),
  psbt: z.string().optional().describe('the finalised PSBT (base64url)'),
  transaction: z.string().optional().describe('the finalised transaction, ready to broadcast (hex)'),
  txid: z.string().optional(),
  signers: z.array(z.number().int()).optional(),
  blamed: z.array(z.object({ operator: z.number().int(), reason: z.string() })).optional().describe('operators caught cheating during the request'),
  sealedShares: z.array(z.object({ operator: z.number().int(), envelope: z.string() })).optional().describe('escrow releases: each share sealed to the principal (envelope, base64url)'),
  learnedFrom: z.string().optional().describe('this operator did not sign: the coordinator whose result it checked (principal signature, policy, signatures under the vault key) and recorded'),
  policyConflict: z.string().optional().describe("the other operators signed a request this operator's own policy check refuses: its refusal (state is then refused)"),
});

function resultJson(requestId: string, state: StoredRequest['state'], outcome: Omit<SpendOutcome, 'requestId'> | undefined, reason?: string): z.input<typeof resultSchema> {
  return {
    requestId,
    state,
    ...(reason === undefined ? {} : { reason }),
    ...(outcome === undefined
      ? {}
      : {
          signatures: outcome.signatures.map(bytesToHex),
          ...(outcome.psbt === undefined ? {} : { psbt: bytesToBase64url(outcome.psbt) }),
          ...(outcome.transaction === undefined ? {} : { transaction: bytesToHex(outcome.transaction) }),
          ...(outcome.txid === undefined ? {} : { txid: outcome.txid }),
          signers: [...outcome.signers],
          blamed: outcome.blamed.map((b) => ({ ...b })),
          ...(outcome.sealedShares === undefined ? {} : { sealedShares: outcome.sealedShares.map((x) => ({ operator: x.operator, envelope: bytesToBase64url(x.envelope) })) }),
          ...(outcome.learnedFrom === undefined ? {} : { learnedFrom: outcome.learnedFrom }),
          ...(outcome.policyConflict === undefined ? {} : { policyConflict: outcome.policyConflict }),
        }),
  };
}

/** The custody routes, ready for `createHttpServer({ apis: [createCustodyApi(service)] })`. */
export function createCustodyApi(service: CustodyService): HttpApi {
  const problems = {
    400: { description: 'malformed input' },
    403: { description: "a signature that does not verify, or the policy refuses (approvals, amount, destination)" },
    404: { description: 'unknown vault or request' },
    409: { description: 'the vault exists, or the request id was already used' },
    502: { description: 'the operators failed to complete the protocol (a cheater is named in the detail)' },
    503: { description: 'the vault has no usable key share yet, or the PKI did not answer' },
  };
  const api = new HttpApi({ errorMapper: custodyErrorMapper, tags: ['custody'] });

  api.route({
    method: 'POST',
    path: '/v1/vaults',
    operationId: 'createVault',
    summary: "Create a vault from its principal's signed definition: the operators run the FROST DKG",
    description: 'Send to any operator of the vault. Returns at once with the pending vault; poll GET /v1/vaults/{vaultId} at each operator until `active`.',
    body: z.object({ definition: definitionSchema, signature: bytes(SIGNATURE_BYTES, "the principal's composite signature over the DAG-CBOR definition, context milagro/custody/vault/v1") }).strict(),
    responses: { ...problems, 202: { description: 'the DKG started', schema: vaultSchema } },
    handler: async ({ body }) => ({ status: 202, body: vaultJson(await service.createVault(body)) }),
  });

  api.route({
    method: 'GET',
    path: '/v1/vaults',
    operationId: 'listVaults',
    summary: 'Vaults this operator takes part in',
    responses: { 200: { description: 'the vaults', schema: z.object({ vaults: z.array(vaultSchema) }) } },
    handler: async () => ({ status: 200, body: { vaults: (await service.listVaults()).map(vaultJson) } }),
  });

  api.route({
    method: 'GET',
    path: '/v1/vaults/{vaultId}',
    operationId: 'getVault',
    summary: "A vault's public status at this operator: key, addresses, audit head",
    params: vaultParams,
    responses: { 200: { description: 'the vault', schema: vaultSchema }, ...problems },
    handler: async ({ params }) => ({ status: 200, body: vaultJson(await service.vault(params.vaultId)) }),
  });

  api.route({
    method: 'POST',
    path: '/v1/vaults/{vaultId}/signatures',
    operationId: 'signSpend',
    summary: 'Sign a spend request (PSBT or 32-byte message) with t operators, after every operator checked the policy',
    description: 'Send to any operator of the vault (it coordinates). A request id signs once: sending it again is 409.',
    params: vaultParams,
    body: z
      .object({
        request: bytes(MAX_PSBT_BYTES + 1024, 'the DAG-CBOR spend request'),
        signature: bytes(SIGNATURE_BYTES, "the principal's composite signature, context milagro/custody/spend/v1"),
        approvals: z.array(z.object({ approver: identitySchema, signature: bytes(SIGNATURE_BYTES, 'composite signature, context milagro/custody/approval/v1') }).strict()).max(MAX_APPROVERS).default([]),
      })
      .strict(),
    responses: { ...problems, 200: { description: 'signed', schema: resultSchema } },
    handler: async ({ params, body }) => {
      if (decodeSpendRequest(body.request).vaultId !== params.vaultId) throw new CustodyError('INVALID_REQUEST', 'the request names another vault');
      const outcome = await service.sign(body);
      const { requestId, ...rest } = outcome;
      return { status: 200, body: resultJson(requestId, 'signed', rest) };
    },
  });

  api.route({
    method: 'GET',
    path: '/v1/vaults/{vaultId}/requests/{requestId}',
    operationId: 'getSpendRequest',
    summary: "A spend request's state at this operator",
    params: z.object({ vaultId: vaultIdSchema, requestId: z.string().regex(/^[0-9a-f]{32}$/) }),
    responses: { 200: { description: 'the request', schema: resultSchema }, ...problems },
    handler: async ({ params }) => {
      const stored = await service.request(params.vaultId, params.requestId);
      return { status: 200, body: resultJson(stored.requestId, stored.state, stored.result, stored.reason) };
    },
  });

  api.route({
    method: 'POST',
    path: '/v1/vaults/{vaultId}/refresh',
    operationId: 'refreshVault',
    summary: 'Refresh every operator’s key share (same key, same address) on the principal’s signed request',
    description: 'Returns at once; poll GET /v1/vaults/{vaultId} until `epoch` advances.',
    params: vaultParams,
    body: z.object({ signature: bytes(SIGNATURE_BYTES, "the principal's composite signature over refreshMessage(vaultId, epoch), context milagro/custody/refresh/v1") }).strict(),
    responses: { ...problems, 202: { description: 'the refresh started', schema: vaultSchema } },
    handler: async ({ params, body }) => ({ status: 202, body: vaultJson(await service.refreshVault(params.vaultId, body.signature)) }),
  });

  api.route({
    method: 'POST',
    path: '/v1/vaults/{vaultId}/resharing',
    operationId: 'reshareVault',
    summary: 'Move the vault to new operators and threshold, keeping its key and address, on the principal’s signed request',
    description:
      'Send to a current operator; every current operator deals. Returns at once; poll GET /v1/vaults/{vaultId} at the new operators until `epoch` advances. Operators left out end `retired`.',
    params: vaultParams,
    body: z
      .object({
        definition: definitionSchema,
        signature: bytes(SIGNATURE_BYTES, "the principal's composite signature over reshareMessage(definition, epoch), context milagro/custody/reshare/v1"),
      })
      .strict(),
    responses: { ...problems, 202: { description: 'the resharing started', schema: vaultSchema } },
    handler: async ({ params, body }) => {
      if (body.definition.vaultId !== params.vaultId) throw new CustodyError('INVALID_REQUEST', 'the definition names another vault');
      return { status: 202, body: vaultJson(await service.reshareVault(body)) };
    },
  });

  return api;
}
