/**
 * A node stopped gracefully and started again on the same data dir (same peer id, a new port) must
 * be fetched from by the peers it redials. libp2p redials the peers kept in its datastore while it
 * starts, before Helia registers Bitswap, so the first identify says "no Bitswap"; only identify
 * push tells the peers otherwise. Without it the peer in this test waited minutes (seen in a
 * reproduction: 120 s without an answer, every time). Nodes run in separate processes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllPeers, spawnPeer, waitFor, type PeerProcess } from '../../../tools/jest/peer-process.js';

const ENTRY = join(__dirname, 'support', 'helia-peer.ts');
const peerId = (peer: PeerProcess): string => String(peer.ready['peerId']);
const addrs = (peer: PeerProcess): string[] => peer.ready['addrs'] as string[];
const b64 = (text: string): string => Buffer.from(text).toString('base64');

jest.setTimeout(180_000);

const dirs: string[] = [];
afterAll(async () => {
  killAllPeers();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })));
});

it('after a graceful restart, the peer it redials fetches its new blocks over Bitswap', async () => {
  for (let i = 0; i < 2; i++) dirs.push(await mkdtemp(join(tmpdir(), 'milagro-peer-restart-')));
  const hub = await spawnPeer({ entry: ENTRY, config: { dataDir: dirs[0] } });
  const config = { dataDir: dirs[1], peers: addrs(hub) };
  let node = await spawnPeer({ entry: ENTRY, config });
  await waitFor('the node connected to the hub', async () => (await hub.request<string[]>('connected')).includes(peerId(node)), 60_000);
  const before = await node.request<string>('put', { data: b64('before the restart') });
  expect(await hub.request<string>('get', { cid: before, timeoutMs: 60_000 }, 90_000)).toBe(b64('before the restart'));

  await node.request('stop');
  await node.exited;
  node = await spawnPeer({ entry: ENTRY, config });
  const after = await node.request<string>('put', { data: b64('after the restart') });
  // Generous for a loaded machine; without identify push this waits for minutes.
  expect(await hub.request<string>('get', { cid: after, timeoutMs: 60_000 }, 90_000)).toBe(b64('after the restart'));
});
