import { multiaddr } from '@multiformats/multiaddr';
import type { BlockPutOptions, KuboRPCClient, Message } from 'kubo-rpc-client';
import type { CID } from 'multiformats/cid';
import { checkSize, cidOf, decodeDag, encodeDag, parseCid, verifyBlock } from './block.js';
import { DAG_CBOR_CODE, DEFAULT_MAX_BLOCK_BYTES, RAW_CODE } from './constants.js';
import { withDeadline } from './deadline.js';
import { IpfsError } from './errors.js';
import { HandlerRegistry } from './handler-registry.js';
import type { CallOptions, ContentStore, GetOptions, PinOptions, PutOptions } from './content-store.js';
import type { IpfsNode } from './ipfs-node.js';
import type { PubSub, PubSubHandler } from './pubsub.js';

/** How to reach a Kubo daemon's RPC API. */
export interface KuboNodeOptions {
  /** RPC API base URL, e.g. `http://127.0.0.1:5001`. Keep the API on loopback: it is unauthenticated admin access. */
  url: string;
  /** Largest block accepted (default 2 MiB). */
  maxBlockBytes?: number;
  /** Timeout of the initial identity lookup (default 10 s). */
  timeoutMs?: number;
}

/**
 * Connects to a running Kubo daemon over its RPC API (`kubo-rpc-client`) and returns it as an
 * {@link IpfsNode}. Pubsub works only on a daemon started with `--enable-pubsub-experiment` (or
 * `Pubsub.Enabled=true`); otherwise pubsub calls fail with `UNSUPPORTED`. Kubo marks its pubsub RPC
 * as deprecated, so a future Kubo release may drop it: the embedded node is the primary pubsub path.
 */
export async function connectKubo(options: KuboNodeOptions): Promise<IpfsNode> {
  // Loaded here, not at the top: kubo-rpc-client is ~160 modules that every embedded-node process
  // would otherwise load at import and never use.
  const { create } = await import('kubo-rpc-client');
  const client = create({ url: options.url });
  const identity = await withDeadline('connect', { timeoutMs: options.timeoutMs ?? 10_000 }, async (signal) =>
    kuboCall('connect', () => client.id({ signal })),
  );
  return new KuboNode(client, identity.id.toString(), options.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES);
}

/** Runs a Kubo RPC call, turning its HTTP and network failures into {@link IpfsError}s. */
async function kuboCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof IpfsError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    if (/pubsub.*(not enabled|disabled)|experimental pubsub/i.test(message)) {
      throw new IpfsError('UNSUPPORTED', `${what}: the Kubo daemon has pubsub disabled`, { cause: error });
    }
    if (/not found|could not find/i.test(message)) throw new IpfsError('NOT_FOUND', `${what}: not found`, { cause: error });
    if (/invalid (cid|path)|selected encoding not supported|failed to decode/i.test(message)) {
      throw new IpfsError('INVALID_CID', `${what}: Kubo refused the CID`, { cause: error });
    }
    if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) throw error;
    throw new IpfsError('UNAVAILABLE', `${what}: Kubo RPC failed`, { cause: error });
  }
}

class KuboNode implements IpfsNode {
  readonly store: ContentStore;
  readonly pubsub: PubSub;
  readonly peerId: string;
  readonly #client: KuboRPCClient;

  constructor(client: KuboRPCClient, peerId: string, maxBlockBytes: number) {
    this.#client = client;
    this.peerId = peerId;
    this.store = new KuboContentStore(client, maxBlockBytes);
    this.pubsub = new KuboPubSub(client);
  }

