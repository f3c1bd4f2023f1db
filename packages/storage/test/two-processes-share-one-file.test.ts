// Two OS processes, each with its own connection, migrate the same new file at the same moment
// and then race read-modify-write transactions on it: every migration step runs once and no
// update is lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteDatabase } from '@milagro/storage';
import { killAllPeers, spawnPeer } from '../../../tools/jest/peer-process';
import { PEER_MIGRATIONS } from './support/peer-migrations';

const PEER = join(__dirname, 'support', 'sqlite-peer.ts');
const INCREMENTS = 60;

let directory: string;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'milagro-storage-2p-'));
});
afterAll(() => {
  killAllPeers();
  rmSync(directory, { recursive: true, force: true });
});

test('two processes migrate and write one file concurrently: each step once, no lost update', async () => {
  const path = join(directory, 'shared.sqlite');
  const peers = await Promise.all([spawnPeer({ entry: PEER, config: { path } }), spawnPeer({ entry: PEER, config: { path } })]);
  await Promise.all(peers.map((peer) => peer.request('migrate')));
  await Promise.all(peers.map((peer) => peer.request('increment', { count: INCREMENTS }, 120_000)));

  const db = await openSqliteDatabase({ path });
  await db.migrate('peer', PEER_MIGRATIONS); // already applied: a no-op
  expect(await db.all('SELECT version FROM milagro_migrations WHERE namespace = ? ORDER BY version', ['peer'])).toEqual([
    { version: 1 },
    { version: 2 },
    { version: 3 },
  ]);
  expect(await db.all('SELECT version FROM effects ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }]);
  expect(await db.get('SELECT value FROM counter')).toEqual({ value: 2 * INCREMENTS });
  expect(await db.all('SELECT peer, COUNT(*) AS n FROM writes GROUP BY peer ORDER BY peer')).toEqual(
    peers.map((peer) => ({ peer: `pid-${peer.pid}`, n: INCREMENTS })).sort((x, y) => x.peer.localeCompare(y.peer)),
  );
  expect(await db.get('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
  await db.close();
  for (const peer of peers) peer.kill();
});
