/**
 * What a snapshot holds: every file under the node's data directory (the key store file, the IPFS
 * repository, the messaging journal, the databases) and, optionally, its configuration file. SQLite
 * databases are not copied byte for byte (a copy taken mid-write can be torn): each is written with
 * `VACUUM INTO`, a transaction-consistent copy, and that copy goes into the archive.
 */
import { mkdtemp, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ArchiveFile } from './archive.js';
import { READ_SIZE } from './constants.js';

/** Archive prefix of the data directory's files. */
export const DATA_PREFIX = 'data/';
/** Archive prefix of the configuration file. */
export const CONFIG_PREFIX = 'config/';

/** Files never worth restoring: locks of a running process, SQLite side files (the copy is whole). */
const TRANSIENT = [/\.lock$/, /-wal$/, /-shm$/, /-journal$/, /\.tmp$/];

const SQLITE_MAGIC = 'SQLite format 3\0';

export interface SnapshotSource {
  /** The node's data directory. */
  readonly dataDir: string;
  /** The node's configuration file, stored as `config/<its name>`. */
  readonly configFile?: string;
  /** Paths relative to `dataDir` (with `/`) to leave out, besides locks and SQLite side files. */
  readonly exclude?: (path: string) => boolean;
}

async function isSqlite(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, 16, 0);
    return bytesRead === 16 && head.toString('latin1') === SQLITE_MAGIC;
  } finally {
    await handle.close();
  }
}

async function* walk(root: string, dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(root, path);
    else if (entry.isFile()) yield path;
  }
}

/**
 * An archive entry over an open file: size and bytes come from the same inode, so a file replaced
 * by rename while the snapshot runs is archived as it was when it was opened.
 */
async function fileEntry(archivePath: string, path: string, mode: number): Promise<ArchiveFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed since the walk
    throw error;
  }
  const size = (await handle.stat()).size;
  return {
    path: archivePath,
    size,
    mode,
    async *read() {
      try {
        let left = size;
        while (left > 0) {
          const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, left));
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, size - left);
          if (bytesRead === 0) break;
          left -= bytesRead;
          yield bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
        }
      } finally {
        await handle.close();
      }
    },
  };
}

/** A transaction-consistent copy of a SQLite database (`VACUUM INTO`), in `dir`. */
function consistentCopy(path: string, dir: string, index: number): string {
  const copy = join(dir, `${index}-${basename(path)}`);
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.prepare('VACUUM INTO ?').run(copy);
  } finally {
    db.close();
  }
  return copy;
}

/**
 * The snapshot's files, in a stable order, for `packArchive`. Reads one file at a time; SQLite
 * copies live in a temporary directory removed when the iteration ends (or is abandoned).
 */
export async function* snapshotFiles(source: SnapshotSource): AsyncGenerator<ArchiveFile> {
  const scratch = await mkdtemp(join(tmpdir(), 'milagro-backup-'));
  try {
    if (source.configFile !== undefined) {
      const info = await stat(source.configFile);
      const entry = await fileEntry(`${CONFIG_PREFIX}${basename(source.configFile)}`, source.configFile, info.mode & 0o777);
      if (entry !== undefined) yield entry;
    }
    // The file list is fixed first: files written while the snapshot runs (e.g. the backup's own
    // blocks, when the node's blockstore lives in the data dir) are not part of it.
    const paths: string[] = [];
    for await (const path of walk(source.dataDir, source.dataDir)) paths.push(path);
    let copies = 0;
    for (const path of paths) {
      const rel = relative(source.dataDir, path).split(sep).join('/');
      if (TRANSIENT.some((pattern) => pattern.test(rel)) || source.exclude?.(rel) === true) continue;
      const info = await stat(path).catch(() => undefined);
      if (info === undefined) continue;
      if (await isSqlite(path)) {
        const copy = consistentCopy(path, scratch, copies++);
        const entry = await fileEntry(`${DATA_PREFIX}${rel}`, copy, info.mode & 0o777);
        if (entry !== undefined) yield entry;
        await rm(copy, { force: true });
      } else {
        const entry = await fileEntry(`${DATA_PREFIX}${rel}`, path, info.mode & 0o777);
        if (entry !== undefined) yield entry;
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
