/**
 * `milagro start`: the roles the config lists in one process, on one node (one identity, one IPFS
 * node, one SQLite file) behind one HTTP server. While it runs, `<dataDir>/milagro.run.json` says
 * where it listens (for `milagro status`, also when the port is chosen by the system).
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapNode, createCurveBackend, serveRoles, startRoles } from '@milagro/node';
import { pino } from 'pino';
import { rolesOf, NODE_FILES, type MilagroConfig } from './config.js';

export const RUN_FILE = 'milagro.run.json';

export async function start(config: MilagroConfig): Promise<void> {
  const logger = pino({ name: 'milagro', level: config.log.level });
  // mcl-wasm compiles while the key store's scrypt and the IPFS node start; startRoles then finds
  // it loaded (the backend is created once per process). A failure here is retried there.
  if (config.curveBackend === 'mcl') createCurveBackend('mcl').catch(() => undefined);
  // A node without the mfa role is its identity's only sender: set up afresh, it closes its
  // identity's older chains at its peers (ADR 0023). MFA may run as replicas of one identity, whose
  // live chains that would close.
  const node = await bootstrapNode(config, { ...NODE_FILES, logger, messaging: { closeOtherChains: !config.roles.includes('mfa') } });
  let roles;
  try {
    roles = await startRoles(node, rolesOf(config), { logger });
  } catch (error) {
    await node.close();
    throw error;
  }
  const runFile = join(config.dataDir, RUN_FILE);
  await serveRoles({
    node,
    roles,
    http: config.http,
    title: 'Milagro Server',
    logger,
    describe: { roles: roles.roles },
    onListening: (listening) => writeRunFile(runFile, { pid: process.pid, url: listening.url }),
    onStopped: () => rmSync(runFile, { force: true }),
  });
}

/**
 * Writes the run file whole or not at all (a temporary file renamed over it): `milagro status` and
 * `milagro dev up` poll for it and must never read it half written.
 */
function writeRunFile(path: string, run: { readonly pid: number; readonly url: string }): void {
  const pending = `${path}.${process.pid}.tmp`;
  writeFileSync(pending, `${JSON.stringify(run)}\n`, { mode: 0o600 });
  renameSync(pending, path);
}
