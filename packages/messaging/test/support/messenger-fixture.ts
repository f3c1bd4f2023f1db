/**
 * In-process messengers for the chain tests (one-identity-sends-on-several-chains,
 * closed-chains-free-their-slots): identities with memory key stores, messengers with short retry
 * timers that record their refusals, and helpers that wait on conditions instead of sleeping.
 * `running` holds the started messengers, closed after each test; `useNodes` starts a receiver's
 * Helia node and two more connected to it, for the whole file.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8ToBytes } from '@milagro/crypto';
import { createEmbeddedNode, generateSwarmKey, type IpfsNode } from '@milagro/ipfs';
import { MemoryKeyStore } from '@milagro/keystore';
import { createIdentity, IdentityResolver, type OwnedIdentity } from '@milagro/pki';
import { MemoryJournal, Messenger, type DeliveredMessage, type MessagingJournal, type MessengerOptions, type Rejection } from '../../src/index.js';

/** One identity: its keys and documents (created on the node given). */
export interface TestIdentity {
  readonly keyStore: MemoryKeyStore;
  readonly identity: OwnedIdentity;
}

export function messengerFixture(options: { readonly messageType: string; readonly waitMs: number }) {
  const { messageType, waitMs } = options;
  const running: Messenger[] = [];

  async function identity(node: IpfsNode, name: string): Promise<TestIdentity> {
    const keyStore = new MemoryKeyStore();
    return { keyStore, identity: await createIdentity({ keyStore, store: node.store, labelPrefix: name }) };
  }

  async function start(who: TestIdentity, node: IpfsNode, journal: MessagingJournal, rejections: Rejection[], extra: Partial<MessengerOptions> = {}): Promise<Messenger> {
    const messenger = await Messenger.start({
      identity: who.identity,
      keyStore: who.keyStore,
      store: node.store,
      pubsub: node.pubsub,
      resolver: new IdentityResolver({ store: node.store }),
      journal,
      retryInitialMs: 100,
      retryMaxMs: 1_000,
      // Generous, as in messages-between-helia-nodes.test.ts: no test waits for it to fire.
      fetchTimeoutMs: 60_000,
      onRejected: (rejection) => rejections.push(rejection),
      ...extra,
    });
    running.push(messenger);
    return messenger;
  }

  async function stop(messenger: Messenger, closeOptions: Parameters<Messenger['close']>[0] = {}): Promise<void> {
    running.splice(running.indexOf(messenger), 1);
    await messenger.close(closeOptions);
  }

  /** Reads `count` messages from the inbox after `after`. */
  async function read(messenger: Messenger, count: number, after: number): Promise<DeliveredMessage[]> {
    const out: DeliveredMessage[] = [];
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), waitMs);
    for await (const message of messenger.messages({ after, signal: controller.signal })) {
      out.push(message);
      if (out.length === count) break;
    }
    clearTimeout(timer);
    if (out.length < count) throw new Error(`only ${out.length} of ${count} messages arrived`);
    return out;
  }

  async function until(what: string, condition: () => boolean): Promise<void> {
    const deadline = Date.now() + waitMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** `count` messages `<name> <n>`, n from `from`, sent at once. */
  function sendMany(messenger: Messenger, to: string, name: string, count: number, from = 1) {
    return Promise.all(Array.from({ length: count }, (_, i) => messenger.send(to, { type: messageType, body: utf8ToBytes(`${name} ${from + i}`) })));
  }

  afterEach(async () => {
    await Promise.all(running.splice(0).map((messenger) => messenger.close()));
  });

  return { running, identity, start, stop, read, until, sendMany };
}

/**
 * Registers the file's hooks for three embedded Helia nodes on one private network: `nodes[0]` the
 * receiver's, `[1]` and `[2]` connected to it (e.g. two replicas of one sender), and a `scratch`
 * directory (for journals). Filled in before the file's tests run; stopped and removed after them.
 */
export function useNodes(prefix: string, timeoutMs: number): { nodes: IpfsNode[]; scratch: string } {
  let dirs: string[] = [];
  const network = { nodes: [] as IpfsNode[], scratch: '' };
  beforeAll(async () => {
    dirs = await Promise.all([0, 1, 2, 3].map(() => mkdtemp(join(tmpdir(), prefix))));
    network.scratch = dirs[3]!;
    const swarmKey = generateSwarmKey();
    const receiver = await createEmbeddedNode({ dataDir: dirs[0]!, swarmKey });
    const peers = await receiver.multiaddrs();
    const others = await Promise.all([1, 2].map((i) => createEmbeddedNode({ dataDir: dirs[i]!, swarmKey, peers })));
    network.nodes.push(receiver, ...others);
    const deadline = Date.now() + timeoutMs;
    for (const other of others) {
      while (!(await other.connectedPeers()).includes(receiver.peerId)) {
        if (Date.now() > deadline) throw new Error('a node never connected to the receiver');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }, timeoutMs + 60_000);
  afterAll(async () => {
    await Promise.all(network.nodes.map((node) => node.stop()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })));
  });
  return network;
}

/** A copy of a memory journal's records (a backup of it, or a data dir copied while it ran). */
export async function copyOf(journal: MemoryJournal): Promise<MemoryJournal> {
  const copy = new MemoryJournal();
  await copy.append(await journal.load());
  return copy;
}
