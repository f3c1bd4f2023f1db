/**
 * One reader of a node's inbox for every role the node runs. A messenger's inbox has one consumed
 * position, so two roles each reading `messages()` and calling `consumed()` would let the faster one
 * mark the other's unprocessed messages as done (and lose them in a crash). Instead the node reads
 * the inbox once, in order, and hands each message to the role that claims its type; it records the
 * message as consumed only after that role has (at-least-once, as with one role: handlers are
 * idempotent). Messages no role claims are reported and consumed.
 */
import type { DeliveredMessage, Messenger, ReadOptions } from '@milagro/messaging';

/** A role's share of the inbox. */
class RoleQueue {
  readonly #queued: DeliveredMessage[] = [];
  readonly #waiters = new Set<() => void>();
  #handedOver: { readonly position: number; readonly done: () => void } | undefined;
  #closed = false;

  constructor(readonly accepts: (type: string) => boolean) {}

  /** Queues `message` for the role; resolves once the role has consumed it (or the inbox closes). */
  deliver(message: DeliveredMessage): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#handedOver = { position: message.position, done: resolve };
      this.#queued.push(message);
      this.#wake();
    });
  }

  /** What the role iterates: its messages in inbox order, until the inbox closes or `signal` aborts. (`after` is the node's to track, so it is ignored.) */
  async *messages(options: ReadOptions = {}): AsyncGenerator<DeliveredMessage> {
    const signal = options.signal;
    while (!this.#closed && signal?.aborted !== true) {
      const next = this.#queued.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#waiters.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.#waiters.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** The role is done with everything up to `position`. */
  consumed(position: number): Promise<void> {
    const handedOver = this.#handedOver;
    if (handedOver !== undefined && handedOver.position <= position) {
      this.#handedOver = undefined;
      handedOver.done();
    }
    return Promise.resolve();
  }

  close(): void {
    this.#closed = true;
    this.#queued.length = 0;
    this.#handedOver?.done();
    this.#handedOver = undefined;
    this.#wake();
  }

  #wake(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}

export interface NodeInboxOptions {
  /** A message whose type no role claims (it is consumed, so it does not block the inbox). */
  readonly onUnclaimed?: (message: DeliveredMessage) => void;
  /** Reading the inbox failed (not by closing); no further messages are dispatched. */
  readonly onFailure?: (error: unknown) => void;
}

export class NodeInbox {
  readonly #messenger: Messenger;
  readonly #onUnclaimed: (message: DeliveredMessage) => void;
  readonly #onFailure: (error: unknown) => void;
  readonly #roles: RoleQueue[] = [];
  readonly #stop = new AbortController();
  #reading: Promise<void> | undefined;

  constructor(messenger: Messenger, options: NodeInboxOptions = {}) {
    this.#messenger = messenger;
    this.#onUnclaimed = options.onUnclaimed ?? (() => undefined);
    this.#onFailure = options.onFailure ?? (() => undefined);
  }

  /**
   * The messenger as one role sees it: `messages()` yields only the types `accepts` claims (the first
   * role to claim a type gets it), `consumed()` hands progress back to the node; sending and
   * everything else is the node's messenger. Claim before {@link start}.
   */
  claim(accepts: (type: string) => boolean): Messenger {
    const role = new RoleQueue(accepts);
    this.#roles.push(role);
    const messenger = this.#messenger;
    return new Proxy(messenger, {
      get(target, property) {
        if (property === 'messages') return (options?: ReadOptions) => role.messages(options);
        if (property === 'consumed') return (position: number) => role.consumed(position);
        const value: unknown = Reflect.get(target, property, target);
        // The messenger's private fields need `this` to be the messenger itself, not the proxy.
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** Starts reading the inbox (once every role has claimed its types). */
  start(): void {
    this.#reading ??= this.#read().catch((error: unknown) => {
      if (!this.#stop.signal.aborted) this.#onFailure(error);
    });
  }

  async #read(): Promise<void> {
    const signal = this.#stop.signal;
    for await (const message of this.#messenger.messages({ signal })) {
      const role = this.#roles.find((candidate) => candidate.accepts(message.type));
      if (role === undefined) this.#onUnclaimed(message);
      else await role.deliver(message);
      // Closed while a role held the message: leave it unconsumed, it is delivered again on the next start.
      if (signal.aborted) return;
      await this.#messenger.consumed(message.position);
    }
  }

  /** Stops reading and ends every role's `messages()`; a message a role was still processing stays unconsumed. */
  async close(): Promise<void> {
    this.#stop.abort();
    for (const role of this.#roles) role.close();
    await this.#reading;
  }
}
