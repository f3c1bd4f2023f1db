/**
 * Two embedded nodes in SEPARATE OS processes (Node 24 children, see support/helia-peer.ts):
 * a block put on one is fetched by the other over Bitswap, and gossipsub messages cross both ways.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllPeers, spawnPeer, waitFor } from './support/peer-process.js';
import type { PeerProcess } from './support/peer-process.js';

jest.setTimeout(90_000);

let a: PeerProcess;
let b: PeerProcess;
const dirs: string[] = [];

beforeAll(async () => {
  for (let i = 0; i < 2; i++) dirs.push(await mkdtemp(join(tmpdir(), 'milagro-peer-')));
  a = await spawnPeer({ dataDir: dirs[0] });
  b = await spawnPeer({ dataDir: dirs[1], peers: a.addrs });
  await waitFor('b connected to a', async () => (await b.request<string[]>('connected')).includes(a.peerId));
}, 150_000);

afterAll(async () => {
  killAllPeers();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const b64 = (text: string): string => Buffer.from(text).toString('base64');

it('a block put in one process is fetched by the other over Bitswap, both ways', async () => {
  const fromA = await a.request<string>('put', { data: b64('block from A') });
  expect(await b.request<string>('get', { cid: fromA })).toBe(b64('block from A'));
  const fromB = await b.request<string>('put', { data: b64('block from B') });
  expect(await a.request<string>('get', { cid: fromB })).toBe(b64('block from B'));
});

it('gossipsub messages cross between the processes in both directions', async () => {
  const topic = 'milagro-interop-helia';
  await a.request('subscribe', { topic });
  await b.request('subscribe', { topic });
  // The mesh forms only once each side has seen the other's subscription.
  await waitFor('a sees b on topic', async () => (await a.request<string[]>('peers', { topic })).includes(b.peerId));
  await waitFor('b sees a on topic', async () => (await b.request<string[]>('peers', { topic })).includes(a.peerId));

  await a.request('publish', { topic, data: b64('hello from A') });
  const atB = await b.nextMessage((message) => message.data === b64('hello from A'));
  expect(atB.from).toBe(a.peerId);

  await b.request('publish', { topic, data: b64('hello from B') });
  const atA = await a.nextMessage((message) => message.data === b64('hello from B'));
  expect(atA.from).toBe(b.peerId);
});
