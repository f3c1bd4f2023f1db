/**
 * Load test of @milagro/messaging between real nodes: N sender processes and one receiver process
 * (tools/load/messaging-load-peer.ts: embedded Helia, light composition, TCP on loopback, a private
 * swarm key, file journals), each sender keeping up to `--window` messages unacknowledged, for a
 * duration or a message count. Measures messages/s delivered to the receiver's application, the
 * end-to-end latency (send call → the receiver's application has it) and the acknowledgement latency
 * (send call → the signed acknowledgement is back at the sender), and checks that every message
 * reached the application exactly once and in order per sender: exits 1 otherwise.
 *
 * The nodes run the packages from their sources, as the tests do (no build needed):
 *   npm run load:messaging -- [--senders 4] [--duration 20 | --messages 500] [--size 256] [--window 32]
 * Results go to bench-results/load.json, so `npm run bench` lists them in docs/benchmarks.md.
 * `--inject-duplicate` makes the receiver's application count one message twice: the check must fail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateSwarmKey } from '@milagro/ipfs';
import { killAllPeers, spawnPeer, waitFor, type PeerProcess } from '../jest/peer-process.js';
import { checkDeliveries, type SenderRecord } from './delivery-check.js';
import { loadAverage, writeLoadFigures } from './load-results.js';

const { values: args } = parseArgs({
  options: {
    senders: { type: 'string', default: '4' },
    duration: { type: 'string' },
    messages: { type: 'string' },
    size: { type: 'string', default: '256' },
    window: { type: 'string', default: '32' },
    'inject-duplicate': { type: 'boolean', default: false },
  },
});
const senderCount = Number(args.senders);
const size = Number(args.size);
const window = Number(args.window);
const messages = args.messages === undefined ? undefined : Number(args.messages);
const durationS = messages === undefined ? Number(args.duration ?? '20') : undefined;
for (const [name, value] of Object.entries({ senders: senderCount, size, window, messages: messages ?? 1, duration: durationS ?? 1 })) {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
}
const PEER_ENTRY = join(import.meta.dirname, 'messaging-load-peer.ts');

interface SendResult {
  readonly sent: number;
  readonly sendMs: number[];
  readonly ackMs: number[];
  readonly startedNs: string;
  readonly reannounced: number;
}
interface Report {
  readonly deliveries: Array<[number, number, number, string]>;
  readonly lastDeliveryNs: string;
  readonly stats: { readonly duplicates: number };
}

/** The nearest-rank `p`-th percentile of `values`. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}

const root = mkdtempSync(join(tmpdir(), 'milagro-load-messaging-'));
const peers: PeerProcess[] = [];
let failed = false;
try {
  const swarmKey = generateSwarmKey();
  const receiver = await spawnPeer({ entry: PEER_ENTRY, config: { role: 'receiver', dataDir: join(root, 'receiver'), swarmKey, injectDuplicate: args['inject-duplicate'] } });
  peers.push(receiver);
  const to = String(receiver.ready['id']);
  const senders = await Promise.all(
    Array.from({ length: senderCount }, (_, index) => spawnPeer({ entry: PEER_ENTRY, config: { role: 'sender', index, dataDir: join(root, `sender-${index}`), swarmKey, peers: receiver.ready['addrs'] } })),
  );
  peers.push(...senders);

  // Message 1 of each sender waits for the gossipsub mesh and the identity look-ups: not measured.
  await Promise.all(senders.map((sender) => sender.request('send', { to, count: 1, from: 1, size, window: 1 }, 180_000)));
  await waitFor('the warm-up messages at the receiver', async () => (await receiver.request<number>('delivered')) >= senderCount, 60_000, 200);

  const loadBefore = loadAverage();
  console.log(`messaging load: ${senderCount} sender${senderCount === 1 ? '' : 's'} → 1 receiver, ${messages === undefined ? `${durationS} s` : `${messages} messages each`}, ${size} B bodies, window ${window}; load ${loadBefore}`);
  const results = await Promise.all(
    senders.map((sender) =>
      sender.request<SendResult>('send', { to, from: 2, size, window, ...(messages === undefined ? { durationMs: durationS! * 1000 } : { count: messages }) }, 30 * 60_000),
    ),
  );
  const records: SenderRecord[] = results.map((result, index) => ({ identity: String(senders[index]!.ready['id']), count: result.sent + 1 }));
  const expected = records.reduce((sum, record) => sum + record.count, 0);
  // Acknowledged means journaled at the receiver; its application reads the journal right after.
  await waitFor('every acknowledged message at the receiver', async () => (await receiver.request<number>('delivered')) >= expected, 120_000, 500).catch(() => undefined);
  const report = await receiver.request<Report>('report', {}, 120_000);

  const measured = report.deliveries.filter(([, number]) => number > 1);
  const startedNs = results.map((result) => BigInt(result.startedNs)).reduce((a, b) => (a < b ? a : b));
  const seconds = Number(BigInt(report.lastDeliveryNs) - startedNs) / 1e9;
  const perSecond = measured.length / seconds;
  const endToEnd = measured.map(([, , latency]) => latency);
  const acks = results.flatMap((result) => result.ackMs);
  const sendCalls = results.flatMap((result) => result.sendMs);
  const problems = checkDeliveries(
    records,
    report.deliveries.map(([sender, number, , from]) => ({ sender, number, from })),
  );
  console.table({
    'delivered messages/s': perSecond.toFixed(1),
    delivered: measured.length,
    'sent per sender': results.map((r) => r.sent).join(' / '),
    'end-to-end p50 / p99 ms': `${percentile(endToEnd, 50).toFixed(1)} / ${percentile(endToEnd, 99).toFixed(1)}`,
    'acknowledgement p50 / p99 ms': `${percentile(acks, 50).toFixed(1)} / ${percentile(acks, 99).toFixed(1)}`,
    'send call p50 / p99 ms': `${percentile(sendCalls, 50).toFixed(1)} / ${percentile(sendCalls, 99).toFixed(1)}`,
    'announcements repeated / duplicates at the receiver': `${results.reduce((sum, r) => sum + r.reannounced, 0)} / ${report.stats.duplicates}`,
    'exactly once, in order': problems.length === 0 ? 'yes' : `NO (${problems.length} problems)`,
  });
  if (problems.length > 0) {
    failed = true;
    console.error(`messaging load: delivery was not exactly once and in order per sender:\n  ${problems.join('\n  ')}`);
  } else if (!args['inject-duplicate']) {
    const name = `Messaging, ${senderCount} sender${senderCount === 1 ? '' : 's'} → 1 receiver, ${size} B bodies, window ${window}, embedded Helia on TCP loopback, file journals`;
    const written = writeLoadFigures(
      [
        { case: `${name}: delivered messages/s`, unit: 'messages/s', median: perSecond, p99: null, samples: measured.length },
        { case: `${name}: end-to-end latency (send call → receiver's application)`, unit: 'ms', median: percentile(endToEnd, 50), p99: percentile(endToEnd, 99), samples: endToEnd.length },
        { case: `${name}: acknowledgement latency (send call → signed acknowledgement)`, unit: 'ms', median: percentile(acks, 50), p99: percentile(acks, 99), samples: acks.length },
      ],
      loadBefore,
    );
    console.log(`written to ${written}`);
  }
} finally {
  await Promise.all(peers.map((peer) => peer.request('stop', {}, 10_000).then(() => Promise.race([peer.exited, new Promise((resolve) => setTimeout(resolve, 10_000))])).catch(() => undefined)));
  for (const peer of peers) peer.kill();
  killAllPeers();
  await Promise.all(peers.map((peer) => peer.exited));
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}
process.exitCode = failed ? 1 : 0;
