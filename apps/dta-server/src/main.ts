/**
 * `milagro-dta-server --config dta.json`: one D-TA. Loads the configuration, builds the node and
 * starts the D-TA role on it (@milagro/node), with the backup fiduciary and scheduled backups
 * when the config has their sections, serves its routes over the HTTP kit, and shuts down
 * cleanly on SIGTERM/SIGINT. Logs are JSON lines (pino) without secrets.
 */
import { bootstrapNode, serveRoles, startRoles } from '@milagro/node';
import { pino } from 'pino';
import { configFileOf, loadConfig, rolesOf } from './config.js';

const config = loadConfig();
const logger = pino({ name: 'milagro-dta', level: config.log.level });

// Label prefix and file name are fixed: existing data dirs hold an identity and a database under them.
// A D-TA is its identity's only sender: each time it is set up afresh (a new messaging journal) it
// closes its identity's older chains at its peers, so they never refuse it as too-many-chains (ADR 0023).
const node = await bootstrapNode(config, { identityLabelPrefix: 'dta', databaseFile: 'dta.sqlite', logger, messaging: { closeOtherChains: true } });
const roles = await startRoles(node, rolesOf(config, configFileOf()), { logger });
await serveRoles({ node, roles, http: config.http, title: 'Milagro D-TA', logger });
