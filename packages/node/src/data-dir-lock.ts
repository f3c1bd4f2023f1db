/**
 * One process per data dir: `<dataDir>/node.lock` names the process that has it open (pid, host,
 * start time), and that process touches it every {@link HEARTBEAT_MS}. Another process refuses to
 * open the dir while the holder lives. A lock is stale, and taken over, when its holder is gone:
 * on the same host when its pid is dead (or is this process's own pid: a container restarted with
 * the same pid), on any host when it has not been touched for {@link STALE_AFTER_MS} (a crashed
 * container on another host, a recycled pid).
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, rename, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { NodeError } from './errors.js';

export const LOCK_FILE = 'node.lock';
export const HEARTBEAT_MS = 10_000;
export const STALE_AFTER_MS = 30_000;
/** An unreadable lock younger than this may be one another process is still writing. */
const BEING_WRITTEN_MS = 5_000;

/** Tokens of the locks this process holds, by path: a second open from this process is refused too. */
const heldHere = new Map<string, string>();

interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly token: string;
}

export interface DataDirLock {
  /** Stops the heartbeat and removes the lock file if it is still this process's. Idempotent. */
  release(): Promise<void>;
}

/** Takes `<dataDir>/node.lock`, or throws `DATA_DIR_IN_USE` naming the live holder. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, LOCK_FILE);
  const mine: LockRecord = { pid: process.pid, host: hostname(), since: new Date().toISOString(), token: randomUUID() };
  for (let attempt = 0; ; attempt += 1) {
    if (await create(path, mine)) break;
    const held = await holder(path);
    if (held !== undefined && (heldHere.get(path) === held.record.token || !isStale(held.record, held.touchedAt))) {
      const { pid, host, since } = held.record;
      const who = pid > 0 ? `in use by process ${pid} on ${host} (since ${since})` : 'being opened by another process (its lock file is not written yet)';
      throw new NodeError('DATA_DIR_IN_USE', `${dataDir} is ${who}: stop that process first; if it is gone, ${path} is taken over ${STALE_AFTER_MS / 1000} s after its last heartbeat`);
    }
    if (attempt >= 2) throw new NodeError('DATA_DIR_IN_USE', `${dataDir}: cannot take over the stale lock ${path}`);
    // Stale (or unreadable): move it aside under a name of our own, so that two processes taking
    // over at once cannot both remove the file, then try to create ours again.
    await rename(path, `${path}.stale-${mine.token}`).then(
      () => unlink(`${path}.stale-${mine.token}`),
      () => undefined,
    );
  }
  heldHere.set(path, mine.token);
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      heldHere.delete(path);
      const held = await holder(path);
      if (held?.record.token === mine.token) await unlink(path).catch(() => undefined);
    },
  };
}

/**
 * Who has `dataDir` open, if a live process does (`pid`, `host`, `since`): for commands that must not
 * run beside a node (a restore, an offline backup) and want to say so before they start.
 */
export async function dataDirHolder(dataDir: string): Promise<{ readonly pid: number; readonly host: string; readonly since: string } | undefined> {
  const path = join(dataDir, LOCK_FILE);
  const held = await holder(path);
  if (held === undefined || (heldHere.get(path) !== held.record.token && isStale(held.record, held.touchedAt))) return undefined;
  const { pid, host, since } = held.record;
  return { pid, host, since };
}

async function create(path: string, record: LockRecord): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await file.writeFile(`${JSON.stringify(record)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  return true;
}

/** The lock's record and when it was last touched; undefined when it vanished; a placeholder when unreadable. */
async function holder(path: string): Promise<{ record: LockRecord; touchedAt: number } | undefined> {
  try {
    const [text, stats] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    let record: LockRecord;
    try {
      record = JSON.parse(text) as LockRecord;
    } catch {
      // Half written by a process that died while creating it (or written by something else).
      record = { pid: 0, host: '', since: 'unknown', token: '' };
    }
    return { record, touchedAt: stats.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isStale(record: LockRecord, touchedAt: number): boolean {
  const age = Date.now() - touchedAt;
  if (age > STALE_AFTER_MS) return true;
  if (!Number.isSafeInteger(record.pid) || record.pid <= 0) return age > BEING_WRITTEN_MS;
  if (record.host !== hostname()) return false;
  return record.pid === process.pid || !alive(record.pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
