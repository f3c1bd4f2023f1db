/**
 * A node serving as a backup fiduciary beside its roles: its `backupFiduciary` config section. It
 * pins the backups other nodes deposit with it and releases its share of one only against the
 * owner's recovery proof, at most `releaseLimit.releases` times per node per window, logging each
 * release and each refusal over the limit in its audit chain (@milagro/backup's BackupFiduciary on
 * the node's identity, IPFS node, database and a claim of its inbox).
 */
import { BackupFiduciary, DEFAULT_RELEASE_LIMIT, isFiduciaryMessageType } from '@milagro/backup';
import { identityRecipientKey, identitySigner } from '@milagro/pki';
import { Counter } from 'prom-client';
import { z } from 'zod';
import type { NodeInfrastructure } from './bootstrap.js';
import { durationSchema } from './config.js';
import type { RoleContext, RoleRuntime } from './role.js';

/** The `backupFiduciary` section; present (even `{}`) means the node serves as a fiduciary. */
export const backupFiduciarySectionSchema = z
  .object({
    /** Releases of one node's backups allowed per window (default 3 per '24h'); durable in the node's database. */
    releaseLimit: z
      .object({
        releases: z.number().int().min(1).max(1000).default(DEFAULT_RELEASE_LIMIT.releases),
        window: durationSchema.prefault(DEFAULT_RELEASE_LIMIT.windowMs / 60_000),
      })
      .strict()
      .prefault({}),
    /**
     * Most bytes of backups kept per depositing node (archive sizes; retired backups do not count);
     * a deposit over it is refused with QUOTA_EXCEEDED. Default: no limit.
     */
    maxBytesPerNode: z.number({ message: 'expected a whole number of bytes' }).int({ message: 'expected a whole number of bytes' }).min(1, { message: 'expected at least 1 byte' }).optional(),
  })
  .strict();

export type BackupFiduciarySection = z.infer<typeof backupFiduciarySectionSchema>;

/** Opens the fiduciary (its tables in the node's database), claims its message types in the inbox, and starts it. */
export async function startBackupFiduciaryRole(node: NodeInfrastructure, section: BackupFiduciarySection, context: RoleContext): Promise<RoleRuntime> {
  const { logger } = context;
  const events = new Counter({
    name: 'milagro_backup_fiduciary_events_total',
    help: 'Backup fiduciary events since start: deposit-pinned, share-released, release-rate-limited, backup-retired, request-refused',
    labelNames: ['event'] as const,
    registers: [context.registry],
  });
  const fiduciary = await BackupFiduciary.open({
    messenger: context.inbox.claim(isFiduciaryMessageType),
    store: node.ipfs.store,
    resolver: node.resolver,
    signer: identitySigner(node.identity, node.keyStore),
    recipient: await identityRecipientKey(node.identity, node.keyStore),
    db: node.db,
    releaseLimit: { releases: section.releaseLimit.releases, windowMs: section.releaseLimit.window },
    ...(section.maxBytesPerNode === undefined ? {} : { maxBytesPerNode: section.maxBytesPerNode }),
    onEvent: (event) => {
      events.inc({ event: event.event });
      if (event.event === 'request-refused' || event.event === 'release-rate-limited') logger.warn(event, event.event);
      else logger.info(event, event.event);
    },
  });
  fiduciary.start();
  let closed = false;
  return {
    apis: [],
    ready: { backupFiduciary: () => !closed },
    async close() {
      closed = true;
      await fiduciary.close();
    },
  };
}
