/**
 * The acceptance test, with three real processes: senders A and B each send 500 messages
 * to receiver R; R is SIGKILLed mid-stream and restarted on the same data directory. Every message
 * reaches R's application exactly once and in per-sender order, every send is acknowledged, and
 * neither a replayed nor a forged announcement adds anything.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSwarmKey } from '@milagro/ipfs';
import { killAllPeers, spawnPeer, waitFor, type PeerProcess } from '../../../tools/jest/peer-process.js';

// 1,000 messages cost about a minute of CPU on a quiet 2-core machine; this VM's slow phases run
// 10-40x slower (the whole test took 12 minutes in one, with SHA-256 at 100 MB/s), so the limits are
// generous: they bound a hang, not the expected time. MILAGRO_PEER_TRACE=1 makes each process log its
// counters to <dataDir>/trace.log every 2 s.
jest.setTimeout(50 * 60_000);
const PATIENCE_MS = 30 * 60_000;

const ENTRY = join(__dirname, 'support', 'messaging-peer.ts');
const PER_SENDER = 500;
/** A child imports every package from TypeScript sources: slow on a busy 2-core machine. */
const STARTUP_MS = 180_000;

interface Line {
  position: number;
  from: string;
  seq: number;
  cid: string;
  body: string;
}

let dirs: string[] = [];

afterAll(async () => {
  killAllPeers();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })));
});

async function deliveredLines(dataDir: string): Promise<Line[]> {
  const text = await readFile(join(dataDir, 'delivered.log'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as Line);
}

it('1,000 messages from two senders survive a SIGKILL of the receiver: exactly once, in order, all acknowledged', async () => {
  dirs = await Promise.all(['r', 'a', 'b'].map((name) => mkdtemp(join(tmpdir(), `milagro-messaging-${name}-`))));
  const [rDir, aDir, bDir] = dirs as [string, string, string];
  const swarmKey = generateSwarmKey();
  let r: PeerProcess = await spawnPeer({ entry: ENTRY, config: { dataDir: rDir, swarmKey }, timeoutMs: STARTUP_MS });
  const rAddrs = r.ready['addrs'] as string[];
  const [a, b] = await Promise.all([aDir, bDir].map((dataDir) => spawnPeer({ entry: ENTRY, config: { dataDir, swarmKey, peers: rAddrs }, timeoutMs: STARTUP_MS })));
  const rId = String(r.ready['id']);
  const senders = new Map([
    [String(a!.ready['id']), 'A'],
    [String(b!.ready['id']), 'B'],
  ]);

  const rPeer = String(r.ready['peerId']);
  for (const sender of [a!, b!]) await waitFor('the senders to connect to R', async () => (await sender.request<string[]>('connected')).includes(rPeer), 60_000);
  const sending = Promise.all([
    a!.request('send-many', { to: rId, count: PER_SENDER, prefix: 'A-' }, PATIENCE_MS),
    b!.request('send-many', { to: rId, count: PER_SENDER, prefix: 'B-' }, PATIENCE_MS),
  ]);
  // Kill the receiver once a good part of the stream has reached its application, and restart it.
  await waitFor('250 deliveries before the kill', async () => (await deliveredLines(rDir)).length >= 250, PATIENCE_MS);
  r.kill();
  await r.exited;
  expect((await deliveredLines(rDir)).length).toBeLessThan(2 * PER_SENDER);
  r = await spawnPeer({ entry: ENTRY, config: { dataDir: rDir, swarmKey, peers: [...(a!.ready['addrs'] as string[]), ...(b!.ready['addrs'] as string[])] }, timeoutMs: STARTUP_MS });
  expect(r.ready['id']).toBe(rId); // the same identity after the restart
  await sending;

  await waitFor('all 1,000 deliveries', async () => (await deliveredLines(rDir)).length >= 2 * PER_SENDER, PATIENCE_MS);
  await Promise.all([a!, b!].map((sender) => sender.nextEvent((event) => event.event === 'acked', PATIENCE_MS)));

  // Replayed and forged announcements change nothing.
  const firstFromA = (await deliveredLines(rDir)).find((line) => line.from === String(a!.ready['id']));
  const duplicatesBefore = (await r.request<{ duplicates: number }>('stats')).duplicates;
  await a!.request('replay', { to: rId, cid: firstFromA!.cid });
  await a!.request('forge', { to: rId, claimFrom: String(b!.ready['id']), claimHead: String(b!.ready['head']) });
  await waitFor(
    'the replay and the forgery to be seen',
    async () => {
      const stats = await r.request<{ duplicates: number; rejected: Record<string, number> }>('stats');
      return stats.duplicates > duplicatesBefore && (stats.rejected['bad-signature'] ?? 0) >= 1;
    },
    PATIENCE_MS,
  );

  const lines = await deliveredLines(rDir);
  expect(lines).toHaveLength(2 * PER_SENDER);
  expect(lines.map((line) => line.position)).toEqual(Array.from({ length: 2 * PER_SENDER }, (_, i) => i + 1));
  for (const [id, name] of senders) {
    const fromSender = lines.filter((line) => line.from === id);
    expect(fromSender.map((line) => line.seq)).toEqual(Array.from({ length: PER_SENDER }, (_, i) => i + 1));
    expect(fromSender.map((line) => line.body)).toEqual(Array.from({ length: PER_SENDER }, (_, i) => `${name}-${i + 1}`));
  }
  expect(lines.some((line) => line.body === 'forged')).toBe(false);
});
