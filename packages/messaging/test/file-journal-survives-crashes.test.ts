/**
 * FileJournal keeps what was appended across reopenings, cuts off a record torn by a crash, and
 * refuses damage that a crash cannot explain (a bad record followed by good ones).
 */
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { FileJournal, isMessagingError, type JournalRecord } from '../src/index.js';

const cid = CID.parse('bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae');
const peer = cid.toString();
const records: JournalRecord[] = [
  { k: 'sent', to: peer, cid, seq: 1 },
  { k: 'acked', to: peer, cid },
  // Without `chain`: as journals wrote it before senders could have several chains.
  { k: 'received', from: peer, cid, seq: 1, position: 1 },
  { k: 'received', from: peer, cid, seq: 2, position: 2, chain: cid },
  { k: 'chains-closed' },
  { k: 'consumed', position: 1 },
];

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'milagro-journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

async function reopen(path: string): Promise<JournalRecord[]> {
  const journal = new FileJournal({ path });
  try {
    return await journal.load();
  } finally {
    await journal.close();
  }
}

it('reads back every record, in order, after reopening', async () => {
  const path = join(dir, 'journal');
  const journal = new FileJournal({ path });
  expect(await journal.load()).toEqual([]);
  await journal.append(records.slice(0, 2));
  await journal.append(records.slice(2));
  await journal.close();
  expect(await reopen(path)).toEqual(records);
  expect((await stat(path)).mode & 0o777).toBe(0o600);
});

it('cuts off a record torn by a crash, and appends after it cleanly', async () => {
  const path = join(dir, 'journal');
  const journal = new FileJournal({ path });
  await journal.append(records);
  await journal.close();
  const whole = await readFile(path);
  for (const cut of [1, 5, 9, 20]) {
    await writeFile(path, whole.subarray(0, whole.length - cut));
    const survivors = await reopen(path);
    expect(survivors).toEqual(records.slice(0, -1));
  }
  // The torn tail is gone from the file, so new records follow the last whole one.
  const again = new FileJournal({ path });
  await again.load();
  await again.append([records.at(-1)!]);
  await again.close();
  expect(await reopen(path)).toEqual(records);
});

it('refuses a damaged record that is followed by more records', async () => {
  const path = join(dir, 'journal');
  const journal = new FileJournal({ path });
  await journal.append(records);
  await journal.close();
  const bytes = await readFile(path);
  bytes[12] = bytes[12]! ^ 0x01; // inside the first record's payload
  await writeFile(path, bytes);
  const error = await reopen(path).catch((e: unknown) => e);
  expect(isMessagingError(error, 'JOURNAL_FAILED')).toBe(true);
});

it('refuses a well-framed record that is not a journal record', async () => {
  const path = join(dir, 'journal');
  const payload = Buffer.from([0xa1, 0x61, 0x6b, 0x63, 0x66, 0x6f, 0x6f]); // {"k":"foo"}
  const { crc32 } = await import('node:zlib');
  const header = Buffer.alloc(8);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32(payload), 4);
  await appendFile(path, Buffer.concat([header, payload]));
  const error = await reopen(path).catch((e: unknown) => e);
  expect(isMessagingError(error, 'JOURNAL_FAILED')).toBe(true);
});

it('fails closed once closed', async () => {
  const journal = new FileJournal({ path: join(dir, 'journal') });
  await journal.close();
  const error = await journal.append(records).catch((e: unknown) => e);
  expect(isMessagingError(error, 'CLOSED')).toBe(true);
  expect(() => new FileJournal({ path: '' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
});
