// A child process holding its own connection to a shared SQLite file, for the multi-process and
// crash tests. Config (MILAGRO_PEER_CONFIG): { path }. Ops:
//   migrate                  applies PEER_MIGRATIONS
//   increment { count }      `count` read-modify-write transactions on the shared counter
//   commit { from, count }   one transaction per id: a row in `a` and one in `b`; event `committed` after each
//   hold { rows, bytes }     opens a transaction, inserts large rows, answers, and never ends it
import { openSqliteDatabase, type SqlDatabase } from '@milagro/storage';
import { emit, servePeer, type PeerCommand } from '../../../../tools/jest/peer-protocol.js';
import { PEER_MIGRATIONS } from './peer-migrations.js';


const { path } = JSON.parse(process.env['MILAGRO_PEER_CONFIG'] ?? '{}') as { path: string };
const db: SqlDatabase = await openSqliteDatabase({ path, busyTimeoutMs: 60_000 });
const name = `pid-${process.pid}`;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function run(command: PeerCommand): Promise<unknown> {
  switch (command.op) {
    case 'migrate':
      await db.migrate('peer', PEER_MIGRATIONS);
      return null;
    case 'increment': {
      for (let seq = 0; seq < Number(command['count']); seq++) {
        await db.transaction(async (tx) => {
          const row = await tx.get<{ value: number }>('SELECT value FROM counter');
          await turn(); // let the other process try to get in between the read and the write
          await tx.run('UPDATE counter SET value = ?', [row!.value + 1]);
          await tx.run('INSERT INTO writes (peer, seq) VALUES (?, ?)', [name, seq]);
        });
      }
      return null;
    }
    case 'commit': {
      const from = Number(command['from']);
      for (let id = from; id < from + Number(command['count']); id++) {
        await db.transaction(async (tx) => {
          await tx.run('INSERT INTO a (id) VALUES (?)', [id]);
          await tx.run('INSERT INTO b (id, payload) VALUES (?, ?)', [id, new Uint8Array(512).fill(id & 0xff)]);
        });
        emit({ event: 'committed', id });
      }
      return null;
    }
    case 'hold': {
      const inside = new Promise<void>((resolve) => {
        void db.transaction(async (tx) => {
          for (let id = 0; id < Number(command['rows']); id++) {
            await tx.run('INSERT INTO held (id, payload) VALUES (?, ?)', [id, new Uint8Array(Number(command['bytes'])).fill(0xa5)]);
          }
          resolve();
          await new Promise(() => undefined); // never commits: the parent kills this process here
        });
      });
      await inside;
      return null;
    }
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

servePeer({ pid: process.pid }, run, () => db.close());
