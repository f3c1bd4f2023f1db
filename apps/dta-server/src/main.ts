/**
 * `milagro-dta-server --config dta.json`: one D-TA. Loads the configuration, builds the node
 * (bootstrap.ts), mounts the D-TA routes on the HTTP kit, listens, and shuts down cleanly on
 * SIGTERM/SIGINT. Logs are JSON lines (pino) without secrets.
 */
import { createMclBackend, nobleBackend } from '@milagro/crypto';
import { createDtaApi, DtaNode, fiduciaryPlugins } from '@milagro/dta';
import { createHttpServer } from '@milagro/http';
import { pino } from 'pino';
import { bootstrap } from './bootstrap.js';
import { loadConfig, readSecret } from './config.js';

const config = loadConfig();
const logger = pino({ name: 'milagro-dta', level: config.log.level });

const infrastructure = await bootstrap(config);
const { identity, ipfs } = infrastructure;
const node = await DtaNode.open({
  identity,
  keyStore: infrastructure.keyStore,
  store: ipfs.store,
  resolver: infrastructure.resolver,
  messenger: infrastructure.messenger,
  db: infrastructure.db,
  backend: config.curveBackend === 'mcl' ? await createMclBackend() : nobleBackend,
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
  ready: { node: () => !stopping },
});
const listening = await server.listen({ port: config.http.port, host: config.http.host });
logger.info({ url: listening.url, identity: identity.id.toString(), peerId: ipfs.peerId }, 'listening');

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await listening.close();
  await node.close();
  await infrastructure.close();
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));
