/**
 * The D-TA role on a node: its `dta` config section and its wiring (@milagro/dta's DtaNode and
 * routes over the node's identity, key store, IPFS, messenger and database).
 */
import { createDtaApi, DtaNode, fiduciaryPlugins, REALM_MESSAGE_PREFIX, REVOCATION_MESSAGE_TYPE, SERVER_SHARE_REQUEST_TYPE } from '@milagro/dta';
import { z } from 'zod';
import type { NodeInfrastructure } from './bootstrap.js';
import { readSecret, secretSourceSchema } from './config.js';
import { describeNode } from './node-api.js';
import type { RoleContext, RoleRuntime } from './role.js';

/** The `dta` section of a node's configuration. */
export const dtaSectionSchema = z
  .object({
    /** D-TA identities allowed to propose realms to this D-TA. */
    trustedProposers: z.array(z.string()).default([]),
    /** Bearer token for the operator endpoints (create realm, reshare). */
    adminToken: secretSourceSchema.default({ env: 'MILAGRO_DTA_ADMIN_TOKEN' }),
    /** Per-round deadline of the DKG and resharing, in ms. */
    protocolRoundTimeoutMs: z.number().int().min(1000).default(60_000),
    plugins: z
      .object({
        'safeguard-secret': z.object({}).strict().optional(),
        'bitcoin-address': z.object({ network: z.enum(['mainnet', 'testnet', 'regtest']).default('mainnet') }).strict().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type DtaSection = z.infer<typeof dtaSectionSchema>;

/** The inbox message types the D-TA handles (realm protocol, revocations, server-share requests). */
export function isDtaMessageType(type: string): boolean {
  return type.startsWith(REALM_MESSAGE_PREFIX) || type === REVOCATION_MESSAGE_TYPE || type === SERVER_SHARE_REQUEST_TYPE;
}

/** Opens the D-TA (migrations, crash recovery), claims its message types in the node's inbox, and returns its routes (including `GET /v1/node`). */
export async function startDtaRole(node: NodeInfrastructure, section: DtaSection, context: RoleContext): Promise<RoleRuntime> {
  const { logger } = context;
  const adminToken = readSecret(section.adminToken);
  const dta = await DtaNode.open({
    identity: node.identity,
    keyStore: node.keyStore,
    store: node.ipfs.store,
    resolver: node.resolver,
    messenger: context.inbox.claim(isDtaMessageType),
    db: node.db,
    backend: context.backend,
    trustedProposers: section.trustedProposers,
    roundTimeoutMs: section.protocolRoundTimeoutMs,
    plugins: fiduciaryPlugins({
      'safeguard-secret': section.plugins['safeguard-secret'] !== undefined,
      'bitcoin-address': section.plugins['bitcoin-address'] ?? false,
    }),
    onEvent: (event) => logger.info({ event }, event.kind),
  });
  let closed = false;
  return {
    apis: [createDtaApi(dta, { adminToken, describeNode: async () => describeNode(node) })],
    ready: { dta: () => !closed },
    async close() {
      closed = true;
      await dta.close();
    },
  };
}
