/**
 * Restoring: the snapshot is decrypted from its blocks with k fiduciary shares and unpacked into a
 * staging directory beside the target. Only when the whole body has authenticated against the
 * node's signature, the archive ended properly and the restored files pass their checks is the
 * staging directory moved into place: a damaged or partial backup never overwrites anything.
 */
import { isEnvelopeError, openEnvelopeStream, type EnvelopeShare } from '@milagro/envelope';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { CID } from 'multiformats/cid';
import { underRoot, unpackArchive } from './archive.js';
import { readEnvelope, readManifest, type BackupStore } from './backup-store.js';
import { SNAPSHOT_TYPE } from './constants.js';

/** Blocks fetched ahead of the one being decrypted. */
const READ_AHEAD = 3;
import { BackupError, isBackupError } from './errors.js';
import { verifyManifest, type SignedManifest } from './manifest.js';
import { CONFIG_PREFIX, DATA_PREFIX } from './snapshot.js';

/** Where the restored files go, as the checks see them. */
export interface RestoredLayout {
  readonly dataDir: string;
  /** Holds the configuration file, if the snapshot has one. */
  readonly configDir: string;
}

export interface RestoreBackupOptions {
  readonly store: Pick<BackupStore, 'get' | 'getDag'>;
  /** The manifest to restore. */
  readonly manifest: CID | string;
  /** The node's composite signing key, from its identity document (the PKI). */
  readonly nodeSigningKey: Uint8Array;
  /** At least k shares released by the fiduciaries. */
  readonly shares: readonly EnvelopeShare[];
  /** The node's data directory: created, or replaced when `replace` is set. */
  readonly dataDir: string;
  /** Where to write the snapshot's configuration file (left out when not given). */
  readonly configDir?: string;
  /** Replace a non-empty `dataDir` (it is kept until the restored one is in place). Default false. */
  readonly replace?: boolean;
  /** Extra checks of the staged files (e.g. open the key store, load the identity); throw to refuse. */
  readonly check?: (staged: RestoredLayout) => Promise<void>;
  /** Per-block fetch timeout (default the store's). */
  readonly timeoutMs?: number;
}

export interface RestoredBackup {
  readonly manifest: SignedManifest;
  readonly files: number;
  readonly bytes: number;
}

async function isNonEmptyDir(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length > 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** The body blocks in order, the next ones fetched while the current one is decrypted (a small read-ahead). */
async function* bodyBlocks(store: Pick<BackupStore, 'get'>, blocks: readonly CID[], timeoutMs: number | undefined): AsyncGenerator<Uint8Array> {
  const fetch = (i: number): Promise<Uint8Array> =>
    store.get(blocks[i]!, timeoutMs === undefined ? {} : { timeoutMs }).catch((cause: unknown) => {
      throw new BackupError('TRUNCATED', `block ${i} of ${blocks.length} (${blocks[i]!.toString()}) is not available`, { cause });
    });
  const ahead: Array<Promise<Uint8Array>> = [];
  let next = 0;
  try {
    for (let i = 0; i < blocks.length; i++) {
      while (next < blocks.length && ahead.length < READ_AHEAD) {
        const pending = fetch(next++);
        pending.catch(() => undefined); // awaited in order below; do not report it unhandled meanwhile
        ahead.push(pending);
      }
      yield await ahead.shift()!;
    }
  } finally {
    ahead.length = 0;
  }
}

function asBackupError(error: unknown): unknown {
  if (!isEnvelopeError(error)) return error;
  switch (error.code) {
    case 'TRUNCATED':
      return new BackupError('TRUNCATED', `the backup is incomplete: ${error.message}`, { cause: error });
    case 'NOT_ENOUGH_SHARES':
      return new BackupError('NOT_ENOUGH_SHARES', error.message, { cause: error });
    default:
      return new BackupError('TAMPERED', `the backup does not authenticate: ${error.message}`, { cause: error });
  }
}

/** Every SQLite database under `dir` must pass `PRAGMA integrity_check`. */
export async function checkDatabases(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(sqlite|db)$/.test(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      const row = db.prepare('PRAGMA integrity_check').get() as { integrity_check?: unknown } | undefined;
      if (row?.integrity_check !== 'ok') throw new BackupError('INTEGRITY_CHECK_FAILED', `database ${entry.name} fails its integrity check`);
    } finally {
      db.close();
    }
  }
}

