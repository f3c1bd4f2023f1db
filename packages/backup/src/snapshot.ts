/**
 * What a snapshot holds: every file under the node's data directory (the key store file, the IPFS
 * repository, the messaging journal, the databases) and, optionally, its configuration file. SQLite
 * databases are not copied byte for byte (a copy taken mid-write can be torn): each is written with
 * `VACUUM INTO`, a transaction-consistent copy, and that copy goes into the archive.
 */
import { mkdtemp, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { Worker } from 'node:worker_threads';
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

/**
 * `VACUUM INTO` on a worker thread: the copy is synchronous in SQLite, and a running node keeps
 * serving meanwhile. A reader waits up to 30 s for a writer's lock (rollback-journal databases; in
 * WAL mode readers never wait).
 */
const VACUUM_WORKER = `
const { workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path, { readOnly: true, timeout: 30000 });
try { db.prepare('VACUUM INTO ?').run(workerData.copy); } finally { db.close(); }
`;

/** A transaction-consistent copy of a SQLite database (`VACUUM INTO`), in `dir`. */
async function consistentCopy(path: string, dir: string, index: number): Promise<string> {
  const copy = join(dir, `${index}-${basename(path)}`);
  const worker = new Worker(VACUUM_WORKER, { eval: true, workerData: { path, copy } });
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`copying database ${basename(path)} stopped with exit code ${code}`))));
  });
  return copy;
}

interface ListedFile {
  /** Relative to the data dir, `/`-separated. */
  readonly rel: string;
  readonly path: string;
}

/** The data dir's files worth archiving (no locks, SQLite side files, temporary files or excluded paths), in a stable order. */
async function listFiles(source: SnapshotSource): Promise<ListedFile[]> {
  const out: ListedFile[] = [];
  for await (const path of walk(source.dataDir, source.dataDir)) {
    const rel = relative(source.dataDir, path).split(sep).join('/');
    if (TRANSIENT.some((pattern) => pattern.test(rel)) || source.exclude?.(rel) === true) continue;
    out.push({ rel, path });
  }
  return out;
}

/**
 * The snapshot's files, in a stable order, for `packArchive`. Reads one file at a time; SQLite
 * copies live in a temporary directory removed when the iteration ends (or is abandoned).
 *
 * The order makes a snapshot of a running node consistent where it matters: append-only journals
 * (`*.journal`, e.g. the messaging journal) first, each up to its size when opened (a record being
 * appended is a torn tail, which the journal cuts off on load); then the databases, as
 * transaction-consistent copies; then every other file (IPFS blocks, the key store), listed only
 * after the databases were copied. So whatever a journal record or a database row names that
 * existed when it was copied is in the snapshot, and a restored journal is never ahead of the
 * database (a message it marks consumed has its effects in the database; handlers are idempotent,
 * so one processed again is harmless). Files are written by rename (key store, IPFS blocks) or
 * appended; each is read through one open handle, as it was when opened.
 */
export async function* snapshotFiles(source: SnapshotSource): AsyncGenerator<ArchiveFile> {
  const scratch = await mkdtemp(join(tmpdir(), 'milagro-backup-'));
  let copies = 0;
  async function* entryOf(file: ListedFile, sqlite: boolean): AsyncGenerator<ArchiveFile> {
    const info = await stat(file.path).catch(() => undefined);
    if (info === undefined) return; // removed since it was listed
    if (sqlite) {
      const copy = await consistentCopy(file.path, scratch, copies++);
      const entry = await fileEntry(`${DATA_PREFIX}${file.rel}`, copy, info.mode & 0o777);
      if (entry !== undefined) yield entry;
      await rm(copy, { force: true });
    } else {
      const entry = await fileEntry(`${DATA_PREFIX}${file.rel}`, file.path, info.mode & 0o777);
      if (entry !== undefined) yield entry;
    }
  }
  try {
    if (source.configFile !== undefined) {
      const info = await stat(source.configFile);
      const entry = await fileEntry(`${CONFIG_PREFIX}${basename(source.configFile)}`, source.configFile, info.mode & 0o777);
      if (entry !== undefined) yield entry;
    }
    const listed = await listFiles(source);
    const journals = listed.filter((file) => file.rel.endsWith('.journal'));
    const databases: ListedFile[] = [];
    const plain = new Set<string>();
    for (const file of listed) {
      if (file.rel.endsWith('.journal')) continue;
      if (await isSqlite(file.path).catch(() => false)) databases.push(file);
      else plain.add(file.rel);
    }
    for (const file of journals) yield* entryOf(file, false);
    for (const file of databases) yield* entryOf(file, true);
    const done = new Set([...journals, ...databases].map((file) => file.rel));
    for (const file of await listFiles(source)) {
      if (done.has(file.rel)) continue;
      yield* entryOf(file, !plain.has(file.rel) && (await isSqlite(file.path).catch(() => false)));
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
