import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { writeFileAtomically } from './atomic-file.js';
import { KeyStoreError } from './errors.js';
import { withFileLock, type FileLockOptions } from './file-lock.js';
import {
  decodeKeyFile,
  encodeKeyFile,
  KEK_CHECK_PLAINTEXT,
  kekCheckAad,
  type KeyFileDocument,
  type KeyFileKdf,
} from './key-file-format.js';
import { nodeKeyFileSystem, type KeyFileStat, type KeyFileSystem } from './key-file-system.js';
import type { RotateKekOptions } from './key-store.js';
import {
  checkScryptParams,
  DEFAULT_SCRYPT_PARAMS,
  derivePassphraseKek,
  passphraseBytes,
  type ScryptParams,
} from './passphrase-kek.js';
import { resealEntries, SealedKeyStore, type SealedEntry, type SealedState } from './sealed-key-store.js';
import { aesGcmOpen, aesGcmSeal } from './software-key.js';

/** Options of {@link FileKeyStore.open}. */
export interface FileKeyStoreOptions {
  /** The key file. Its directory is created (mode 0700) if missing; a lock file `<path>.lock` sits beside it. */
  readonly path: string;
  /** Passphrase the key-encryption key is derived from (scrypt). */
  readonly passphrase: string | Uint8Array;
  /** Create the file if it does not exist (default true); otherwise `NOT_FOUND`. */
  readonly create?: boolean;
  /** scrypt parameters for new files and KEK rotations. Default {@link DEFAULT_SCRYPT_PARAMS}; lower them in tests only. */
  readonly scrypt?: ScryptParams;
  /** Lock timing (defaults: wait 10 s, break locks older than 30 s or whose process is gone). */
  readonly lock?: Partial<FileLockOptions>;
  /** Filesystem to use; tests inject failures here. Default: `node:fs/promises`. */
  readonly fileSystem?: KeyFileSystem;
}

interface Loaded {
  readonly stat: KeyFileStat;
  readonly doc: KeyFileDocument;
  readonly kek: Uint8Array;
}

const sameStat = (a: KeyFileStat, b: KeyFileStat) => a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
const sameKdf = (a: KeyFileKdf, b: KeyFileKdf) =>
  a.N === b.N && a.r === b.r && a.p === b.p && Buffer.from(a.salt).equals(Buffer.from(b.salt));

/**
 * The embedded default {@link KeyStore}: one file, every secret sealed with AES-256-GCM under a KEK
 * derived from a passphrase with scrypt (parameters and salt stored in the file).
 *
 * - Writes are atomic (temporary file, fsync, rename, fsync directory) with mode 0600; a failed write
 *   (`WRITE_FAILED`) leaves the previous file intact.
 * - Writers in any number of processes or instances serialise on an O_EXCL lock file and re-read the
 *   file inside the lock, so none loses another's keys; readers pick up changes on the next call.
 * - A wrong passphrase is `WRONG_PASSPHRASE`; a damaged file is `CORRUPTED`.
 *
 * @example
 * ```ts
 * const store = await FileKeyStore.open({ path: '/var/lib/milagro/keys.mks', passphrase });
 * const { publicKey } = await store.generate('ed25519', { label: 'identity' });
 * const signature = await store.sign({ label: 'identity' }, message);
 * await store.close();
 * ```
 */
export class FileKeyStore extends SealedKeyStore {
  readonly #path: string;
  readonly #fs: KeyFileSystem;
  readonly #scrypt: ScryptParams;
  readonly #lock: FileLockOptions;
  #passphrase: Uint8Array;
  #loaded: Loaded | undefined;

  private constructor(options: FileKeyStoreOptions, passphrase: Uint8Array) {
    super();
    this.#path = options.path;
    this.#fs = options.fileSystem ?? nodeKeyFileSystem;
    this.#scrypt = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;
    this.#lock = { timeoutMs: options.lock?.timeoutMs ?? 10_000, staleMs: options.lock?.staleMs ?? 30_000 };
    this.#passphrase = passphrase;
  }

  /** Opens (or creates) a key file and checks the passphrase. */
  static async open(options: FileKeyStoreOptions): Promise<FileKeyStore> {
    if (options.scrypt) checkScryptParams(options.scrypt, 'INVALID_ARGUMENT');
    const store = new FileKeyStore(options, passphraseBytes(options.passphrase));
    await store.#openOrCreate(options.create ?? true);
    return store;
  }

