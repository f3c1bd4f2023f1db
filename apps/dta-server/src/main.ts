/**
 * `milagro-dta-server --config dta.json`: one D-TA. Loads the configuration, builds the node
 * (@milagro/node), mounts the D-TA routes on the HTTP kit, listens, and shuts down cleanly on
 * SIGTERM/SIGINT. Logs are JSON lines (pino) without secrets.
 */
import { createDtaApi, DtaNode, fiduciaryPlugins } from '@milagro/dta';
import { createHttpServer } from '@milagro/http';
import { bootstrapNode, createCurveBackend, onShutdownSignals, readSecret } from '@milagro/node';
import { pino } from 'pino';
import { loadConfig } from './config.js';

const config = loadConfig();
const logger = pino({ name: 'milagro-dta', level: config.log.level });

// Label prefix and file name are fixed: existing data dirs hold an identity and a database under them.
const infrastructure = await bootstrapNode(config, { identityLabelPrefix: 'dta', databaseFile: 'dta.sqlite' });
const { identity, ipfs } = infrastructure;
const node = await DtaNode.open({
  identity,
  keyStore: infrastructure.keyStore,
  store: ipfs.store,
  resolver: infrastructure.resolver,
  messenger: infrastructure.messenger,
  db: infrastructure.db,
  backend: await createCurveBackend(config.curveBackend),
  trustedProposers: config.dta.trustedProposers,
  roundTimeoutMs: config.dta.protocolRoundTimeoutMs,
  plugins: fiduciaryPlugins({
    'safeguard-secret': config.dta.plugins['safeguard-secret'] !== undefined,
    'bitcoin-address': config.dta.plugins['bitcoin-address'] ?? false,
  }),
  onEvent: (event) => logger.info({ event }, event.kind),
});

let stopping = false;
const server = createHttpServer({
  apis: [
    createDtaApi(node, {
      adminToken: readSecret(config.dta.adminToken),
      describeNode: async () => ({ head: identity.head.toString(), peerId: ipfs.peerId, addresses: await ipfs.multiaddrs() }),
    }),
  ],
  info: { title: 'Milagro D-TA', version: '0.1.0' },
  logger,
  bodyLimit: config.http.bodyLimit,
  ...(config.http.cors === undefined ? {} : { cors: config.http.cors }),
  ready: { node: () => !stopping },
});
const listening = await server.listen({ port: config.http.port, host: config.http.host });
logger.info({ url: listening.url, identity: identity.id.toString(), peerId: ipfs.peerId }, 'listening');

onShutdownSignals(async (signal) => {
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await listening.close();
  await node.close();
  await infrastructure.close();
});
