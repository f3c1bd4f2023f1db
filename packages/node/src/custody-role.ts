/**
 * The custody role on a node: its `custody` config section and its wiring (@milagro/custody's
 * CustodyNode and routes over the node's identity, key store, IPFS, PKI resolver, messenger and
 * database). No operator token: vaults, spends and refreshes are authorised by the principal's
 * signature, checked through the PKI.
 */
import { CustodyNode, createCustodyApi, isCustodyMessageType } from '@milagro/custody';
import { Counter } from 'prom-client';
import { z } from 'zod';
import type { NodeInfrastructure } from './bootstrap.js';
import type { RoleContext, RoleRuntime } from './role.js';

/** The `custody` section of a node's configuration. */
export const custodySectionSchema = z
  .object({
    /** Per-round deadline of the DKG, signing and refresh, in ms. */
    protocolRoundTimeoutMs: z.number().int().min(1000).default(60_000),
  })
  .strict();

export type CustodySection = z.infer<typeof custodySectionSchema>;

/** Opens the custody service (migrations, crash recovery), claims its message types in the node's inbox, and returns its routes. */
export async function startCustodyRole(node: NodeInfrastructure, section: CustodySection, context: RoleContext): Promise<RoleRuntime> {
  const { logger } = context;
  const notices = new Counter({
    name: 'milagro_custody_notices_total',
    help: 'Custody notices by kind; alert on policy-conflict (the other operators signed a request this one refuses) and operator-blamed (a cheater or a false accuser named)',
    labelNames: ['kind'],
    registers: [context.registry],
  });
  for (const kind of ['policy-conflict', 'operator-blamed']) notices.inc({ kind }, 0);
  const custody = await CustodyNode.open({
    identity: node.identity,
    keyStore: node.keyStore,
    store: node.ipfs.store,
    resolver: node.resolver,
    messenger: context.inbox.claim(isCustodyMessageType),
    db: node.db,
    roundTimeoutMs: section.protocolRoundTimeoutMs,
    // Notices carry ids, indices and reasons only (no shares or nonces).
    onNotice: (notice) => {
      notices.inc({ kind: notice.kind });
      if (notice.kind === 'policy-conflict') logger.error({ event: notice }, `custody ${notice.kind}`);
      else if (notice.kind === 'operator-blamed') logger.warn({ event: notice }, `custody ${notice.kind}`);
      else logger.info({ event: notice }, `custody ${notice.kind}`);
    },
  });
  let closed = false;
  return {
    apis: [createCustodyApi(custody.custody)],
    ready: { custody: () => !closed },
    async close() {
      closed = true;
      await custody.close();
    },
  };
}
