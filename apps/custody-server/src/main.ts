/**
 * `milagro-custody-server --config custody.json`: one custody operator. Loads the configuration,
 * builds the node and starts the custody role on it (@milagro/node), with the backup fiduciary and scheduled backups
 * when the config has their sections, serves its routes over the
 * HTTP kit, and shuts down cleanly on SIGTERM/SIGINT. Logs are JSON lines (pino) without secrets.
 */
import { bootstrapNode, serveRoles, startRoles } from '@milagro/node';
import { pino } from 'pino';
import { configFileOf, loadConfig, rolesOf } from './config.js';

const config = loadConfig();
const logger = pino({ name: 'milagro-custody', level: config.log.level });

// Label prefix and file name are fixed: existing data dirs hold an identity and a database under them.
// A custody operator is its identity's only sender: set up afresh, it closes its identity's older
// chains at its peers, so they never refuse it as too-many-chains (ADR 0023).
const node = await bootstrapNode(config, { identityLabelPrefix: 'custody', databaseFile: 'custody.sqlite', logger, messaging: { closeOtherChains: true } });
const roles = await startRoles(node, rolesOf(config, configFileOf()), { logger });
await serveRoles({ node, roles, http: config.http, title: 'Milagro custody', logger });
