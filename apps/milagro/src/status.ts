/** `milagro status`: asks the node the config describes whether it is ready, and who it is. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MilagroConfig } from './config.js';
import { isRunning } from './detached-process.js';
import { RUN_FILE } from './start.js';

export interface NodeStatus {
  readonly url: string;
  readonly roles: readonly string[];
  readonly running: boolean;
  readonly ready: boolean;
  /** Failing readiness checks, when not ready. */
  readonly failing?: readonly string[];
  readonly identity?: string;
  readonly peerId?: string;
  readonly addresses?: readonly string[];
  readonly error?: string;
}

/** The node's process and URL, when its run file names a live process (a crashed node leaves a stale file behind). */
export function runningNode(config: MilagroConfig): { readonly pid: number; readonly url: string } | undefined {
  const runFile = join(config.dataDir, RUN_FILE);
  if (!existsSync(runFile)) return undefined;
  try {
    const { pid, url } = JSON.parse(readFileSync(runFile, 'utf8')) as { pid?: unknown; url?: unknown };
    return typeof pid === 'number' && typeof url === 'string' && isRunning(pid) ? { pid, url } : undefined;
  } catch {
    return undefined;
  }
}

/** Where the node listens: its run file when it is running, else the configured address (a wildcard host asked on loopback). */
function nodeUrl(config: MilagroConfig): string {
  const runFile = join(config.dataDir, RUN_FILE);
  if (existsSync(runFile)) {
    try {
      const { url } = JSON.parse(readFileSync(runFile, 'utf8')) as { url?: unknown };
      if (typeof url === 'string') return url;
    } catch {
      // A torn file: fall back to the config.
    }
  }
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
}

export async function status(config: MilagroConfig): Promise<NodeStatus> {
  const url = nodeUrl(config);
  const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(new URL(path, url), { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  try {
    const [readyz, node] = await Promise.all([get('/readyz'), get('/v1/node')]);
    const failing = Array.isArray(readyz.body['failing']) ? (readyz.body['failing'] as string[]) : undefined;
    return {
      url,
      roles: config.roles,
      running: true,
      ready: readyz.status === 200,
      ...(readyz.status === 200 || failing === undefined ? {} : { failing }),
      ...(typeof node.body['identity'] === 'string' ? { identity: node.body['identity'] } : {}),
      ...(typeof node.body['peerId'] === 'string' ? { peerId: node.body['peerId'] } : {}),
      ...(Array.isArray(node.body['addresses']) ? { addresses: node.body['addresses'] as string[] } : {}),
    };
  } catch (error) {
    return { url, roles: config.roles, running: false, ready: false, error: `no answer from ${url} (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name})` };
  }
}