  async multiaddrs(): Promise<string[]> {
    const identity = await kuboCall('multiaddrs', () => this.#client.id());
    return identity.addresses.map((address) => address.toString());
  }

  async dial(address: string, options?: CallOptions): Promise<void> {
    let parsed;
    try {
      parsed = multiaddr(address);
    } catch (error) {
      throw new IpfsError('INVALID_CONFIG', `not a multiaddr: ${address}`, { cause: error });
    }
    await withDeadline('dial', options, (signal) => kuboCall('dial', () => this.#client.swarm.connect(parsed, { signal })));
  }

  async connectedPeers(): Promise<string[]> {
    const peers = await kuboCall('connectedPeers', () => this.#client.swarm.peers());
    return peers.map((peer) => peer.peer.toString());
  }

  async stop(): Promise<void> {
    await (this.pubsub as KuboPubSub).close();
  }
}

/** {@link ContentStore} over Kubo's block and pin RPCs; every block it returns is re-hashed here. */
class KuboContentStore implements ContentStore {
  readonly #client: KuboRPCClient;
  readonly #maxBlockBytes: number;

  constructor(client: KuboRPCClient, maxBlockBytes: number) {
    this.#client = client;
    this.#maxBlockBytes = maxBlockBytes;
  }

  put(bytes: Uint8Array, options?: PutOptions): Promise<CID> {
    return this.#putBlock(bytes, RAW_CODE, 'raw', options);
  }

  async putDag(value: unknown, options?: PutOptions): Promise<CID> {
    return this.#putBlock(encodeDag(value), DAG_CBOR_CODE, 'dag-cbor', options);
  }

  async get(cid: CID | string, options?: GetOptions): Promise<Uint8Array> {
    const parsed = parseCid(cid);
    const maxBytes = options?.maxBytes ?? this.#maxBlockBytes;
    return withDeadline('get', options, async (signal) => {
      // Ask the size first so an oversized block never crosses into this process.
      const stat = await kuboCall('get', () => this.#client.block.stat(parsed, { signal }));
      checkSize(stat.size, maxBytes, parsed);
      const bytes = await kuboCall('get', () => this.#client.block.get(parsed, { signal }));
      checkSize(bytes.byteLength, maxBytes, parsed);
      await verifyBlock(parsed, bytes);
      return bytes;
    });
  }

  async getDag<T = unknown>(cid: CID | string, options?: GetOptions): Promise<T> {
    const parsed = parseCid(cid);
    return decodeDag<T>(parsed, await this.get(parsed, options));
  }

  async has(cid: CID | string, options?: CallOptions): Promise<boolean> {
    const parsed = parseCid(cid);
    return withDeadline('has', options, async (signal) => {
      try {
        // `offline` is Kubo's global flag: look in the local repo only, never ask the network.
        await kuboCall('has', () => this.#client.block.stat(parsed, { signal, offline: true } as never));
        return true;
      } catch (error) {
        if (error instanceof IpfsError && error.code === 'NOT_FOUND') return false;
        throw error;
      }
    });
  }

  async remove(cid: CID | string, options?: CallOptions): Promise<boolean> {
    const parsed = parseCid(cid);
    return withDeadline('remove', options, async (signal) => {
      if (!(await this.has(parsed, { signal })) || (await this.isPinned(parsed, { signal }))) return false;
      // Kubo refuses to remove a pinned block itself (an error in the result), so a pin taken meanwhile still wins.
      for await (const result of this.#client.block.rm(parsed, { signal })) {
        if (result.error !== undefined) return false;
      }
      return true;
    });
  }

  async pin(cid: CID | string, options?: PinOptions): Promise<void> {
    const parsed = parseCid(cid);
    const recursive = options?.recursive !== false;
    await withDeadline('pin', options, (signal) => kuboCall('pin', () => this.#client.pin.add(parsed, { recursive, signal })));
  }

  async unpin(cid: CID | string, options?: CallOptions): Promise<void> {
    const parsed = parseCid(cid);
    await withDeadline('unpin', options, async (signal) => {
      try {
        await kuboCall('unpin', () => this.#client.pin.rm(parsed, { recursive: true, signal }));
      } catch (error) {
        // A direct pin is removed only by a non-recursive `pin rm`.
        if (error instanceof IpfsError && /pinned directly/i.test(String((error.cause as Error | undefined)?.message))) {
          await kuboCall('unpin', () => this.#client.pin.rm(parsed, { recursive: false, signal }));
          return;
        }
        // Kubo answers "not pinned" as an error; the interface makes unpinning idempotent.
        if (error instanceof IpfsError && /not pinned/i.test(String((error.cause as Error | undefined)?.message))) return;
        throw error;
      }
    });
  }

  async isPinned(cid: CID | string, options?: CallOptions): Promise<boolean> {
    const parsed = parseCid(cid);
    return withDeadline('isPinned', options, async (signal) => {
      try {
        for await (const pin of this.#client.pin.ls({ paths: [parsed], signal })) {
          if (pin.type === 'recursive' || pin.type === 'direct') return true;
        }
        return false;
      } catch (error) {
        if (error instanceof Error && /not pinned/i.test(error.message)) return false;
        return kuboCall('isPinned', () => Promise.reject(error));
      }
    });
  }

  async #putBlock(bytes: Uint8Array, code: number, codec: string, options?: PutOptions): Promise<CID> {
    checkSize(bytes.byteLength, this.#maxBlockBytes);
    const expected = await cidOf(bytes, code);
    const cid = await withDeadline('put', options, (signal) =>
      // kubo-rpc-client types lack Kubo's `cid-codec` flag (its `format` is the legacy one); it
      // forwards unknown options as query parameters, and the CID check below catches a mismatch.
      kuboCall('put', () =>
        this.#client.block.put(bytes, { 'cid-codec': codec, mhtype: 'sha2-256', signal } as BlockPutOptions),
      ),
    );
    if (!cid.equals(expected)) throw new IpfsError('INVALID_DATA', 'Kubo stored the block under an unexpected CID');
    if (options?.pin === true) await this.pin(expected, options);
    return expected;
  }
}

/** First wait before a broken subscription stream is opened again; doubles up to the longest. */
const RESUBSCRIBE_FIRST_MS = 250;
const RESUBSCRIBE_LONGEST_MS = 5_000;
/** How often subscriptions are checked against the daemon's own list (a restarted daemon forgot them). */
const SUBSCRIPTION_CHECK_MS = 5_000;

/**
 * {@link PubSub} over Kubo's (deprecated, opt-in) pubsub RPC: one streaming HTTP request per topic.
 * A stream ends when the daemon restarts or the connection breaks; the topic is then subscribed
 * again (with backoff while the daemon is away), and a periodic check against `pubsub ls` catches a
 * stream that ended without an error. Messages published while a topic was not subscribed are not
 * delivered: pubsub is best effort, and `@milagro/messaging` retries until acknowledged.
 */
class KuboPubSub implements PubSub {
  readonly #client: KuboRPCClient;
  readonly #handlers = new HandlerRegistry();
  readonly #streams = new Map<string, AbortController>();
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(client: KuboRPCClient) {
    this.#client = client;
  }

  async subscribe(topic: string, handler: PubSubHandler): Promise<void> {
    if (!this.#handlers.add(topic, handler)) return;
    try {
      await this.#open(topic);
    } catch (error) {
      this.#handlers.remove(topic);
      this.#streams.get(topic)?.abort();
      this.#streams.delete(topic);
      throw error;
    }
    this.#watchdog ??= setInterval(() => void this.#checkSubscriptions(), SUBSCRIPTION_CHECK_MS);
    this.#watchdog.unref?.();
  }

  /** Opens (again) the topic's stream; the previous one, if any, is ended. */
  async #open(topic: string): Promise<void> {
    this.#streams.get(topic)?.abort();
    const controller = new AbortController();
    this.#streams.set(topic, controller);
    // A fresh handler per stream: the client's tracker keys subscriptions by handler, and the old
    // stream's clean-up must not cancel the new one.
    const deliver = (message: Message): void => {
      this.#handlers.deliver({ topic, data: message.data, ...(message.type === 'signed' ? { from: message.from.toString() } : {}) });
    };
    await kuboCall('subscribe', () =>
      this.#client.pubsub.subscribe(topic, deliver, {
        signal: controller.signal,
        // The client calls onError(error, fatal) (its type declares only the error); a fatal one ends the stream.
        onError: (...args: unknown[]) => {
          if (args[1] === true && !controller.signal.aborted) this.#reopenLater(topic, controller, 0);
        },
      }),
    );
  }

  /** Subscribes `topic` again after a backoff, unless it was closed or reopened meanwhile. */
  #reopenLater(topic: string, stream: AbortController, attempt: number): void {
    const current = (): boolean => !this.#closed && this.#streams.get(topic) === stream && this.#handlers.topics().includes(topic);
    if (!current()) return;
    const delay = Math.min(RESUBSCRIBE_LONGEST_MS, RESUBSCRIBE_FIRST_MS * 2 ** attempt);
    const timer = setTimeout(() => {
      if (!current()) return;
      this.#open(topic).catch(() => {
        const retry = this.#streams.get(topic);
        if (retry !== undefined) this.#reopenLater(topic, retry, attempt + 1);
      });
    }, delay);
    timer.unref?.();
  }

  /** Re-subscribes topics the daemon does not list (it restarted, or a stream ended quietly). */
  async #checkSubscriptions(): Promise<void> {
    let listed: Set<string>;
    try {
      listed = new Set(await this.#client.pubsub.ls({ signal: AbortSignal.timeout(SUBSCRIPTION_CHECK_MS) }));
    } catch {
      return; // daemon away: the broken streams are being retried already
    }
    for (const topic of this.#handlers.topics()) {
      const stream = this.#streams.get(topic);
      if (!listed.has(topic) && stream !== undefined && !this.#closed) this.#reopenLater(topic, stream, 0);
    }
  }

  async unsubscribe(topic: string, handler?: PubSubHandler): Promise<void> {
    if (!this.#handlers.remove(topic, handler)) return;
    this.#streams.get(topic)?.abort();
    this.#streams.delete(topic);
  }

  async publish(topic: string, data: Uint8Array): Promise<void> {
    await kuboCall('publish', () => this.#client.pubsub.publish(topic, data));
  }

  async peers(topic: string): Promise<string[]> {
    const peers = await kuboCall('peers', () => this.#client.pubsub.peers(topic));
    return peers.map((peer) => peer.toString());
  }

  /** Ends every subscription stream. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watchdog);
    for (const topic of this.#handlers.topics()) await this.unsubscribe(topic);
  }
}
