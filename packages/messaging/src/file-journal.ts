/**
 * A {@link MessagingJournal} in one append-only file, fsynced on every append.
 *
 * Frame: length (u32 BE) ‖ CRC-32 of the payload (u32 BE) ‖ payload (DAG-CBOR record). A crash can
 * leave only the last frame incomplete; `load` cuts such a torn tail off. A damaged frame that is
 * followed by more data is corruption, not a torn write, and is refused.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { MessagingError } from './errors.js';
import { parseRecord, recordValue, type JournalRecord, type MessagingJournal } from './journal.js';

const FRAME_HEADER = 8;
/** A record is a few hundred bytes; anything claiming more is damage. */
const MAX_RECORD_BYTES = 64 * 1024;

/** Options of {@link FileJournal}. */
export interface FileJournalOptions {
  /** The journal file; created when missing. Give each messenger its own. */
  readonly path: string;
}

/** The default journal of a Node messenger. */
export class FileJournal implements MessagingJournal {
  readonly #path: string;
  #handle: FileHandle | undefined;
  #closed = false;

  constructor(options: FileJournalOptions) {
    if (typeof options?.path !== 'string' || options.path.length === 0) throw new MessagingError('INVALID_ARGUMENT', 'FileJournal needs a path');
    this.#path = options.path;
  }

  async load(): Promise<JournalRecord[]> {
    const handle = await this.#open();
    const bytes = await failing('reading the journal', () => handle.readFile());
    const records: JournalRecord[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      const frame = readFrame(bytes, offset);
      if (frame === 'torn') {
        await failing('cutting off a torn record', async () => {
          await handle.truncate(offset);
          await handle.sync();
        });
        break;
      }
      records.push(frame.record);
      offset = frame.end;
    }
    return records;
  }

  async append(records: readonly JournalRecord[]): Promise<void> {
    if (records.length === 0) return;
    const handle = await this.#open();
    const frames = records.map((record) => {
      const payload = dagCbor.encode(recordValue(record));
      const frame = new Uint8Array(FRAME_HEADER + payload.length);
      const view = new DataView(frame.buffer);
      view.setUint32(0, payload.length);
      view.setUint32(4, crc32(payload));
      frame.set(payload, FRAME_HEADER);
      return frame;
    });
    await failing('appending to the journal', async () => {
      await handle.write(Buffer.concat(frames));
      await handle.datasync();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }

  async #open(): Promise<FileHandle> {
    if (this.#closed) throw new MessagingError('CLOSED', 'the journal is closed');
    this.#handle ??= await failing('opening the journal', () => open(this.#path, 'a+', 0o600));
    return this.#handle;
  }
}

/** The frame at `offset`, or 'torn' when the file ends inside it (or its last frame is damaged). */
function readFrame(bytes: Uint8Array, offset: number): { record: JournalRecord; end: number } | 'torn' {
  if (bytes.length - offset < FRAME_HEADER) return 'torn';
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, FRAME_HEADER);
  const length = view.getUint32(0);
  const end = offset + FRAME_HEADER + length;
  if (length > MAX_RECORD_BYTES) return corruptUnlessLast(bytes, end, offset);
  if (end > bytes.length) return 'torn';
  const payload = bytes.subarray(offset + FRAME_HEADER, end);
  if (crc32(payload) !== view.getUint32(4)) return corruptUnlessLast(bytes, end, offset);
  let record: JournalRecord | undefined;
  try {
    record = parseRecord(dagCbor.decode(payload));
  } catch {
    record = undefined;
  }
  if (record === undefined) throw new MessagingError('JOURNAL_FAILED', `journal record at byte ${offset} is not a valid record`);
  return { record, end };
}

function corruptUnlessLast(bytes: Uint8Array, end: number, offset: number): 'torn' {
  if (end < bytes.length) throw new MessagingError('JOURNAL_FAILED', `journal record at byte ${offset} is damaged and followed by more records`);
  return 'torn';
}

async function failing<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    if (cause instanceof MessagingError) throw cause;
    throw new MessagingError('JOURNAL_FAILED', `${what} failed`, { cause });
  }
}
