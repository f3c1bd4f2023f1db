/** The chain of a node's backups: from the newest manifest back through `prev`, and where a node keeps its head. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CID } from 'multiformats/cid';
import { readEnvelope, readManifest, type BackupStore } from './backup-store.js';
import { HEAD_FILE } from './constants.js';
import { BackupError } from './errors.js';
import { verifyManifest, type SignedManifest } from './manifest.js';

export interface ListedBackup {
  readonly cid: CID;
  readonly manifest: SignedManifest;
}

/**
 * The backups reachable from `head`, newest first, each manifest verified under `nodeSigningKey`
 * and naming the same node. Stops after `limit` (default 1000).
 */
export async function listBackups(store: Pick<BackupStore, 'getDag'>, head: CID | string, nodeSigningKey: Uint8Array, options: { limit?: number; timeoutMs?: number } = {}): Promise<ListedBackup[]> {
  const out: ListedBackup[] = [];
  let next: CID | undefined = typeof head === 'string' ? CID.parse(head) : head;
  const limit = options.limit ?? 1000;
  while (next !== undefined && out.length < limit) {
    const manifest = verifyManifest(await readManifest(store, next, options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), nodeSigningKey);
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

/**
 * The multihashes (hex) of every block that makes up the backups reachable from `head`: manifests,
 * envelopes and body blocks. A node whose blockstore lives in its data dir leaves these out of its
 * next snapshot (otherwise each backup would contain all earlier ones). Stops quietly at the first
 * block it cannot read (e.g. an earlier backup already collected away).
 */
export async function backupBlockHashes(store: Pick<BackupStore, 'getDag' | 'get'>, head: CID | undefined, options: { limit?: number; timeoutMs?: number } = {}): Promise<Set<string>> {
  const hashes = new Set<string>();
  const hex = (cid: CID): string => Buffer.from(cid.multihash.bytes).toString('hex');
  let next = head;
  let count = 0;
  const fetch = { timeoutMs: options.timeoutMs ?? 5_000 };
  while (next !== undefined && count++ < (options.limit ?? 10_000)) {
    try {
      const manifest = await readManifest(store, next, fetch);
      const envelope = await readEnvelope(store, manifest.envelope, fetch);
      hashes.add(hex(next));
      hashes.add(hex(manifest.envelope));
      if ('blocks' in envelope.body) for (const block of envelope.body.blocks) hashes.add(hex(block));
      next = manifest.prev;
    } catch {
      break;
    }
  }
  return hashes;
}
