import type { PubSubHandler, PubSubMessage } from './pubsub.js';

/** Handlers per topic, shared by both pubsub adapters so they deliver the same way. */
export class HandlerRegistry {
  readonly #byTopic = new Map<string, Set<PubSubHandler>>();

  /** Registers `handler`; true when this is the topic's first handler (the caller must join the topic). */
  add(topic: string, handler: PubSubHandler): boolean {
    const handlers = this.#byTopic.get(topic);
    if (handlers !== undefined) {
      handlers.add(handler);
      return false;
    }
    this.#byTopic.set(topic, new Set([handler]));
    return true;
  }

  /** Removes `handler` (all when omitted); true when the topic has no handler left (the caller must leave it). */
  remove(topic: string, handler?: PubSubHandler): boolean {
    const handlers = this.#byTopic.get(topic);
    if (handlers === undefined) return false;
    if (handler !== undefined) handlers.delete(handler);
    if (handler !== undefined && handlers.size > 0) return false;
    this.#byTopic.delete(topic);
    return true;
  }

  /** Hands `message` to every handler of its topic; a throwing handler affects no other. */
  deliver(message: PubSubMessage): void {
    for (const handler of this.#byTopic.get(message.topic) ?? []) {
      try {
        handler(message);
      } catch {
        // A subscriber's bug must not break delivery to the others or the node's event loop.
      }
    }
  }

  /** Topics with at least one handler. */
  topics(): string[] {
    return [...this.#byTopic.keys()];
  }
}
