/**
 * `milagro start`: the roles the config lists in one process, on one node (one identity, one IPFS
 * node, one SQLite file) behind one HTTP server. While it runs, `<dataDir>/milagro.run.json` says
 * where it listens (for `milagro status`, also when the port is chosen by the system).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHttpServer } from '@milagro/http';
import { bootstrapNode, onShutdownSignals, startRoles } from '@milagro/node';
import { pino } from 'pino';
import { rolesOf, NODE_FILES, type MilagroConfig } from './config.js';

export const RUN_FILE = 'milagro.run.json';

export async function start(config: MilagroConfig): Promise<void> {
  const logger = pino({ name: 'milagro', level: config.log.level });
  const node = await bootstrapNode(config, NODE_FILES);
  let roles;
  try {
    roles = await startRoles(node, rolesOf(config), { logger });
  } catch (error) {
    await node.close();
    throw error;
  }
  const server = createHttpServer({
    apis: roles.apis,
    info: { title: 'Milagro Server', version: '0.1.0' },
    logger,
    bodyLimit: config.http.bodyLimit,
    ...(config.http.cors === undefined ? {} : { cors: config.http.cors }),
    ready: roles.ready,
    metrics: { registry: roles.registry, defaultMetrics: true },
  });
  const listening = await server.listen({ port: config.http.port, host: config.http.host });
  const runFile = join(config.dataDir, RUN_FILE);
  writeFileSync(runFile, `${JSON.stringify({ pid: process.pid, url: listening.url })}\n`, { mode: 0o600 });
  logger.info({ url: listening.url, identity: node.identity.id.toString(), peerId: node.ipfs.peerId, roles: roles.roles }, 'listening');

  onShutdownSignals(async (signal) => {
    logger.info({ signal }, 'shutting down');
    await listening.close();
    await roles.close();
    await node.close();
    rmSync(runFile, { force: true });
  });
}
