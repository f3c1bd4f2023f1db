import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { KeyStoreError } from './errors.js';
import type { KeyFileSystem } from './key-file-system.js';

/**
 * Replaces `path` with `data` so that a crash or a failed write leaves either the old file or the
 * new one, never a mixture: write a temporary file (mode 0600) beside it, fsync it, rename it over
 * `path`, fsync the directory so the rename itself is durable. Throws `WRITE_FAILED` (with the old
 * file untouched) if any step before the rename fails.
 */
export async function writeFileAtomically(fs: KeyFileSystem, path: string, data: Uint8Array): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  let handle: Awaited<ReturnType<KeyFileSystem['open']>> | undefined;
  try {
    handle = await fs.open(temporary, 'wx', 0o600);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temporary, path);
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    await fs.unlink(temporary).catch(() => undefined);
    throw new KeyStoreError('WRITE_FAILED', `could not write ${path}`, { cause });
  }
  await syncDirectory(fs, dirname(path));
}

// Best effort: some filesystems refuse fsync on a directory; the rename has happened either way.
async function syncDirectory(fs: KeyFileSystem, directory: string): Promise<void> {
  try {
    const handle = await fs.open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // ignored on purpose, see above
  }
}
