/**
 * The credential in a file, readable by its owner only (mode 0600). Writes are atomic: a temporary
 * file in the same directory is written, fsynced and renamed over the old one, and the directory is
 * fsynced, so a crash leaves the old credential or the new one, never half of either.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MfaClientError, parseCredential, serializeCredential, type CredentialStore, type StoredCredential } from '../client/index.js';

const isNotFound = (error: unknown): boolean => (error as { code?: unknown }).code === 'ENOENT';

/** Keeps the credential in one JSON file (Node). The directory must exist. */
export class FileCredentialStore implements CredentialStore {
  constructor(readonly path: string) {}

  async load(): Promise<StoredCredential | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new MfaClientError('STORE_FAILED', 'the credential file cannot be read', { cause: error });
    }
    return parseCredential(text);
  }

  async save(credential: StoredCredential): Promise<void> {
    const text = serializeCredential(credential);
    const temporary = join(dirname(this.path), `.${basename(this.path)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const file = await open(temporary, 'wx', 0o600);
      try {
        await file.writeFile(text, 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, this.path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw new MfaClientError('STORE_FAILED', 'the credential file cannot be written', { cause: error });
    }
    await syncDirectory(dirname(this.path));
  }

  async clear(): Promise<void> {
    try {
      await unlink(this.path);
    } catch (error) {
      if (!isNotFound(error)) throw new MfaClientError('STORE_FAILED', 'the credential file cannot be removed', { cause: error });
    }
    await syncDirectory(dirname(this.path));
  }
}

/** Makes a rename durable; some platforms cannot open directories, which only costs durability. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort
  }
}
