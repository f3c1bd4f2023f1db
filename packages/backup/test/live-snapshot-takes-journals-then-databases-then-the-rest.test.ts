/**
 * A snapshot of a running node (docs/specs/backup.md §3): journals first (up to their size when
 * opened, so a record appended later is not in it), then the databases as transaction-consistent
 * copies taken while a writer holds the database open, then every other file, listed only after the
 * databases were copied, so a block written meanwhile (one a database row may name) is included.
 * Lock files, SQLite side files, temporary files and excluded paths are left out.
 */
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { snapshotFiles } from '../src/index.js';

it('archives journals, then databases, then the rest listed afterwards', async () => {
  const root = await mkdtemp(join(tmpdir(), 'milagro-backup-live-'));
  const dataDir = join(root, 'data');
  await mkdir(join(dataDir, 'ipfs', 'blocks'), { recursive: true });
  await writeFile(join(dataDir, 'keys'), 'key store');
  await writeFile(join(dataDir, 'keys.lock'), 'lock');
  await writeFile(join(dataDir, 'ipfs', 'blocks', '.early.data.tmp'), 'half-written block');
  await writeFile(join(dataDir, 'ipfs', 'blocks', 'early.data'), 'block');
  await writeFile(join(dataDir, 'messaging.journal'), 'record 1;');
  await writeFile(join(dataDir, 'milagro.run.json'), '{"pid":1}');
  // A live writer: the database is open (WAL) and holds an uncommitted transaction throughout.
  const writer = new DatabaseSync(join(dataDir, 'node.sqlite'));
  writer.exec('PRAGMA journal_mode = WAL; CREATE TABLE rows (id INTEGER PRIMARY KEY); INSERT INTO rows VALUES (1), (2)');
  writer.exec('BEGIN; INSERT INTO rows VALUES (3)');
  try {
    const seen: Array<{ path: string; text: string }> = [];
    for await (const file of snapshotFiles({ dataDir, exclude: (path) => path === 'milagro.run.json' })) {
      const pieces: Uint8Array[] = [];
      for await (const piece of file.read()) pieces.push(piece);
      const bytes = Buffer.concat(pieces);
      seen.push({ path: file.path, text: file.path.endsWith('.sqlite') ? '' : bytes.toString('utf8') });
      if (file.path === 'data/messaging.journal') await appendFile(join(dataDir, 'messaging.journal'), 'record 2;');
      if (file.path === 'data/node.sqlite') {
        // Written after the database copy, before the rest is listed: in the snapshot.
        await writeFile(join(dataDir, 'ipfs', 'blocks', 'late.data'), 'late block');
        await writeFile(join(root, 'copy.sqlite'), bytes);
        const check = new DatabaseSync(join(root, 'copy.sqlite'), { readOnly: true });
        expect(check.prepare('SELECT id FROM rows ORDER BY id').all().map((row) => row['id'])).toEqual([1, 2]);
        check.close();
      }
    }
    expect(seen.map((file) => file.path)).toEqual(['data/messaging.journal', 'data/node.sqlite', 'data/ipfs/blocks/early.data', 'data/ipfs/blocks/late.data', 'data/keys']);
    expect(seen[0]!.text).toBe('record 1;');
  } finally {
    writer.exec('ROLLBACK');
    writer.close();
    await rm(root, { recursive: true, force: true });
  }
});