  async #openOrCreate(create: boolean): Promise<void> {
    if (await this.#exists()) {
      await this.load();
      return;
    }
    if (!create) throw new KeyStoreError('NOT_FOUND', `no key file at ${this.#path}`);
    try {
      await this.#fs.mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
    } catch (cause) {
      throw new KeyStoreError('WRITE_FAILED', `could not create the directory of ${this.#path}`, { cause });
    }
    await withFileLock(this.#fs, `${this.#path}.lock`, this.#lock, async () => {
      // Another process may have created it while we waited for the lock.
      if (await this.#exists()) return;
      const { kdf, kek } = await this.#newKek(this.#passphrase);
      await this.#write({ kdf, check: aesGcmSeal(kek, KEK_CHECK_PLAINTEXT, kekCheckAad(kdf)), entries: [] }, kek);
    });
    await this.load();
  }

  async #exists(): Promise<boolean> {
    try {
      await this.#fs.stat(this.#path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new KeyStoreError('CORRUPTED', `cannot read ${this.#path}`, { cause: err });
    }
  }

  async #newKek(passphrase: Uint8Array): Promise<{ kdf: KeyFileKdf; kek: Uint8Array }> {
    const kdf: KeyFileKdf = { name: 'scrypt', ...this.#scrypt, salt: new Uint8Array(randomBytes(32)) };
    return { kdf, kek: await derivePassphraseKek(passphrase, kdf.salt, kdf) };
  }

  async #write(doc: KeyFileDocument, kek: Uint8Array): Promise<void> {
    await writeFileAtomically(this.#fs, this.#path, encodeKeyFile(doc));
    try {
      this.#loaded = { stat: await this.#fs.stat(this.#path), doc, kek };
    } catch {
      this.#loaded = undefined;
    }
  }

  protected load(): Promise<SealedState> {
    return this.#read(false);
  }

  // `fresh` bypasses the stat cache: inside the lock the file is always re-read, since a stat match
  // (same mtime, size and a recycled inode) cannot prove another writer did not replace it.
  async #read(fresh: boolean): Promise<SealedState> {
    this.checkOpen();
    let stat: KeyFileStat;
    try {
      stat = await this.#fs.stat(this.#path);
    } catch (cause) {
      throw new KeyStoreError('CORRUPTED', `key file ${this.#path} is missing or unreadable`, { cause });
    }
    const cached = this.#loaded;
    if (!fresh && cached && sameStat(cached.stat, stat)) return { entries: cached.doc.entries, kek: cached.kek };
    let bytes: Uint8Array;
    try {
      bytes = await this.#fs.readFile(this.#path);
    } catch (cause) {
      throw new KeyStoreError('CORRUPTED', `key file ${this.#path} is unreadable`, { cause });
    }
    const doc = decodeKeyFile(bytes);
    // Re-derive only when another writer rotated the KEK (new salt or parameters).
    const kek =
      cached && sameKdf(cached.doc.kdf, doc.kdf) ? cached.kek : await derivePassphraseKek(this.#passphrase, doc.kdf.salt, doc.kdf);
    if (!aesGcmOpen(kek, doc.check, kekCheckAad(doc.kdf))) {
      throw new KeyStoreError('WRONG_PASSPHRASE', `the passphrase does not open ${this.#path}`);
    }
    this.#loaded = { stat, doc, kek };
    return { entries: doc.entries, kek };
  }

  protected async commit(change: (state: SealedState) => SealedEntry[]): Promise<void> {
    this.checkOpen();
    await withFileLock(this.#fs, `${this.#path}.lock`, this.#lock, async () => {
      const state = await this.#read(true);
      const doc = this.#loaded!.doc;
      await this.#write({ ...doc, entries: change(state) }, state.kek);
    });
  }

  protected async rotate(options: RotateKekOptions): Promise<void> {
    const passphrase = options.passphrase === undefined ? this.#passphrase : passphraseBytes(options.passphrase);
    await withFileLock(this.#fs, `${this.#path}.lock`, this.#lock, async () => {
      const state = await this.#read(true);
      const { kdf, kek } = await this.#newKek(passphrase);
      const entries = resealEntries(state.entries, state.kek, kek);
      // One atomic rename swaps every entry and the key check at once: a crash leaves the old file.
      await this.#write({ kdf, check: aesGcmSeal(kek, KEK_CHECK_PLAINTEXT, kekCheckAad(kdf)), entries }, kek);
    });
    if (passphrase !== this.#passphrase) {
      this.#passphrase.fill(0);
      this.#passphrase = passphrase;
    }
  }

  protected async release(): Promise<void> {
    this.#passphrase.fill(0);
    this.#loaded?.kek.fill(0);
    this.#loaded = undefined;
  }
}
