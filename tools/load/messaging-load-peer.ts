/**
 * One node of the messaging load harness (messaging-load.ts), in its own OS process, spoken to over
 * the peer protocol (tools/jest/peer-process.ts): an embedded Helia node (light composition, TCP on
 * loopback, private swarm key), a memory key store, a new identity, and a messenger with a file
 * journal, as a production node has.
 *
 * Sender (`send` op): sends `count` messages, or as many as it can for `durationMs`, keeping at most
 * `window` unacknowledged. Each body starts with a JSON line `{"s":sender,"i":n,"t":ns}` (n from 1;
 * t = process.hrtime at the send call: CLOCK_MONOTONIC, one clock for every process on the machine)
 * padded to `size` bytes. Answers with the count, per message the send-call and acknowledgement
 * times, and how many announcements the messenger repeated (no acknowledgement in time) since start.
 *
 * Receiver: its application reads the inbox, notes each message's sender, number and end-to-end
 * latency (send call → application), and marks it consumed. `report` answers with them in delivery
 * order. `injectDuplicate` (a test of the harness's check) makes the application note one message twice.
 *
 * Config (env MILAGRO_PEER_CONFIG): { role: 'sender' | 'receiver', dataDir, swarmKey, peers?, index?, injectDuplicate? }.
 */
import { join } from 'node:path';
import { bytesToUtf8, utf8ToBytes } from '@milagro/crypto';
import { createEmbeddedNode } from '@milagro/ipfs';
import { MemoryKeyStore } from '@milagro/keystore';
import { FileJournal, Messenger } from '@milagro/messaging';
import { createIdentity, IdentityResolver } from '@milagro/pki';
import { servePeer, type PeerCommand } from '../jest/peer-protocol.js';

interface PeerConfig {
  readonly role: 'sender' | 'receiver';
  readonly dataDir: string;
  readonly swarmKey: string;
  readonly peers?: string[];
  readonly index?: number;
  readonly injectDuplicate?: boolean;
}

const config = JSON.parse(process.env['MILAGRO_PEER_CONFIG'] ?? '{}') as PeerConfig;
const node = await createEmbeddedNode({ dataDir: join(config.dataDir, 'ipfs'), swarmKey: config.swarmKey, peers: config.peers ?? [] });
const keyStore = new MemoryKeyStore();
const identity = await createIdentity({ keyStore, store: node.store, labelPrefix: `${config.role}-${config.index ?? 0}` });
const messenger = await Messenger.start({
  identity,
  keyStore,
  store: node.store,
  pubsub: node.pubsub,
  resolver: new IdentityResolver({ store: node.store }),
  journal: new FileJournal({ path: join(config.dataDir, 'messaging.journal') }),
});
const now = (): bigint => process.hrtime.bigint();
const ms = (ns: bigint): number => Number(ns) / 1e6;

// --- receiver: the application ------------------------------------------------------------------
/** [sender index, message number, end-to-end latency in ms, sender identity] per delivered message. */
const deliveries: Array<[number, number, number, string]> = [];
let lastDeliveryNs = 0n;
if (config.role === 'receiver') {
  void (async () => {
    for await (const message of messenger.messages()) {
      const arrived = now();
      const text = bytesToUtf8(message.body.subarray(0, message.body.indexOf(10)));
      const header = JSON.parse(text) as { s: number; i: number; t: string };
      const delivery: [number, number, number, string] = [header.s, header.i, ms(arrived - BigInt(header.t)), message.from];
      deliveries.push(delivery);
      if (config.injectDuplicate === true && deliveries.length === 3) deliveries.push(delivery);
      lastDeliveryNs = arrived;
      await messenger.consumed(message.position);
    }
  })();
}

// --- sender -----------------------------------------------------------------------------------
async function send(command: PeerCommand): Promise<unknown> {
  const { to, count, durationMs, size, window, from } = command as unknown as { to: string; count?: number; durationMs?: number; size: number; window: number; from: number };
  const startedNs = now();
  const deadline = durationMs === undefined ? undefined : startedNs + BigInt(durationMs) * 1_000_000n;
  const sendMs: number[] = [];
  const ackMs: number[] = [];
  const acks: Array<Promise<void>> = [];
  let inFlight = 0;
  let freed: (() => void) | undefined;
  let i = from;
  for (; count === undefined ? now() < deadline! : i < from + count; i += 1) {
    while (inFlight >= window) await new Promise<void>((resolve) => (freed = resolve));
    const t = now();
    const header = utf8ToBytes(`${JSON.stringify({ s: config.index, i, t: t.toString() })}\n`);
    const body = new Uint8Array(Math.max(size, header.length));
    body.set(header);
    const sent = await messenger.send(to, { type: 'load/message', body });
    sendMs.push(ms(now() - t));
    inFlight += 1;
    acks.push(
      sent.acknowledged.then(() => {
        ackMs.push(ms(now() - t));
        inFlight -= 1;
        freed?.();
        freed = undefined;
      }),
    );
  }
  await Promise.all(acks);
  return { sent: i - from, sendMs, ackMs, startedNs: startedNs.toString(), reannounced: messenger.stats().reannounced };
}

async function run(command: PeerCommand): Promise<unknown> {
  switch (command.op) {
    case 'send':
      return send(command);
    case 'delivered':
      return deliveries.length;
    case 'report':
      return { deliveries, lastDeliveryNs: lastDeliveryNs.toString(), stats: messenger.stats() };
    case 'stop':
      // A clean exit (after the answer is written), so `node --cpu-prof` writes its profile.
      setImmediate(() => void close().finally(() => process.exit(0)));
      return null;
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

async function close(): Promise<void> {
  await messenger.close();
  await node.stop();
}

servePeer({ id: identity.id.toString(), addrs: await node.multiaddrs() }, run, close);
