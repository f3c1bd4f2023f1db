/**
 * @packageDocumentation
 * What every Milagro server app stands on: a strictly validated JSON configuration whose secrets
 * come only from the environment or files, and a node built from it (key store on an encrypted
 * file or a PKCS#11 HSM, embedded IPFS node, identity created on first start and loaded afterwards,
 * PKI resolver, SQLite database, messenger with a file journal), closed in reverse order.
 *
 * ```ts
 * import { z } from 'zod';
 * import { bootstrapNode, createCurveBackend, loadConfig, nodeConfigShape, onShutdownSignals, readSecret, secretSourceSchema } from '@milagro/node';
 *
 * const schema = z.object({ ...nodeConfigShape, mfa: z.object({ adminToken: secretSourceSchema }).strict() }).strict();
 * const config = loadConfig(schema, { envVar: 'MILAGRO_MFA_CONFIG', label: 'MFA' }); // --config <file> wins
 * const node = await bootstrapNode(config, { identityLabelPrefix: 'mfa', databaseFile: 'mfa.sqlite' });
 * const backend = await createCurveBackend(config.curveBackend);
 * const adminToken = readSecret(config.mfa.adminToken);
 * // ... mount the role's routes over node.identity, node.keyStore, node.ipfs.store, node.messenger, node.db
 * onShutdownSignals(async () => {
 *   await node.close();
 * });
 * ```
 */
export { NodeError, isNodeError, type NodeErrorCode } from './errors.js';
export { loadConfig, nodeConfigShape, parseConfig, readSecret, secretSourceSchema, type NodeConfig, type SecretSource } from './config.js';
export { bootstrapNode, type BootstrapNodeOptions, type NodeInfrastructure } from './bootstrap.js';
export { createCurveBackend } from './curve-backend.js';
export { onShutdownSignals } from './shutdown-signals.js';
