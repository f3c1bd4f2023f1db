// The few filesystem calls the encrypted-file store makes, behind an interface so tests can inject
// failures (disk full, EIO) at exact points and prove no partial write or lost key follows.
import * as fsp from 'node:fs/promises';

/** An open file: the subset of `node:fs/promises` `FileHandle` the store uses. */
export interface KeyFileHandle {
  writeFile(data: Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** File status fields the store uses to notice another writer's changes. */
export interface KeyFileStat {
  readonly mtimeMs: number;
  readonly size: number;
  readonly ino: number;
}

/** The subset of `node:fs/promises` the encrypted-file store uses. */
export interface KeyFileSystem {
  open(path: string, flags: string, mode?: number): Promise<KeyFileHandle>;
  readFile(path: string): Promise<Uint8Array>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  stat(path: string): Promise<KeyFileStat>;
  mkdir(path: string, options: { recursive: true; mode: number }): Promise<unknown>;
}

/** The real filesystem. */
export const nodeKeyFileSystem: KeyFileSystem = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  readFile: (path) => fsp.readFile(path),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  stat: (path) => fsp.stat(path),
  mkdir: (path, options) => fsp.mkdir(path, options),
};
