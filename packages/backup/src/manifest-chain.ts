/** The chain of a node's backups: from the newest manifest back through `prev`, and where a node keeps its head. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CID } from 'multiformats/cid';
import { readManifest, type BackupStore } from './backup-store.js';
import { HEAD_FILE } from './constants.js';
import { BackupError } from './errors.js';
import type { KeyResolver } from './backup-messenger.js';
import { verifyManifest, type SignedManifest } from './manifest.js';
import { nodeKeyAtBackup } from './node-key.js';

export interface ListedBackup {
  readonly cid: CID;
  readonly manifest: SignedManifest;
}

/**
 * The backups reachable from `head`, newest first, each manifest verified under the node's key of
 * its time (through the PKI) and naming the same node. Stops after `limit` (default 1000).
 */
export async function listBackups(store: Pick<BackupStore, 'getDag' | 'get'>, head: CID | string, resolver: KeyResolver, options: { limit?: number; timeoutMs?: number } = {}): Promise<ListedBackup[]> {
  const out: ListedBackup[] = [];
  let next: CID | undefined = typeof head === 'string' ? CID.parse(head) : head;
  const limit = options.limit ?? 1000;
  while (next !== undefined && out.length < limit) {
    const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
    const unverified = await readManifest(store, next, timeout);
    const manifest = verifyManifest(unverified, await nodeKeyAtBackup(resolver, store, unverified, timeout));
    if (out.length > 0 && manifest.node !== out[0]!.manifest.node) throw new BackupError('MALFORMED', 'the chain leads to another node\'s backup');
    out.push({ cid: next, manifest });
    next = manifest.prev;
  }
  return out;
}

/** The newest manifest recorded in a data dir, or `undefined` when the node has no backup yet. */
export async function readBackupHead(dataDir: string): Promise<CID | undefined> {
  try {
    const { manifest } = JSON.parse(await readFile(join(dataDir, HEAD_FILE), 'utf8')) as { manifest: string };
    return CID.parse(manifest);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BackupError('MALFORMED', `${HEAD_FILE} is unreadable`, { cause: error });
  }
}

/** Records `manifest` as the data dir's newest backup (atomically). */
export async function writeBackupHead(dataDir: string, manifest: CID, created: number): Promise<void> {
  const path = join(dataDir, HEAD_FILE);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(`${path}.tmp`, `${JSON.stringify({ manifest: manifest.toString(), created })}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

