/**
 * Suite `messaging` (issue 6). Two processes on loopback: this one sends (embedded Helia node,
 * memory key store and journal), a child receives (test/support/messaging-peer.ts: embedded Helia
 * node, file key store, file journal, an application that fsyncs a log line per message). A case
 * ends when the child reports the message delivered to its application, so it times seal, announce,
 * verify, open, journal and hand-over; the p99 column gives the tail. Also block put/get of 256 KiB,
 * embedded Helia and Kubo (when tools/kubo/install.sh has built it) side by side.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { connectKubo, createEmbeddedNode, generateSwarmKey, type IpfsNode } from '@milagro/ipfs';
import { MemoryKeyStore } from '@milagro/keystore';
import { IdentityResolver, createIdentity } from '@milagro/pki';
import { MemoryJournal, Messenger } from '@milagro/messaging';
import type { BenchCase, BenchSuite } from '../../../tools/bench/suite.js';

const root = resolve(import.meta.dirname, '../../..');
const BLOCK = randomBytes(256 * 1024);
const dirs: string[] = [];
let child: ChildProcess | undefined;
let node: IpfsNode | undefined;
let kubo: { node: IpfsNode; repo: string } | undefined;
let messenger: Messenger | undefined;
let receiver = '';
const delivered = new Map<string, () => void>();
let sequence = 0;

/** Starts the receiving child and resolves with its `ready` event. */
function startReceiver(config: unknown): Promise<Record<string, unknown>> {
  child = spawn(process.execPath, ['--no-warnings', '--experimental-transform-types', '--import', join(root, 'tools/jest/source-imports.mjs'), join(import.meta.dirname, '../test/support/messaging-peer.ts')], {
    env: { ...process.env, MILAGRO_PEER_CONFIG: JSON.stringify(config) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolveReady, reject) => {
    child!.once('exit', (code) => reject(new Error(`receiver exited (${code})`)));
    createInterface({ input: child!.stdout! }).on('line', (line) => {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (event['event'] === 'ready') resolveReady(event);
      if (event['event'] === 'delivered') delivered.get(String(event['cid']))?.();
    });
  });
}

/** Sends `count` messages and waits until the child's application has all of them. */
async function deliver(count: number): Promise<void> {
  const arrivals: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const body = new TextEncoder().encode(`bench message ${++sequence}`);
    const sent = await messenger!.send(receiver, { type: 'bench/message', body });
    arrivals.push(new Promise<void>((arrived) => delivered.set(sent.cid.toString(), arrived)));
  }
  await Promise.all(arrivals);
}

function kuboBinary(): string | undefined {
  const candidate = process.env['MILAGRO_KUBO_BIN'] ?? join(homedir(), '.cache/milagro/kubo-v0.43.1/ipfs');
  return existsSync(candidate) ? candidate : undefined;
}

const blockCases = (name: string, store: () => IpfsNode): BenchCase[] => {
  let stored: Awaited<ReturnType<IpfsNode['store']['put']>> | undefined;
  return [
    { name: `put 256 KiB block: ${name}`, bytes: BLOCK.length, baseline: name === 'Kubo' ? 'put 256 KiB block: Helia' : undefined, fn: async () => (stored = await store().store.put(BLOCK)) },
    { name: `get 256 KiB block: ${name}`, bytes: BLOCK.length, baseline: name === 'Kubo' ? 'get 256 KiB block: Helia' : undefined, fn: async () => store().store.get(stored ?? (stored = await store().store.put(BLOCK))) },
  ];
};

const withKubo = kuboBinary() !== undefined;

export default {
  suite: 'messaging',
  setup: async () => {
    for (let i = 0; i < 2; i++) dirs.push(mkdtempSync(join(tmpdir(), 'milagro-bench-messaging-')));
    const swarmKey = generateSwarmKey();
    node = await createEmbeddedNode({ dataDir: dirs[0]!, swarmKey });
    const ready = await startReceiver({ dataDir: dirs[1]!, swarmKey, peers: await node.multiaddrs() });
    receiver = String(ready['id']);
    const keyStore = new MemoryKeyStore();
    const identity = await createIdentity({ keyStore, store: node.store, labelPrefix: 'bench' });
    messenger = await Messenger.start({ identity, keyStore, store: node.store, pubsub: node.pubsub, resolver: new IdentityResolver({ store: node.store }), journal: new MemoryJournal(), retryInitialMs: 250, retryMaxMs: 2_000 });
    // The first message waits for the gossipsub mesh and the identity fetches; keep that out of the samples.
    await deliver(1);
    if (withKubo) {
      const started = JSON.parse(execFileSync(join(root, 'tools/kubo/start.sh'), { encoding: 'utf8' }).trim().split('\n').pop()!) as { apiUrl: string; repo: string };
      kubo = { node: await connectKubo({ url: started.apiUrl }), repo: started.repo };
    }
  },
  teardown: async () => {
    await messenger?.close();
    child?.stdin?.end();
    child?.kill('SIGKILL');
    await node?.stop();
    if (kubo !== undefined) {
      await kubo.node.stop();
      execFileSync(join(root, 'tools/kubo/stop.sh'), [kubo.repo]);
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  },
  cases: [
    { name: 'deliver 1 message to another process (latency)', iterations: 40, time: 5_000, fn: () => deliver(1) },
    { name: 'deliver 50 messages to another process, per message', iterations: 5, time: 5_000, perItem: 50, fn: () => deliver(50) },
    ...blockCases('Helia', () => node!),
    ...(withKubo ? blockCases('Kubo', () => kubo!.node) : []),
  ],
} satisfies BenchSuite;
