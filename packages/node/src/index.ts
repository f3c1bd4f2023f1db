/**
 * @packageDocumentation
 * What every Milagro server app stands on: a strictly validated JSON configuration whose secrets
 * come only from the environment or files, a node built from it (key store on an encrypted
 * file or a PKCS#11 HSM, embedded IPFS node, identity created on first start and loaded afterwards,
 * PKI resolver, SQLite database, messenger with a file journal), closed in reverse order, and the
 * roles it runs (D-TA, ZKP MFA: config sections and wiring), several on one node if configured.
 *
 * ```ts
 * import { z } from 'zod';
 * import { createHttpServer } from '@milagro/http';
 * import { bootstrapNode, dtaSectionSchema, loadConfig, mfaSectionSchema, nodeConfigShape, onShutdownSignals, startRoles } from '@milagro/node';
 * import { pino } from 'pino';
 *
 * const schema = z.object({ ...nodeConfigShape, dta: dtaSectionSchema, mfa: mfaSectionSchema }).strict();
 * const config = loadConfig(schema, { envVar: 'MY_CONFIG', label: 'node' }); // --config <file> wins
 * const logger = pino({ level: config.log.level });
 * const node = await bootstrapNode(config, { identityLabelPrefix: 'node', databaseFile: 'node.sqlite' });
 * const roles = await startRoles(node, config, { logger }); // both roles, one inbox reader
 * const server = createHttpServer({ apis: roles.apis, ready: roles.ready, metrics: { registry: roles.registry, defaultMetrics: true }, logger });
 * const listening = await server.listen({ port: config.http.port, host: config.http.host });
 * onShutdownSignals(async () => {
 *   await listening.close();
 *   await roles.close();
 *   await node.close();
 * });
 * ```
 */
export { NodeError, isNodeError, type NodeErrorCode } from './errors.js';
export { configFileOf, durationSchema, loadConfig, nodeConfigShape, parseConfig, readSecret, secretSourceSchema, type NodeConfig, type SecretSource } from './config.js';
export { bootstrapNode, type BootstrapNodeOptions, type NodeInfrastructure } from './bootstrap.js';
export { createCurveBackend } from './curve-backend.js';
export { onShutdownSignals } from './shutdown-signals.js';
export { dataDirHolder } from './data-dir-lock.js';
export { serveRoles, type ServeRolesOptions } from './serve-roles.js';
/** A new private-network key (Kubo's swarm.key format) for `ipfs.swarmKey`. */
export { generateSwarmKey } from '@milagro/ipfs';

// Roles: their config sections and their wiring on a node (one process may run several).
export { startRoles, ROLE_NAMES, type RoleName, type RolesConfig, type RunningRoles } from './start-roles.js';
export { startDtaRole, dtaSectionSchema, isDtaMessageType, type DtaSection } from './dta-role.js';
export { startMfaRole, mfaSectionSchema, type MfaSection } from './mfa-role.js';
export { startCustodyRole, custodySectionSchema, type CustodySection } from './custody-role.js';
export { startBackupSchedule, backupSectionSchema, backupGaps, BackupSchedule, type BackupSection, type BackupScheduleConfig, type ScheduledBackup } from './backup-schedule.js';
export { startBackupFiduciaryRole, backupFiduciarySectionSchema, type BackupFiduciarySection } from './backup-fiduciary-role.js';
export { backupRolesOf, backupSectionsShape, type BackupSections } from './server-config.js';
export { dtaGrantIssuer, type DtaGrantOptions } from './dta-grants.js';
export { DtaServerSecretSource, type DtaServerSecretOptions } from './dta-server-secret.js';
export { NodeInbox, type NodeInboxOptions } from './node-inbox.js';
export { createNodeApi, describeNode } from './node-api.js';
export { reportIdentity, rotateNodeIdentity, type IdentityReport, type PublicKeyReport } from './identity-report.js';
export type { RoleContext, RoleRuntime } from './role.js';
