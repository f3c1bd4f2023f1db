import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { KeyStoreError } from './errors.js';
import type { KeyFileSystem } from './key-file-system.js';

/** How long to wait for a lock, and when an abandoned one may be broken. */
export interface FileLockOptions {
  /** Give up with `LOCK_TIMEOUT` after this long. */
  readonly timeoutMs: number;
  /** A lock file older than this is considered abandoned even if its owner cannot be checked. */
  readonly staleMs: number;
}

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(fs: KeyFileSystem, lockPath: string, staleMs: number): Promise<boolean> {
  try {
    const stat = await fs.stat(lockPath);
    if (Date.now() - stat.mtimeMs > staleMs) return true;
    const owner = JSON.parse(Buffer.from(await fs.readFile(lockPath)).toString('utf8')) as LockOwner;
    return owner.host === hostname() && typeof owner.pid === 'number' && !isAlive(owner.pid);
  } catch {
    // Vanished (released) or still being written by its owner: not stale, just retry.
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `critical` while holding `lockPath`, a lock file created with O_EXCL. Serialises writers
 * across processes and instances. A lock whose owner died (same host, pid gone) or that is older
 * than `staleMs` is broken by renaming it away first, so two waiters cannot both delete a fresh one.
 */
export async function withFileLock<T>(
  fs: KeyFileSystem,
  lockPath: string,
  options: FileLockOptions,
  critical: () => Promise<T>,
): Promise<T> {
  const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(12).toString('hex') };
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    let handle: Awaited<ReturnType<KeyFileSystem['open']>> | undefined;
    try {
      handle = await fs.open(lockPath, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new KeyStoreError('WRITE_FAILED', `could not create lock file ${lockPath}`, { cause: err });
      }
    }
    if (handle) {
      try {
        await handle.writeFile(Buffer.from(JSON.stringify(owner)));
        await handle.close();
        break;
      } catch (err) {
        await handle.close().catch(() => undefined);
        await fs.unlink(lockPath).catch(() => undefined);
        throw new KeyStoreError('WRITE_FAILED', `could not write lock file ${lockPath}`, { cause: err });
      }
    }
    if (await isStale(fs, lockPath, options.staleMs)) {
      const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
      await fs
        .rename(lockPath, aside)
        .then(() => fs.unlink(aside))
        .catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new KeyStoreError('LOCK_TIMEOUT', `timed out waiting for lock ${lockPath}`);
    }
    await sleep(2 + Math.random() * 8);
  }
  try {
    return await critical();
  } finally {
    await fs.unlink(lockPath).catch(() => undefined);
  }
}
