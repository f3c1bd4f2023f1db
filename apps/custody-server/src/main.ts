/**
 * `milagro-custody-server --config custody.json`: one custody operator. Loads the configuration,
 * builds the node and starts the custody role on it (@milagro/node), serves its routes over the
 * HTTP kit, and shuts down cleanly on SIGTERM/SIGINT. Logs are JSON lines (pino) without secrets.
 */
import { bootstrapNode, serveRoles, startRoles } from '@milagro/node';
import { pino } from 'pino';
import { loadConfig } from './config.js';

const config = loadConfig();
const logger = pino({ name: 'milagro-custody', level: config.log.level });

// Label prefix and file name are fixed: existing data dirs hold an identity and a database under them.
const node = await bootstrapNode(config, { identityLabelPrefix: 'custody', databaseFile: 'custody.sqlite' });
const roles = await startRoles(node, { curveBackend: config.curveBackend, custody: config.custody }, { logger });
await serveRoles({ node, roles, http: config.http, title: 'Milagro custody', logger });
