/** A message received on a topic. */
export interface PubSubMessage {
  /** Topic it arrived on. */
  topic: string;
  /** Payload, exactly as published. */
  data: Uint8Array;
  /** Peer ID (base58btc / CIDv1 string form) of the publisher, when the message is signed. */
  from?: string;
}

/** Receives messages of a subscribed topic. Exceptions it throws are swallowed, never crash the node. */
export type PubSubHandler = (message: PubSubMessage) => void;

/**
 * Topic-based publish/subscribe (gossipsub). Delivery is best effort: messages can be lost, and
 * arrive only at peers whose subscription the sender's mesh already knows about, so callers that
 * need reliability must acknowledge and retry (that is `@milagro/messaging`'s job).
 */
export interface PubSub {
  /** Starts delivering messages of `topic` to `handler`. A handler is registered at most once per topic. */
  subscribe(topic: string, handler: PubSubHandler): Promise<void>;
  /** Stops delivering to `handler` (or to every handler when omitted); the topic is left when none remain. */
  unsubscribe(topic: string, handler?: PubSubHandler): Promise<void>;
  /** Publishes `data` to `topic`; resolves once handed to the network (no delivery guarantee). */
  publish(topic: string, data: Uint8Array): Promise<void>;
  /** Peer IDs known to be subscribed to `topic`. */
  peers(topic: string): Promise<string[]>;
}
