import { IpfsError } from './errors.js';
import { HandlerRegistry } from './handler-registry.js';
import type { PubSub, PubSubHandler } from './pubsub.js';

/** The slice of the gossipsub service this adapter uses (its full type lives in `@libp2p/gossipsub`). */
interface GossipService {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  publish(topic: string, data: Uint8Array): Promise<unknown>;
  getSubscribers(topic: string): Array<{ toString(): string }>;
  addEventListener(type: 'message', listener: (event: CustomEvent<GossipMessage>) => void): void;
  removeEventListener(type: 'message', listener: (event: CustomEvent<GossipMessage>) => void): void;
}

interface GossipMessage {
  type: 'signed' | 'unsigned';
  topic: string;
  data: Uint8Array;
  from?: { toString(): string };
}

/** {@link PubSub} over the embedded node's gossipsub service. */
export class GossipPubSub implements PubSub {
  readonly #gossip: GossipService;
  readonly #handlers = new HandlerRegistry();
  readonly #onMessage = (event: CustomEvent<GossipMessage>): void => {
    const message = event.detail;
    this.#handlers.deliver({
      topic: message.topic,
      data: message.data,
      ...(message.type === 'signed' && message.from !== undefined ? { from: message.from.toString() } : {}),
    });
  };

  constructor(services: { pubsub?: unknown }) {
    const pubsub = services.pubsub as GossipService | undefined;
    if (pubsub === undefined) throw new IpfsError('UNSUPPORTED', 'this node has no gossipsub service');
    this.#gossip = pubsub;
    this.#gossip.addEventListener('message', this.#onMessage);
  }

  async subscribe(topic: string, handler: PubSubHandler): Promise<void> {
    if (this.#handlers.add(topic, handler)) this.#gossip.subscribe(topic);
  }

  async unsubscribe(topic: string, handler?: PubSubHandler): Promise<void> {
    if (this.#handlers.remove(topic, handler)) this.#gossip.unsubscribe(topic);
  }

  async publish(topic: string, data: Uint8Array): Promise<void> {
    try {
      await this.#gossip.publish(topic, data);
    } catch (error) {
      throw new IpfsError('UNAVAILABLE', `publish on ${topic} failed`, { cause: error });
    }
  }

  async peers(topic: string): Promise<string[]> {
    return this.#gossip.getSubscribers(topic).map((peer) => peer.toString());
  }
}
