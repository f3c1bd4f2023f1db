/**
 * Interop with a REAL Kubo daemon (separate process, started from tools/kubo): blocks put through the
 * embedded Helia node are fetched by Kubo and the reverse; gossipsub messages cross both ways.
 * Without the pinned Kubo binary it skips with the reason printed, or fails when CI is set.
 * Also prints the throughput and latency numbers the brief asks for.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connectKubo, createEmbeddedNode } from '@milagro/ipfs';
import type { IpfsNode, PubSubMessage } from '@milagro/ipfs';
import { startKubo } from '../../../tools/kubo/kubo-daemon.js';
import type { KuboDaemon } from '../../../tools/kubo/kubo-daemon.js';
import { kuboAvailability, reportMissingKubo } from './support/kubo-binary.js';
import { waitFor } from '../../../tools/jest/peer-process.js';

const kuboBinary = kuboAvailability();

describe('Helia ↔ Kubo interop', () => {
  if ('missing' in kuboBinary) {
    reportMissingKubo('Helia ↔ Kubo interop', kuboBinary);
    return;
  }
  jest.setTimeout(90_000);
  let daemon: KuboDaemon;
  let kubo: IpfsNode;
  let helia: IpfsNode;
  let dataDir: string;

  beforeAll(async () => {
    daemon = await startKubo({ binary: kuboBinary.binary });
    kubo = await connectKubo({ url: daemon.apiUrl });
    dataDir = await mkdtemp(join(tmpdir(), 'milagro-ipfs-'));
    helia = await createEmbeddedNode({ dataDir, peers: daemon.swarm.map((address) => address.includes('/p2p/') ? address : `${address}/p2p/${daemon.peerId}`) });
    await waitFor('helia connected to kubo', async () => (await helia.connectedPeers()).includes(daemon.peerId), 20_000);
  }, 60_000);

  afterAll(async () => {
    await helia?.stop();
    await kubo?.stop();
    await daemon?.stop();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('a block added through Helia is fetched by Kubo', async () => {
    const bytes = randomBytes(4096);
    const cid = await helia.store.put(bytes);
    expect(Buffer.from(await kubo.store.get(cid, { timeoutMs: 20_000 })).equals(bytes)).toBe(true);
  });

  it('a block added through Kubo is fetched by Helia', async () => {
    const value = { from: 'kubo', at: Date.now() };
    const cid = await kubo.store.putDag(value);
    expect(await helia.store.getDag(cid, { timeoutMs: 20_000 })).toEqual(value);
  });

  it('gossipsub messages cross between Helia and Kubo in both directions', async () => {
    const topic = `milagro-interop-kubo-${Date.now()}`;
    const atHelia: PubSubMessage[] = [];
    const atKubo: PubSubMessage[] = [];
    await helia.pubsub.subscribe(topic, (message) => atHelia.push(message));
    await kubo.pubsub.subscribe(topic, (message) => atKubo.push(message));
    await waitFor('helia sees kubo on topic', async () => (await helia.pubsub.peers(topic)).includes(kubo.peerId), 20_000);
    await waitFor('kubo sees helia on topic', async () => (await kubo.pubsub.peers(topic)).includes(helia.peerId), 20_000);

    await helia.pubsub.publish(topic, new TextEncoder().encode('helia says hi'));
    await waitFor('kubo got it', () => atKubo.some((m) => new TextDecoder().decode(m.data) === 'helia says hi'));
    expect(atKubo.find((m) => new TextDecoder().decode(m.data) === 'helia says hi')?.from).toBe(helia.peerId);

    await kubo.pubsub.publish(topic, new TextEncoder().encode('kubo says hi'));
    await waitFor('helia got it', () => atHelia.some((m) => new TextDecoder().decode(m.data) === 'kubo says hi'));
    expect(atHelia.find((m) => new TextDecoder().decode(m.data) === 'kubo says hi')?.from).toBe(kubo.peerId);

    // Round-trip latency: Helia publishes a ping, Kubo's subscriber answers with a pong.
    const rtts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const pong = `pong ${i}`;
      const sent = performance.now();
      await kubo.pubsub.publish(topic, new TextEncoder().encode(pong));
      await waitFor('pong', () => atHelia.some((m) => new TextDecoder().decode(m.data) === pong));
      rtts.push(performance.now() - sent);
    }
    rtts.sort((x, y) => x - y);
    console.log(`[@milagro/ipfs] Kubo→Helia pubsub delivery median ${rtts[5]!.toFixed(1)} ms (10 msgs, includes the RPC publish call)`);
  });

  it('reports 1 MiB block put/get throughput, Helia and Kubo side by side', async () => {
    const blocks = Array.from({ length: 16 }, () => randomBytes(1024 * 1024));
    const rows: string[] = [];
    for (const [name, node] of [['helia', helia], ['kubo', kubo]] as const) {
      let started = performance.now();
      const cids = [];
      for (const block of blocks) cids.push(await node.store.put(block));
      const putMiBs = blocks.length / ((performance.now() - started) / 1000);
      started = performance.now();
      for (const cid of cids) await node.store.get(cid);
      const getMiBs = blocks.length / ((performance.now() - started) / 1000);
      rows.push(`${name}: put ${putMiBs.toFixed(0)} MiB/s, get ${getMiBs.toFixed(0)} MiB/s`);
    }
    console.log(`[@milagro/ipfs] 1 MiB blocks x16 — ${rows.join(' | ')}`);
  });
});
