/**
 * Set-up shared by the backup tests with real processes: nodes made by `milagro init` on one private
 * IPFS network (a swarm key in the test's root), started with `milagro start`, and what the tests
 * read from them (their identity, log events, metrics).
 */
import { generateSwarmKey } from '@milagro/node';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonRequest } from '../../../../tools/jest/dta-cluster.js';
import type { ServerProcess } from '../../../../tools/jest/server-process.js';
import { runMilagro, startMilagro } from './milagro-command.js';

/** A test's directory of nodes, their environment and the processes it started (killed by {@link close}). */
export class BackupNodes {
  readonly root: string;
  readonly running: ServerProcess[] = [];

  constructor(prefix: string, readonly env: Record<string, string>) {
    this.root = mkdtempSync(join(tmpdir(), prefix));
    writeFileSync(join(this.root, 'swarm.key'), generateSwarmKey(), { mode: 0o600 });
  }

  /**
   * `milagro init` of a D-TA node `name` dialling `peers`; returns its config path and the owner's
   * recovery secret. With `ipfsPort` its IPFS node listens on that port (so it can restart where its peers dial it).
   */
  async init(name: string, peers: readonly string[], options: { ipfsPort?: number } = {}): Promise<{ config: string; recoverySecret: string }> {
    const config = join(this.root, name, 'config.yaml');
    const args = ['init', '--yes', '--config', config, '--data-dir', 'data', '--roles', 'dta', '--http-port', '0', '--scrypt-log-n', '10', '--swarm-key-file', join(this.root, 'swarm.key'), '--json'];
    const result = await runMilagro([...args, ...peers.flatMap((peer) => ['--peer', peer])], this.env);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    if (options.ipfsPort !== undefined) {
      const text = readFileSync(config, 'utf8');
      if (!text.includes('\nipfs:\n')) throw new Error('no ipfs section in the config written by init');
      writeFileSync(config, text.replace('\nipfs:\n', `\nipfs:\n  listen: ['/ip4/127.0.0.1/tcp/${options.ipfsPort}']\n`));
    }
    return { config, recoverySecret: String((JSON.parse(result.stdout) as Record<string, unknown>)['recoverySecret']) };
  }

  /** `milagro start` on `config` (killed at {@link close} if still running). */
  async start(config: string): Promise<ServerProcess> {
    const server = await startMilagro(config, this.env);
    this.running.push(server);
    return server;
  }

  async close(): Promise<void> {
    for (const server of this.running) await server.kill();
    rmSync(this.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

/** A running node's identity and IPFS addresses (its `GET /v1/node`). */
export async function nodeInfo(url: string): Promise<{ identity: string; addresses: string[] }> {
  return (await jsonRequest(`${url}/v1/node`)).body as unknown as { identity: string; addresses: string[] };
}

/** The log lines of `server` with `event`. */
export const events = (server: ServerProcess, event: string): Array<Record<string, unknown>> => server.logs.filter((line) => line['event'] === event);

/** The value of an unlabelled metric in a Prometheus text scrape (NaN when absent). */
export function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}
