/**
 * `milagro-dta-server --config dta.json`: one D-TA. Loads the configuration, builds the node and
 * starts the D-TA role on it (@milagro/node), serves its routes over the HTTP kit, and shuts down
 * cleanly on SIGTERM/SIGINT. Logs are JSON lines (pino) without secrets.
 */
import { bootstrapNode, serveRoles, startRoles } from '@milagro/node';
import { pino } from 'pino';
import { loadConfig } from './config.js';

const config = loadConfig();
const logger = pino({ name: 'milagro-dta', level: config.log.level });

// Label prefix and file name are fixed: existing data dirs hold an identity and a database under them.
const node = await bootstrapNode(config, { identityLabelPrefix: 'dta', databaseFile: 'dta.sqlite' });
const roles = await startRoles(node, { curveBackend: config.curveBackend, dta: config.dta }, { logger });
await serveRoles({ node, roles, http: config.http, title: 'Milagro D-TA', logger });
