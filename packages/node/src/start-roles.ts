/**
 * The roles a node runs, started together over one infrastructure: one BLS12-381 backend, one
 * metrics registry, one inbox reader that dispatches each message to the role that handles its type
 * (D-TA protocol messages to the D-TA, server-secret shares to the MFA service, custody protocol
 * messages to the custody service, backup deposits and release requests to the backup fiduciary),
 * and one set of routes with `GET /v1/node` mounted once. Scheduled backups run beside them.
 */
import type { HttpApi, ReadinessCheck } from '@milagro/http';
import { isStorageError, type DatabaseLock } from '@milagro/storage';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { startBackupFiduciaryRole, type BackupFiduciarySection } from './backup-fiduciary-role.js';
import { startBackupSchedule, type BackupScheduleConfig } from './backup-schedule.js';
import type { NodeInfrastructure } from './bootstrap.js';
import { createCurveBackend } from './curve-backend.js';
import { startCustodyRole, type CustodySection } from './custody-role.js';
import { startDtaRole, type DtaSection } from './dta-role.js';
import { NodeError } from './errors.js';
import { startMfaRole, type MfaSection } from './mfa-role.js';
import { createNodeApi } from './node-api.js';
import { registerMessagingMetrics } from './messaging-metrics.js';
import { NodeInbox } from './node-inbox.js';
import type { RoleRuntime } from './role.js';

/** The role names a configuration can list. */
export const ROLE_NAMES = ['dta', 'mfa', 'custody'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** Which roles to start: a role runs when its section is given. */
export interface RolesConfig {
  readonly curveBackend: 'mcl' | 'noble';
  readonly dta?: DtaSection;
  readonly mfa?: MfaSection;
  readonly custody?: CustodySection;
  /** Serve as a backup fiduciary (pin deposits, release shares against recovery proofs). */
  readonly backupFiduciary?: BackupFiduciarySection;
  /** Back this node up on a schedule (its `backup` section and what to snapshot). */
  readonly backup?: BackupScheduleConfig;
}

export interface RunningRoles {
  /** The roles that run, in start order. */
  readonly roles: readonly RoleName[];
  /** Every role's routes plus `GET /v1/node`, for `createHttpServer({ apis })`. */
  readonly apis: readonly HttpApi[];
  /** Every role's readiness checks, for `createHttpServer({ ready })`. */
  readonly ready: Readonly<Record<string, ReadinessCheck>>;
  /** The roles' metrics, for `createHttpServer({ metrics: { registry, defaultMetrics: true } })`. */
  readonly registry: Registry;
  /**
   * Resolves when a role can no longer run safely (`ROLE_LOCK_LOST`: the database connection that
   * held its lock ended); the caller must then stop the node (serveRoles does). Never rejects.
   */
  readonly fatal?: Promise<NodeError>;
  /** Stops the roles in reverse order, then the inbox reader, then releases the roles' locks; the caller closes the node afterwards. */
  close(): Promise<void>;
}

/** Roles whose protocols run from one process per identity: each holds a database lock while it runs. */
const SINGLE_PROCESS_ROLES = { dta: 'D-TA', custody: 'custody' } as const;

/** Starts the configured roles on `node`; if one fails to start, those already started are closed again. */
export async function startRoles(node: NodeInfrastructure, config: RolesConfig, options: { readonly logger: Logger }): Promise<RunningRoles> {
  const { logger } = options;
  const inbox = new NodeInbox(node.messenger, {
    onUnclaimed: (message) => logger.warn({ event: 'message-ignored', from: message.from, type: message.type }, 'message of an unknown type ignored'),
    onFailure: (error) => logger.error({ event: 'inbox-failed', code: (error as { code?: unknown }).code }, 'the inbox loop stopped'),
  });
  const context = { logger, inbox, registry: new Registry(), backend: await createCurveBackend(config.curveBackend) };
  registerMessagingMetrics(node.messenger, context.registry);
  const started: Array<{ name: RoleName | 'backupFiduciary' | 'backup'; runtime: RoleRuntime }> = [];
  const locks: Array<{ role: keyof typeof SINGLE_PROCESS_ROLES; lock: DatabaseLock }> = [];
  const close = async (): Promise<void> => {
    for (const { runtime } of started.splice(0).reverse()) await runtime.close();
    await inbox.close();
    for (const { lock } of locks.splice(0)) await lock.release();
  };
  const holdRole = async (role: keyof typeof SINGLE_PROCESS_ROLES): Promise<void> => {
    const identity = node.identity.id.toString();
    try {
      locks.push({ role, lock: await node.db.holdLock(`milagro/role/${role}/${identity}`) });
    } catch (error) {
      if (!isStorageError(error, 'LOCK_HELD')) throw error;
      throw new NodeError(
        'ROLE_RUNS_ELSEWHERE',
        `another process runs the ${SINGLE_PROCESS_ROLES[role]} role of ${identity} on this database: a D-TA or custody identity runs in one process at a time (only the MFA role has replicas; docs/guides/deployment.md, PostgreSQL)`,
      );
    }
  };
  try {
    if (config.dta !== undefined) {
      await holdRole('dta');
      started.push({ name: 'dta', runtime: await startDtaRole(node, config.dta, context) });
    }
    if (config.mfa !== undefined) started.push({ name: 'mfa', runtime: await startMfaRole(node, config.mfa, context) });
    if (config.custody !== undefined) {
      await holdRole('custody');
      started.push({ name: 'custody', runtime: await startCustodyRole(node, config.custody, context) });
    }
    // Backup services: not roles of the `roles` list, but on the same inbox, database and registry.
    if (config.backupFiduciary !== undefined) started.push({ name: 'backupFiduciary', runtime: await startBackupFiduciaryRole(node, config.backupFiduciary, context) });
    if (config.backup !== undefined) started.push({ name: 'backup', runtime: await startBackupSchedule(node, config.backup, context) });
  } catch (error) {
    await close();
    throw error;
  }
  inbox.start();
  const apis = started.flatMap(({ runtime }) => runtime.apis);
  return {
    roles: started.flatMap(({ name }) => ((ROLE_NAMES as readonly string[]).includes(name) ? [name as RoleName] : [])),
    // The D-TA's API has its own `GET /v1/node`.
    apis: config.dta === undefined ? [...apis, createNodeApi(node)] : apis,
    ready: Object.assign({}, ...started.map(({ runtime }) => runtime.ready)) as Record<string, ReadinessCheck>,
    registry: context.registry,
    fatal: new Promise<NodeError>((resolve) => {
      for (const { role, lock } of locks) {
        void lock.lost.then(() =>
          resolve(new NodeError('ROLE_LOCK_LOST', `the database connection holding the ${SINGLE_PROCESS_ROLES[role]} role's lock ended: stopping, so that no second process runs the role at the same time (start the node again)`)),
        );
      }
    }),
    close,
  };
}
