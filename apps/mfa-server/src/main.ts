/**
 * `milagro-mfa-server --config mfa.json`: the ZKP MFA service of one realm. Loads the configuration,
 * builds the node and starts the MFA role on it (@milagro/node: grants for the realm's D-TAs, the
 * server secret from their shares), with the backup fiduciary and scheduled backups when the config
 * has their sections, serves its routes over the HTTP kit, and shuts down cleanly on
 * SIGTERM/SIGINT. `/readyz` turns 200 once t server-secret shares are combined and self-checked.
 * Logs are JSON lines (pino) without secrets.
 */
import { bootstrapNode, serveRoles, startRoles } from '@milagro/node';
import { pino } from 'pino';
import { configFileOf, loadConfig, rolesOf } from './config.js';

const config = loadConfig();
const logger = pino({ name: 'milagro-mfa', level: config.log.level });

// Label prefix and file name are fixed: existing data dirs hold an identity and a database under them.
// Not closeOtherChains: MFA replicas share one identity, and it would close the others' live chains (ADR 0023).
const node = await bootstrapNode(config, { identityLabelPrefix: 'mfa', databaseFile: 'mfa.sqlite', logger });
const roles = await startRoles(node, rolesOf(config, configFileOf()), { logger });
await serveRoles({ node, roles, http: config.http, title: 'Milagro ZKP MFA', logger, describe: { realm: config.mfa.realm.id } });
