/**
 * `milagro-dta-server --config dta.json`: one D-TA. Loads the configuration, builds the node and
 * starts the D-TA role on it (@milagro/node), serves its routes over the HTTP kit, and shuts down
 * cleanly on SIGTERM/SIGINT. Logs are JSON lines (pino) without secrets.
 */
import { createHttpServer } from '@milagro/http';
import { bootstrapNode, onShutdownSignals, startRoles } from '@milagro/node';
import { pino } from 'pino';
import { loadConfig } from './config.js';

const config = loadConfig();
const logger = pino({ name: 'milagro-dta', level: config.log.level });

// Label prefix and file name are fixed: existing data dirs hold an identity and a database under them.
const node = await bootstrapNode(config, { identityLabelPrefix: 'dta', databaseFile: 'dta.sqlite' });
const roles = await startRoles(node, { curveBackend: config.curveBackend, dta: config.dta }, { logger });
const server = createHttpServer({
  apis: roles.apis,
  info: { title: 'Milagro D-TA', version: '0.1.0' },
  logger,
  bodyLimit: config.http.bodyLimit,
  ...(config.http.cors === undefined ? {} : { cors: config.http.cors }),
  ready: roles.ready,
  metrics: { registry: roles.registry, defaultMetrics: true },
});
const listening = await server.listen({ port: config.http.port, host: config.http.host });
logger.info({ url: listening.url, identity: node.identity.id.toString(), peerId: node.ipfs.peerId }, 'listening');

onShutdownSignals(async (signal) => {
  logger.info({ signal }, 'shutting down');
  await listening.close();
  await roles.close();
  await node.close();
});