/**
 * Restores a backup into `dataDir` (and `configDir`).
 * @throws BackupError `TARGET_NOT_EMPTY` (checked first), `MALFORMED` / `NOT_FOUND` (manifest),
 *   `TAMPERED` / `TRUNCATED` (body), `NOT_ENOUGH_SHARES`, `INTEGRITY_CHECK_FAILED`; in every case the
 *   target is as it was.
 */
export async function restoreBackup(options: RestoreBackupOptions): Promise<RestoredBackup> {
  const replace = options.replace ?? false;
  if (!replace && (await isNonEmptyDir(options.dataDir))) throw new BackupError('TARGET_NOT_EMPTY', `${options.dataDir} is not empty; restore elsewhere or replace it`);
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const manifest = verifyManifest(await readManifest(options.store, options.manifest, timeout), options.nodeSigningKey);
  const envelope = await readEnvelope(options.store, manifest.envelope, timeout);
  if (envelope.header.type !== SNAPSHOT_TYPE || !('blocks' in envelope.body)) throw new BackupError('MALFORMED', 'the manifest names an envelope that is not a backup snapshot');

  const blocks = envelope.body.blocks;
  const parent = dirname(options.dataDir);
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const staging = join(parent, `.${basename(options.dataDir)}.restoring-${randomBytes(6).toString('hex')}`);
  const layout: RestoredLayout = { dataDir: join(staging, 'data'), configDir: join(staging, 'config') };
  await mkdir(layout.dataDir, { recursive: true, mode: 0o700 });
  let unpacked: { files: number; bytes: number };
  try {
    try {
      const plaintext = await openEnvelopeStream(envelope, {
        sender: { id: manifest.node, publicKey: options.nodeSigningKey },
        shares: options.shares,
        body: bodyBlocks(options.store, blocks, options.timeoutMs),
      });
      unpacked = await unpackArchive(plaintext, (path) => {
        if (path.startsWith(DATA_PREFIX)) return underRoot(layout.dataDir, path.slice(DATA_PREFIX.length));
        if (path.startsWith(CONFIG_PREFIX)) return underRoot(layout.configDir, path.slice(CONFIG_PREFIX.length));
        return undefined;
      });
    } catch (error) {
      throw asBackupError(error);
    }
    if (unpacked.bytes > manifest.size) throw new BackupError('TAMPERED', 'the archive is larger than its manifest says');
    await checkDatabases(layout.dataDir);
    if (options.check !== undefined) {
      try {
        await options.check(layout);
      } catch (cause) {
        if (isBackupError(cause)) throw cause;
        throw new BackupError('INTEGRITY_CHECK_FAILED', `the restored node does not check out: ${(cause as Error).message}`, { cause });
      }
    }
    // Everything checked: move it into place, the old data dir last out.
    const previous = `${staging}.previous`;
    const hadData = await stat(options.dataDir).then(() => true, () => false);
    if (hadData) await rename(options.dataDir, previous);
    try {
      await rename(layout.dataDir, options.dataDir);
    } catch (error) {
      if (hadData) await rename(previous, options.dataDir);
      throw error;
    }
    if (options.configDir !== undefined) {
      const configs = await readdir(layout.configDir).catch(() => [] as string[]);
      await mkdir(options.configDir, { recursive: true, mode: 0o700 });
      for (const name of configs) await rename(join(layout.configDir, name), join(options.configDir, name));
    }
    if (hadData) await rm(previous, { recursive: true, force: true });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return { manifest, files: unpacked.files, bytes: unpacked.bytes };
}
