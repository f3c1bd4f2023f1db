/**
 * @packageDocumentation
 * Reliable, authenticated delivery of Milagro envelopes between identities, over any
 * `@milagro/ipfs` node: exactly once into the recipient's inbox, in order per chain (one per sending
 * journal, so replicas of one identity can all send), with signed
 * acknowledgements, retries with backoff, and outbox chains that let a node that was offline catch up.
 * The wire format and guarantees are specified in docs/specs/messaging-v1.md.
 *
 * ```ts
 * import { FileJournal, Messenger } from '@milagro/messaging';
 *
 * const messenger = await Messenger.start({
 *   identity, keyStore, resolver,            // from @milagro/pki and @milagro/keystore
 *   store: node.store, pubsub: node.pubsub,  // from @milagro/ipfs
 *   journal: new FileJournal({ path: `${dataDir}/messaging.journal` }),
 * });
 * const sent = await messenger.send(peerId, { type: 'example/greeting', body: utf8ToBytes('hello') });
 * await sent.acknowledged;                   // the peer holds it
 *
 * for await (const message of messenger.messages()) {
 *   handle(message.from, message.type, message.body);
 *   await messenger.consumed(message.position);
 * }
 * ```
 */
export { MessagingError, isMessagingError, type MessagingErrorCode } from './errors.js';
export { CHAIN_CLOSE_TYPE, MESSAGING_VERSION, TOPIC_PREFIX } from './constants.js';
export {
  Messenger,
  messagingTopic,
  type CloseOptions,
  type DeliveredMessage,
  type MessagingStats,
  type MessengerOptions,
  type OutgoingMessage,
  type ReadOptions,
  type Rejection,
  type RejectionReason,
  type SentMessage,
} from './messenger.js';
export { MemoryJournal, type JournalRecord, type MessagingJournal } from './journal.js';
export { FileJournal, type FileJournalOptions } from './file-journal.js';
