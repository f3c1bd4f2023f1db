// A process killed with SIGKILL: every transaction it saw commit is on disk, whole; the one it
// had open leaves no trace, even after its pages spilled into the WAL; and the file opens and
// takes writes at once (the dead process's lock is gone).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase } from '@milagro/storage';
import { killAllPeers, spawnPeer, type PeerProcess } from '../../../tools/jest/peer-process';
import { PEER_MIGRATIONS } from './support/peer-migrations';

const PEER = join(__dirname, 'support', 'sqlite-peer.ts');

let directory: string;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'milagro-storage-kill-'));
});
afterAll(() => {
  killAllPeers();
  rmSync(directory, { recursive: true, force: true });
});

async function startPeer(path: string): Promise<PeerProcess> {
  const peer = await spawnPeer({ entry: PEER, config: { path } });
  await peer.request('migrate');
  return peer;
}

async function reopenAfterCrash(path: string) {
  const db = await openSqliteDatabase({ path, busyTimeoutMs: 2_000 });
  await db.migrate('peer', PEER_MIGRATIONS);
  expect(await db.get('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
  return db;
}

test('killed inside a large open transaction: committed rows survive, the open one leaves no trace', async () => {
  const path = join(directory, 'held.sqlite');
  const peer = await startPeer(path);
  await peer.request('commit', { from: 1, count: 10 });
  // 16 MiB of uncommitted rows: far more than SQLite's page cache, so pages spill into the WAL.
  await peer.request('hold', { rows: 4096, bytes: 4096 }, 120_000);
  expect(statSync(`${path}-wal`).size).toBeGreaterThan(8 * 1024 * 1024);
  peer.kill();
  await peer.exited;

  const db = await reopenAfterCrash(path);
  expect(await db.get('SELECT COUNT(*) AS n FROM held')).toEqual({ n: 0 });
  expect(await db.all('SELECT id FROM a ORDER BY id')).toEqual(Array.from({ length: 10 }, (_, i) => ({ id: i + 1 })));
  expect(await db.get('SELECT COUNT(*) AS n FROM b')).toEqual({ n: 10 });
  // The dead process's write lock is gone: a write goes through within the short busy timeout.
  await db.transaction((tx) => tx.run('INSERT INTO held (id, payload) VALUES (?, ?)', [1, new Uint8Array(1)]));
  await db.close();
});

test('killed at an arbitrary moment while committing: every acknowledged commit is there, and every transaction is whole', async () => {
  const path = join(directory, 'racing.sqlite');
  const peer = await startPeer(path);
  void peer.request('commit', { from: 1, count: 1_000_000 }, 600_000).catch(() => undefined);
  let acknowledged = (await peer.nextEvent((event) => event.event === 'committed' && Number(event['id']) >= 25, 120_000))['id'] as number;
  peer.kill();
  await peer.exited;
  // Acknowledgements already read from the pipe before the kill count too.
  for (;;) {
    const later = await peer.nextEvent((event) => event.event === 'committed', 10).catch(() => undefined);
    if (later === undefined) break;
    acknowledged = Math.max(acknowledged, later['id'] as number);
  }

  const db = await reopenAfterCrash(path);
  const ids = (await db.all<{ id: number }>('SELECT id FROM a ORDER BY id')).map((row) => row.id);
  expect(ids.length).toBeGreaterThanOrEqual(acknowledged);
  expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1)); // no gaps: commits are ordered
  // Both rows of each transaction or neither.
  expect(await db.get('SELECT COUNT(*) AS n FROM b')).toEqual({ n: ids.length });
  expect(await db.get('SELECT COUNT(*) AS n FROM a JOIN b USING (id)')).toEqual({ n: ids.length });
  await db.close();
});
