/**
 * The last step every server app takes: serve the running roles over the HTTP kit, log one
 * `"msg":"listening"` line with the URL and the node's identity, and stop cleanly on SIGTERM/SIGINT
 * (HTTP first, then the roles, then the node), or with exit code 1 when a role can no longer run.
 */
import { createHttpServer, type ListeningHttpServer } from '@milagro/http';
import type { Logger } from 'pino';
import type { NodeInfrastructure } from './bootstrap.js';
import type { NodeConfig } from './config.js';
import { onShutdownSignals } from './shutdown-signals.js';
import type { RunningRoles } from './start-roles.js';

export interface ServeRolesOptions {
  readonly node: NodeInfrastructure;
  readonly roles: RunningRoles;
  readonly http: NodeConfig['http'];
  /** `info.title` of the OpenAPI document and the `/` index. */
  readonly title: string;
  readonly version?: string;
  readonly logger: Logger;
  /** Extra fields of the `listening` log line. */
  readonly describe?: Readonly<Record<string, unknown>>;
  /** Runs once listening (e.g. write a run file), before the `listening` line. */
  readonly onListening?: (listening: ListeningHttpServer) => void;
  /** Runs last during shutdown (e.g. remove the run file). */
  readonly onStopped?: () => void;
}

export async function serveRoles(options: ServeRolesOptions): Promise<ListeningHttpServer> {
  const { node, roles, http, logger } = options;
  const server = createHttpServer({
    apis: roles.apis,
    info: { title: options.title, version: options.version ?? '0.1.0' },
    logger,
    bodyLimit: http.bodyLimit,
    ...(http.cors === undefined ? {} : { cors: http.cors }),
    ready: roles.ready,
    metrics: { registry: roles.registry, defaultMetrics: true },
  });
  const listening = await server.listen({ port: http.port, host: http.host });
  options.onListening?.(listening);
  logger.info({ url: listening.url, identity: node.identity.id.toString(), peerId: node.ipfs.peerId, ...options.describe }, 'listening');
  const stop = onShutdownSignals(async (signal) => {
    logger.info({ signal }, 'shutting down');
    await listening.close();
    await roles.close();
    await node.close();
    options.onStopped?.();
  });
  // A role that can no longer run safely (its database lock is gone) stops the whole node, exit code 1.
  void roles.fatal?.then((error) => {
    logger.fatal({ event: 'role-stopped', code: error.code }, error.message);
    stop(error.code);
  });
  return listening;
}
