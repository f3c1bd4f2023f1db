/**
 * The snapshot archive: a stream of files, each a small header and its bytes, read and written in
 * constant memory. It carries no integrity of its own: the envelope around it authenticates every
 * byte, its order and its end. The decoder still refuses anything a sound encoder never writes
 * (unsafe paths, oversized headers, a missing end marker), so a bug cannot write outside the target.
 *
 * ```text
 * archive = "MBAK" ‖ 0x01 ‖ entry* ‖ 0x00
 * entry   = 0x01 ‖ uint16_be(len(path)) ‖ path (UTF-8) ‖ uint32_be(mode) ‖ uint64_be(size) ‖ bytes(size)
 * ```
 */
import { open, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { BackupError } from './errors.js';
import { READ_SIZE } from './constants.js';

const MAGIC = new Uint8Array([0x4d, 0x42, 0x41, 0x4b, 0x01]);
const ENTRY = 0x01;
const END = 0x00;
const MAX_PATH = 1024;

/** One file of a snapshot: where it goes in the archive and how to read it. */
export interface ArchiveFile {
  /** Relative path with `/` separators, e.g. `data/keys` or `config/config.yaml`. */
  readonly path: string;
  readonly mode: number;
  readonly size: number;
  /** The file's bytes, in pieces; must yield exactly `size` bytes. */
  read(): AsyncIterable<Uint8Array>;
}

/** True for a relative path of plain segments (no `..`, `.`, empty segments or backslashes). */
export function isSafeArchivePath(path: string): boolean {
  if (typeof path !== 'string' || path.length === 0 || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

function entryHeader(file: ArchiveFile): Uint8Array {
  const path = new TextEncoder().encode(file.path);
  if (!isSafeArchivePath(file.path) || path.length > MAX_PATH) throw new BackupError('INVALID_ARGUMENT', `unsafe archive path ${JSON.stringify(file.path)}`);
  const header = new Uint8Array(1 + 2 + path.length + 4 + 8);
  const view = new DataView(header.buffer);
  header[0] = ENTRY;
  view.setUint16(1, path.length);
  header.set(path, 3);
  view.setUint32(3 + path.length, file.mode & 0o7777);
  view.setBigUint64(7 + path.length, BigInt(file.size));
  return header;
}

/** Encodes `files` as an archive, yielding pieces of at most a few hundred KiB. */
export async function* packArchive(files: AsyncIterable<ArchiveFile> | Iterable<ArchiveFile>): AsyncGenerator<Uint8Array> {
  yield MAGIC.slice();
  for await (const file of files) {
    yield entryHeader(file);
    let written = 0;
    for await (const piece of file.read()) {
      written += piece.length;
      if (written > file.size) throw new BackupError('INVALID_ARGUMENT', `${file.path} grew while it was archived`);
      yield piece;
    }
    if (written !== file.size) throw new BackupError('INVALID_ARGUMENT', `${file.path} shrank while it was archived`);
  }
  yield new Uint8Array([END]);
}

/** Reads exact byte counts from a stream of pieces of any size. */
class ByteReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  #current: Uint8Array = new Uint8Array(0);
  #offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    while (this.#offset >= this.#current.length) {
      const next = await this.#iterator.next();
      if (next.done === true) return false;
      this.#current = next.value;
      this.#offset = 0;
    }
    return true;
  }

  /** Exactly `length` bytes, or `TRUNCATED`. */
  async exact(length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      if (!(await this.#fill())) throw new BackupError('TRUNCATED', 'the archive ends in the middle of an entry');
      const take = Math.min(length - filled, this.#current.length - this.#offset);
      out.set(this.#current.subarray(this.#offset, this.#offset + take), filled);
      this.#offset += take;
      filled += take;
    }
    return out;
  }

  /** Up to `max` bytes (at least one), without copying when possible; `TRUNCATED` at the end. */
  async some(max: number): Promise<Uint8Array> {
    if (!(await this.#fill())) throw new BackupError('TRUNCATED', 'the archive ends in the middle of a file');
    const take = Math.min(max, this.#current.length - this.#offset);
    const out = this.#current.subarray(this.#offset, this.#offset + take);
    this.#offset += take;
    return out;
  }

  /** True when nothing follows. */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }
}

/** Where an unpacked file goes: a path under one of the target directories, or `undefined` to skip it. */
export type ArchiveTarget = (path: string) => string | undefined;

/** What {@link unpackArchive} wrote. */
export interface UnpackedArchive {
  readonly files: number;
  readonly bytes: number;
}

/**
 * Writes the files of an archive stream where `target` says, one piece at a time. Throws
 * `MALFORMED` / `TRUNCATED` for a bad archive; the caller unpacks into a staging directory and
 * removes it on error, so nothing live is touched.
 */
export async function unpackArchive(source: AsyncIterable<Uint8Array>, target: ArchiveTarget): Promise<UnpackedArchive> {
  const reader = new ByteReader(source);
  const magic = await reader.exact(MAGIC.length);
  if (!MAGIC.every((byte, i) => magic[i] === byte)) throw new BackupError('MALFORMED', 'not a Milagro backup archive (version 1)');
  let files = 0;
  let bytes = 0;
  const seen = new Set<string>();
  for (;;) {
    const [kind] = await reader.exact(1);
    if (kind === END) break;
    if (kind !== ENTRY) throw new BackupError('MALFORMED', 'unknown archive entry kind');
    const pathLength = new DataView((await reader.exact(2)).buffer).getUint16(0);
    if (pathLength === 0 || pathLength > MAX_PATH) throw new BackupError('MALFORMED', 'archive path length out of range');
    let path: string;
    try {
      path = new TextDecoder('utf-8', { fatal: true }).decode(await reader.exact(pathLength));
    } catch (cause) {
      throw new BackupError('MALFORMED', 'archive path is not UTF-8', { cause });
    }
    if (!isSafeArchivePath(path) || seen.has(path)) throw new BackupError('MALFORMED', `unsafe or repeated archive path ${JSON.stringify(path)}`);
    seen.add(path);
    const meta = new DataView((await reader.exact(12)).buffer);
    const mode = meta.getUint32(0) & 0o777;
    const size = meta.getBigUint64(4);
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new BackupError('MALFORMED', 'archive entry too large');
    let remaining = Number(size);
    const destination = target(path);
    const handle = destination === undefined ? undefined : await createFile(destination, mode);
    // One write in flight while the next piece is decrypted; positional, so order does not matter.
    let writing: Promise<unknown> = Promise.resolve();
    try {
      let position = 0;
      while (remaining > 0) {
        const piece = await reader.some(Math.min(remaining, READ_SIZE));
        remaining -= piece.length;
        if (handle !== undefined) {
          await writing;
          writing = handle.write(piece, 0, piece.length, position);
        }
        position += piece.length;
      }
      await writing;
      if (handle !== undefined) await handle.sync();
    } finally {
      await writing.catch(() => undefined);
      await handle?.close();
    }
    files++;
    bytes += Number(size);
  }
  if (!(await reader.atEnd())) throw new BackupError('MALFORMED', 'bytes after the end of the archive');
  return { files, bytes };
}

async function createFile(path: string, mode: number): Promise<FileHandle> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  return open(path, 'wx', mode === 0 ? 0o600 : mode);
}

/** `root` joined with an archive path (already checked safe). */
export function underRoot(root: string, relative: string): string {
  return join(root, ...relative.split('/')).split('/').join(sep);
}
