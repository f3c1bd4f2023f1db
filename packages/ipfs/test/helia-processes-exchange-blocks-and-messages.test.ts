/**
 * Two embedded nodes in SEPARATE OS processes (Node 24 children, see support/helia-peer.ts):
 * a block put on one is fetched by the other over Bitswap, and gossipsub messages cross both ways.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllPeers, spawnPeer, waitFor, type PeerProcess } from '../../../tools/jest/peer-process.js';

const ENTRY = join(__dirname, 'support', 'helia-peer.ts');
const peerId = (peer: PeerProcess): string => String(peer.ready['peerId']);
const addrs = (peer: PeerProcess): string[] => peer.ready['addrs'] as string[];
const isMessage = (data: string) => (event: { event: string; data?: unknown }) => event.event === 'message' && event.data === data;

jest.setTimeout(90_000);

let a: PeerProcess;
let b: PeerProcess;
const dirs: string[] = [];

beforeAll(async () => {
  for (let i = 0; i < 2; i++) dirs.push(await mkdtemp(join(tmpdir(), 'milagro-peer-')));
  a = await spawnPeer({ entry: ENTRY, config: { dataDir: dirs[0] } });
  b = await spawnPeer({ entry: ENTRY, config: { dataDir: dirs[1], peers: addrs(a) } });
  await waitFor('b connected to a', async () => (await b.request<string[]>('connected')).includes(peerId(a)));
}, 150_000);

afterAll(async () => {
  killAllPeers();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })));
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
  await waitFor('a sees b on topic', async () => (await a.request<string[]>('peers', { topic })).includes(peerId(b)));
  await waitFor('b sees a on topic', async () => (await b.request<string[]>('peers', { topic })).includes(peerId(a)));

  await a.request('publish', { topic, data: b64('hello from A') });
  const atB = await b.nextEvent(isMessage(b64('hello from A')));
  expect(atB.from).toBe(peerId(a));

  await b.request('publish', { topic, data: b64('hello from B') });
  const atA = await a.nextEvent(isMessage(b64('hello from B')));
  expect(atA.from).toBe(peerId(b));
});
