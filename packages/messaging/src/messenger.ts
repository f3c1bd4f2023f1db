/**
 * Reliable, authenticated delivery of envelopes between identities (docs/specs/messaging-v1.md).
 *
 * Sending: seal the body to the recipient with `prev` = the previous envelope to that recipient
 * (the outbox chain), store and pin it, journal the new chain head, then announce its CID on the
 * recipient's topic, again and again with backoff until a signed acknowledgement arrives.
 *
 * Receiving: on an announcement, fetch the envelope, verify its sender against the PKI, walk its
 * `prev` links back to the head of one of that sender's chains, or to the root of a new one
 * (catching up on anything missed), open each in order, journal it into the inbox, and acknowledge
 * the newest. A sender has one chain per journal (replicas of one identity each have their own:
 * docs/adr/0018-one-chain-per-journal.md). The inbox is deduplicated by CID and ordered per chain;
 * the application reads it with {@link Messenger.messages}.
 */
import { compositeVerify } from '@milagro/crypto';
import { decodeEnvelope, encodeEnvelope, envelopeCid, isEnvelopeError, openEnvelope, sealEnvelope, type Envelope } from '@milagro/envelope';
import { isIpfsError, type ContentStore, type PubSub, type PubSubMessage } from '@milagro/ipfs';
import type { KeyStore } from '@milagro/keystore';
import { identityRecipientKey, identitySigner, isPkiError, type IdentityResolver, type OwnedIdentity, type ResolvedIdentity } from '@milagro/pki';
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import {
  ACK_MAX_DELAY_MS,
  ACK_SIGNATURE_CONTEXT,
  CHAIN_CLOSE_TYPE,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_MAX_CHAINS_PER_SENDER,
  DEFAULT_MAX_ENVELOPE_BYTES,
  DEFAULT_RETRY_INITIAL_MS,
  DEFAULT_RETRY_MAX_MS,
  DEFAULT_STORE_RETRY_MS,
  MAX_CATCH_UP,
  MAX_CLOSE_ROOTS,
  MAX_INLINE_ENVELOPE_BYTES,
  RESERVED_TYPE_PREFIX,
  RETRY_WINDOW,
  STORE_RETRY_FIRST_MS,
  STORE_RETRY_LONGEST_MS,
  TOPIC_PREFIX,
} from './constants.js';
import { decodeChainClose, encodeChainClose } from './chain-close.js';
import { MessagingError } from './errors.js';
import type { JournalRecord, MessagingJournal } from './journal.js';
import { acknowledgementSignedBytes, decodeFrame, encodeFrame, FrameError, isIdentityId, type Acknowledgement, type Announcement } from './wire.js';

/** Why an incoming message or acknowledgement was refused. */
export type RejectionReason =
  /** A frame or envelope that does not decode. */
  | 'malformed'
  /** The sender's identity cannot be resolved: absent, or its documents do not verify. */
  | 'unknown-sender'
  /** The sender's identity is revoked. */
  | 'revoked-sender'
  /** The sender's identity has two valid successors of one document. */
  | 'forked-sender'
  /** The envelope is not signed by the identity it names as sender. */
  | 'bad-signature'
  /** The envelope is not sealed to this identity. */
  | 'not-addressed'
  /** The envelope does not extend the sender's chain as this inbox holds it (a second successor of an envelope: a fork). */
  | 'broken-chain'
  /** The envelope starts a new chain, but the sender already has `maxChainsPerSender` open chains to this inbox. */
  | 'too-many-chains'
  /** The envelope belongs to a chain its sender closed (a replay of an old chain, or a node that kept sending on it). */
  | 'chain-closed'
  /** The envelope verifies but does not decrypt. */
  | 'undecryptable'
  /** The envelope could not be fetched in time (transient: the sender will announce it again). */
  | 'unavailable'
  /** An acknowledgement whose signature does not verify against the acknowledging identity. */
  | 'bad-ack';

/** A refused message, reported to {@link MessengerOptions.onRejected}. Carries no message content. */
export interface Rejection {
  readonly reason: RejectionReason;
  /** The identity the frame claimed to come from, when it decoded. */
  readonly from?: string;
  /** The announced envelope or acknowledged CID, when known. */
  readonly cid?: string;
  /** What failed, for logs. */
  readonly detail: string;
}

/** Counters since start (not persisted). */
export interface MessagingStats {
  /** Envelopes sent (sealed, stored, journaled). */
  sent: number;
  /** Outbox envelopes acknowledged by their recipients. */
  acknowledged: number;
  /** Announcements published again because no acknowledgement came. */
  reannounced: number;
  /** Envelopes added to the inbox. */
  received: number;
  /** Announcements of envelopes already in the inbox (answered with an acknowledgement, not delivered again). */
  duplicates: number;
  /** Announcements left for later ones to fill: a gap behind them, and more from the sender queued. */
  deferred: number;
  /** Senders' chains closed in this inbox by their chain closes. */
  closedChains: number;
  /** Refused messages and acknowledgements by reason. */
  rejected: Record<RejectionReason, number>;
}

/** What a messenger needs: who it is, its keys, the IPFS node, the PKI and its journal. */
export interface MessengerOptions {
  /** This node's identity; the messenger listens on its topic and signs as it. */
  readonly identity: OwnedIdentity;
  /** The key store holding the identity's keys (signing and X-Wing decapsulation happen inside it). */
  readonly keyStore: KeyStore;
  /** Where envelopes are stored and fetched. */
  readonly store: ContentStore;
  /** Where announcements and acknowledgements travel. */
  readonly pubsub: PubSub;
  /** Resolves senders and recipients; share one per process so verified chains are cached once. */
  readonly resolver: IdentityResolver;
  /** Durable state; a `FileJournal` on Node. One journal per identity, one messenger per journal. */
  readonly journal: MessagingJournal;
  /** Largest envelope accepted (default 1 MiB); larger bodies belong in detached envelopes. */
  readonly maxEnvelopeBytes?: number;
  /** Time allowed to fetch one envelope or identity document (default 10 s). */
  readonly fetchTimeoutMs?: number;
  /** First re-announcement delay in ms (default 500); doubles per attempt. */
  readonly retryInitialMs?: number;
  /** Longest re-announcement delay in ms (default 30,000). */
  readonly retryMaxMs?: number;
  /**
   * How long `send` keeps trying to store an envelope while the IPFS node is unavailable or times
   * out (a Kubo daemon restarting), in ms (default 60,000); then it fails with `STORE_FAILED`.
   */
  readonly storeRetryMs?: number;
  /**
   * Most chains one sender may have to this inbox (default 64). Each journal that sends as an
   * identity starts its own chain (replicas of one identity, a node started afresh with the identity's
   * keys); an envelope that would start one more is refused as `too-many-chains`.
   */
  readonly maxChainsPerSender?: number;
  /**
   * Set on a node that is its identity's only sender (not on replicas): each new chain it starts to a
   * recipient (an empty journal, or one whose chains were closed) comes with a chain close of every
   * other chain of the identity at that recipient, so setting the identity up afresh again and again
   * never reaches `maxChainsPerSender` there. On a replica it would close the others' live chains.
   * Default false: then only chains this journal can name are closed (after `chains-closed`, and by
   * `close({ retireChains: true })`).
   */
  readonly closeOtherChains?: boolean;
  /** Told about each refused message (for logs and metrics). */
  readonly onRejected?: (rejection: Rejection) => void;
}

/** Options of {@link Messenger.close}. */
export interface CloseOptions {
  /**
   * Before closing, end this journal's chains and close them at their recipients (a replica or a node
   * whose journal does not outlive it, shutting down for good): once each recipient acknowledged
   * everything sent to it, a chain close naming the chain is sent and awaited. Sending stops at once.
   */
  readonly retireChains?: boolean;
  /** How long `retireChains` waits for acknowledgements, in ms (default 30,000). What is not acknowledged by then is retried on the next start of this journal. */
  readonly timeoutMs?: number;
}

/** A message to send: an application content type and the plaintext body. */
export interface OutgoingMessage {
  /** Content type, e.g. `milagro/dkg/round1`: 1..256 printable ASCII characters. */
  readonly type: string;
  /** Version of the content type's schema (default 1). */
  readonly typeVersion?: number;
  /** The plaintext; sealed so that only the recipient reads it. */
  readonly body: Uint8Array;
}

/** A sent message: where it is, and a promise that settles when the recipient holds it. */
export interface SentMessage {
  /** The envelope's CID. */
  readonly cid: CID;
  /** Its place in the outbox chain to this recipient (1 = first). */
  readonly seq: number;
  /** Resolves once the recipient acknowledges it (or a later message); rejects `CLOSED` on close. */
  readonly acknowledged: Promise<void>;
}

/** A message from the inbox: verified, decrypted, in order per chain. */
export interface DeliveredMessage {
  /** Place in this inbox (1-based, across senders); pass to `consumed` and `messages({ after })`. */
  readonly position: number;
  /** The sender's identity (CID string), verified against the PKI. */
  readonly from: string;
  /**
   * The first envelope of the sender's chain this message belongs to. A sender has one chain per
   * journal: replicas of one identity each send on their own, and order holds within a chain.
   */
  readonly chain: CID;
  /** Its place in that chain (1 = first). */
  readonly seq: number;
  /** The envelope's CID. */
  readonly cid: CID;
  readonly type: string;
  readonly typeVersion: number;
  /** The decrypted body. */
  readonly body: Uint8Array;
}

/** Options of {@link Messenger.messages}. */
export interface ReadOptions {
  /**
   * Yield messages after this inbox position. Default: the position last passed to `consumed`.
   * An application that stores its effects durably should store the position with them and pass it
   * here on start: that makes its processing exactly-once even across crashes.
   */
  readonly after?: number;
  /** Ends the iteration. */
  readonly signal?: AbortSignal;
}

interface Outbox {
  /** The chain's first envelope (its name at the recipient); a chain close's outbox holds the close alone. */
  root?: CID;
  /** A chain close's outbox (not counted in `stats().sent` and `acknowledged`). */
  readonly closes?: true;
  head?: CID;
  /** The head's bytes when they travel inline in announcements. */
  inline?: Uint8Array;
  seq: number;
  ackedSeq: number;
  /** seq of each unacknowledged envelope, by CID string. */
  readonly unacked: Map<string, number>;
  readonly waiters: Map<number, { resolve: () => void; reject: (error: Error) => void }>;
  timer?: ReturnType<typeof setTimeout>;
  attempt: number;
  /**
   * When (performance.now) each envelope was first announced. Unlike TCP (Karn's rule), samples are
   * taken from the first announcement even when the envelope was re-announced: that can only
   * overestimate the round trip, which slows retries to a struggling recipient, the intent.
   */
  readonly announcedAt: Map<number, number>;
  /**
   * When a retry fires: the newest seq then sent. Until an acknowledgement reaches it, every
   * acknowledgement that makes progress re-announces the next window at once (as TCP NewReno answers
   * a partial acknowledgement), so a returning recipient catches up at a window per round trip, not
   * per timeout. 0 when not recovering.
   */
  recoverTo: number;
  /** Smoothed round trip from announcement to acknowledgement, and its variation (RFC 6298), in ms. */
  srtt?: number;
  rttvar?: number;
}

/** One of a sender's chains into this inbox, named by its root (its first envelope, the one without `prev`). */
interface InboundChain {
  readonly root: CID;
  head: CID;
  seq: number;
}

interface Inbox {
  /** The sender's chains by root CID: one per journal that sent as this identity. */
  readonly chains: Map<string, InboundChain>;
  /** Every envelope CID held from this sender, with its chain: replays of old ones are duplicates, not forks. */
  readonly held: Map<string, InboundChain>;
  /** Roots of the sender's closed chains (and its chain closes): nothing may extend or start them. */
  readonly closed: Set<string>;
}

/** A chain close this journal owes a recipient, sent once everything sent to it before is acknowledged. */
interface CloseDue {
  /** Chains closed by name (ended by `chains-closed`). */
  readonly roots: CID[];
  /** Also every other chain of this identity the recipient holds, except `keep` (`closeOtherChains`). */
  others: boolean;
  keep?: CID;
}

/** Chains of one sender owed an acknowledgement, and the timer that sends them at the latest. */
interface AckDue {
  readonly timer: ReturnType<typeof setTimeout>;
  /** Chains that grew: each gets its acknowledgement at the next flush. */
  readonly grown: Set<InboundChain>;
  /**
   * Chains only announced again (a retry whose acknowledgement was lost, or a replay), with the last
   * envelope of each announced: one of them is acknowledged per flush.
   */
  readonly repeated: Map<InboundChain, CID>;
}

/** What a reader needs of an opened envelope. */
interface Opened {
  readonly type: string;
  readonly typeVersion: number;
  readonly body: Uint8Array;
}

interface InboxEntry {
  readonly from: string;
  readonly chain: CID;
  readonly cid: CID;
  readonly seq: number;
}

/** Opened envelopes kept for readers that keep up; others re-open the envelope from the store. */
const OPENED_CACHE_ENTRIES = 1024;

function emptyStats(): MessagingStats {
  return {
    sent: 0,
    acknowledged: 0,
    reannounced: 0,
    received: 0,
    duplicates: 0,
    deferred: 0,
    closedChains: 0,
    rejected: {
      malformed: 0,
      'unknown-sender': 0,
      'revoked-sender': 0,
      'forked-sender': 0,
      'bad-signature': 0,
      'not-addressed': 0,
      'broken-chain': 0,
      'too-many-chains': 0,
      'chain-closed': 0,
      undecryptable: 0,
      unavailable: 0,
      'bad-ack': 0,
    },
  };
}

/** The topic an identity listens on. */
export function messagingTopic(identity: string): string {
  return `${TOPIC_PREFIX}${identity}`;
}

/** An announcement left to the ones queued after it (counted in `stats.deferred`, not a refusal). */
class Deferred extends Error {}

/** A refusal raised while processing an announcement. */
class Refusal extends Error {
  constructor(
    readonly reason: RejectionReason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** One messenger per identity and journal. Start it with {@link Messenger.start}. */
export class Messenger {
  readonly #options: MessengerOptions;
  readonly #me: string;
  readonly #maxEnvelopeBytes: number;
  readonly #fetchTimeoutMs: number;
  readonly #storeRetryMs: number;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #maxChains: number;
  readonly #closeOtherChains: boolean;
  readonly #signer: ReturnType<typeof identitySigner>;
  readonly #recipientKey: Awaited<ReturnType<typeof identityRecipientKey>>;
  /** The chain this journal extends to each recipient. */
  readonly #outboxes = new Map<string, Outbox>();
  /** Chains a `chains-closed` record ended that still have unacknowledged envelopes, by recipient. */
  readonly #closedOutboxes = new Map<string, Outbox[]>();
  /** Chain closes owed, by recipient. */
  readonly #closeDue = new Map<string, CloseDue>();
  /** Set by `close({ retireChains })`: no more sends. */
  #retiring = false;
  readonly #inboxes = new Map<string, Inbox>();
  readonly #entries: InboxEntry[] = [];
  readonly #opened = new Map<number, Opened>();
  readonly #entryWaiters = new Set<() => void>();
  /** Work serialised per peer: sends per recipient, announcements per sender. */
  readonly #queues = new Map<string, Promise<void>>();
  /** Envelope CIDs of the announcements waiting per sender: each is queued once, and one acknowledgement answers a burst. */
  readonly #queuedAnnouncements = new Map<string, Set<string>>();
  /** Senders owed acknowledgements (something was received, or a duplicate announced), by sender. */
  readonly #ackDue = new Map<string, AckDue>();
  /** While replaying: the root of each sender's chain from journals written before chains were named. */
  readonly #legacyRoots = new Map<string, CID>();
  readonly #stats = emptyStats();
  /** Announcements being published, awaited by `close` so nothing touches the node after it. */
  readonly #announcing = new Set<Promise<void>>();
  readonly #onFrame = (message: PubSubMessage): void => this.#receiveFrame(message.data);
  #consumed = 0;
  #closed = false;

  private constructor(options: MessengerOptions, recipientKey: Awaited<ReturnType<typeof identityRecipientKey>>) {
    this.#options = options;
    this.#me = options.identity.id.toString();
    this.#maxEnvelopeBytes = positive(options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, 'maxEnvelopeBytes');
    this.#fetchTimeoutMs = positive(options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS, 'fetchTimeoutMs');
    this.#storeRetryMs = options.storeRetryMs === 0 ? 0 : positive(options.storeRetryMs ?? DEFAULT_STORE_RETRY_MS, 'storeRetryMs');
    this.#retryInitialMs = positive(options.retryInitialMs ?? DEFAULT_RETRY_INITIAL_MS, 'retryInitialMs');
    this.#retryMaxMs = Math.max(this.#retryInitialMs, positive(options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS, 'retryMaxMs'));
    this.#maxChains = positive(options.maxChainsPerSender ?? DEFAULT_MAX_CHAINS_PER_SENDER, 'maxChainsPerSender');
    this.#closeOtherChains = options.closeOtherChains === true;
    this.#signer = identitySigner(options.identity, options.keyStore);
    this.#recipientKey = recipientKey;
  }

  /**
   * Replays the journal, subscribes to this identity's topic and re-announces every
   * unacknowledged outbox chain.
   * @throws MessagingError `JOURNAL_FAILED` for an unreadable journal, `INVALID_ARGUMENT` for bad options.
   */
  static async start(options: MessengerOptions): Promise<Messenger> {
    let recipientKey: Awaited<ReturnType<typeof identityRecipientKey>>;
    try {
      recipientKey = await identityRecipientKey(options.identity, options.keyStore);
    } catch (cause) {
      throw new MessagingError('INVALID_ARGUMENT', "the key store does not hold the identity's X-Wing key", { cause });
    }
    const messenger = new Messenger(options, recipientKey);
    let records: JournalRecord[];
    try {
      records = await options.journal.load();
    } catch (cause) {
      if (cause instanceof MessagingError) throw cause;
      throw new MessagingError('JOURNAL_FAILED', 'the journal could not be read', { cause });
    }
    for (const record of records) messenger.#replay(record);
    messenger.#legacyRoots.clear();
    for (const [, outbox] of messenger.#allOutboxes()) {
      for (const [cid, seq] of outbox.unacked) if (seq <= outbox.ackedSeq) outbox.unacked.delete(cid);
    }
    await options.pubsub.subscribe(messagingTopic(messenger.#me), messenger.#onFrame);
    for (const [to, outbox] of messenger.#allOutboxes()) messenger.#scheduleRetry(to, outbox, { now: true });
    for (const to of messenger.#closeDue.keys()) messenger.#sendDueClose(to);
    return messenger;
  }

  /** This messenger's identity (CID string). */
  get id(): string {
    return this.#me;
  }

  /** Counters since start. */
  stats(): MessagingStats {
    return structuredClone(this.#stats);
  }

  /**
   * Envelopes this node sent that their recipients have not acknowledged yet (journaled ones from
   * before a restart included), and how many recipients they wait on. A count that stays up means a
   * recipient is down or cut off; the messenger keeps retrying with backoff.
   */
  unacknowledged(): { readonly envelopes: number; readonly recipients: number } {
    let envelopes = 0;
    const recipients = new Set<string>();
    for (const [to, outbox] of this.#allOutboxes()) {
      envelopes += outbox.unacked.size;
      if (outbox.unacked.size > 0) recipients.add(to);
    }
    return { envelopes, recipients: recipients.size };
  }

  /** The newest inbox position (0 when empty). */
  get inboxLength(): number {
    return this.#entries.length;
  }

  /**
   * Sends `message` to identity `to`: sealed to its current X-Wing key, chained after the previous
   * message to it, stored, journaled and announced. Resolves once the message is durable on this
   * side; `acknowledged` resolves once the recipient holds it. Messages to one recipient keep
   * their order.
   * @throws MessagingError `INVALID_ARGUMENT`, `RECIPIENT_UNAVAILABLE`, `STORE_FAILED`, `JOURNAL_FAILED`, `CLOSED`.
   */
  async send(to: string, message: OutgoingMessage): Promise<SentMessage> {
    this.#checkOpen();
    if (!isIdentityId(to)) throw new MessagingError('INVALID_ARGUMENT', 'the recipient must be an identity CID string');
    if (to === this.#me) throw new MessagingError('INVALID_ARGUMENT', 'a messenger does not send to itself');
    if (!(message?.body instanceof Uint8Array)) throw new MessagingError('INVALID_ARGUMENT', 'the body must be a Uint8Array');
    if (typeof message.type === 'string' && message.type.startsWith(RESERVED_TYPE_PREFIX)) throw new MessagingError('INVALID_ARGUMENT', `content types under ${RESERVED_TYPE_PREFIX} are messaging's own`);
    if (this.#retiring) throw new MessagingError('CLOSED', 'the messenger is retiring its chains');
    return this.#serialised(`out:${to}`, () => this.#send(to, message));
  }

  /**
   * The inbox, in position order, waiting for new messages until `signal` aborts or the
   * messenger closes. Every message is yielded once per call; record progress with {@link consumed}
   * (or keep the position with your own state and pass it as `after`).
   */
  async *messages(options: ReadOptions = {}): AsyncGenerator<DeliveredMessage> {
    let position = options.after ?? this.#consumed;
    if (!Number.isSafeInteger(position) || position < 0) throw new MessagingError('INVALID_ARGUMENT', '`after` must be a non-negative integer');
    const signal = options.signal;
    while (!this.#closed && signal?.aborted !== true) {
      if (position < this.#entries.length) {
        position += 1;
        yield await this.#materialise(position);
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#entryWaiters.delete(wake);
          signal?.removeEventListener('abort', wake);
          resolve();
        };
        this.#entryWaiters.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** Records that the application has consumed the inbox through `position` (durably). */
  async consumed(position: number): Promise<void> {
    this.#checkOpen();
    if (!Number.isSafeInteger(position) || position < 1 || position > this.#entries.length) {
      throw new MessagingError('INVALID_ARGUMENT', `position must be from 1 to ${this.#entries.length}`);
    }
    if (position <= this.#consumed) return;
    await this.#append([{ k: 'consumed', position }]);
    this.#consumed = Math.max(this.#consumed, position);
  }

  /**
   * Stops listening and retrying, waits for work in progress, and closes the journal. Pending
   * `acknowledged` promises reject with `CLOSED`; their messages are re-announced on the next start.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    // A journal that fails while retiring leaves the chains to the next start of this journal; closing goes on.
    if (options.retireChains === true && !this.#retiring) await this.#retire(options.timeoutMs ?? 30_000).catch(() => undefined);
    if (this.#closed) return;
    this.#closed = true;
    await this.#options.pubsub.unsubscribe(messagingTopic(this.#me), this.#onFrame).catch(() => undefined);
    await Promise.allSettled([...this.#queues.values(), ...this.#announcing]);
    for (const due of this.#ackDue.values()) clearTimeout(due.timer);
    this.#ackDue.clear();
    for (const [, outbox] of this.#allOutboxes()) {
      clearTimeout(outbox.timer);
      for (const waiter of outbox.waiters.values()) waiter.reject(new MessagingError('CLOSED', 'the messenger closed before the message was acknowledged'));
      outbox.waiters.clear();
    }
    for (const wake of [...this.#entryWaiters]) wake();
    await this.#options.journal.close();
  }

  /**
   * Ends every chain of this journal (a `chains-closed` record, as a restore appends) and waits until
   * each recipient acknowledged everything sent to it and the chain close naming its chains.
   */
  async #retire(timeoutMs: number): Promise<void> {
    this.#retiring = true;
    // Sends already queued finish first: a `sent` record after `chains-closed` would start a new chain.
    await Promise.allSettled([...this.#queues].filter(([queue]) => queue.startsWith('out:')).map(([, work]) => work));
    await this.#append([{ k: 'chains-closed' }]);
    this.#endChains();
    for (const to of this.#closeDue.keys()) this.#sendDueClose(to);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (this.#closeDue.size > 0 || this.unacknowledged().envelopes > 0)) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  // --- sending -------------------------------------------------------------------------------

  async #send(to: string, message: OutgoingMessage): Promise<SentMessage> {
    this.#checkOpen();
    let recipient: ResolvedIdentity;
    try {
      recipient = await this.#options.resolver.resolve(to, { timeoutMs: this.#fetchTimeoutMs });
    } catch (cause) {
      throw new MessagingError('RECIPIENT_UNAVAILABLE', `identity ${to} cannot be messaged: ${isPkiError(cause) ? cause.code : 'resolution failed'}`, { cause });
    }
    const outbox = this.#outbox(to);
    let envelope: Envelope;
    try {
      envelope = await sealEnvelope({
        from: this.#signer,
        to: [{ id: to, publicKey: recipient.keys.kem }],
        type: message.type,
        typeVersion: message.typeVersion ?? 1,
        ...(outbox.head === undefined ? {} : { prev: outbox.head }),
        body: message.body,
      });
    } catch (cause) {
      if (isEnvelopeError(cause, 'INVALID_ARGUMENT')) throw new MessagingError('INVALID_ARGUMENT', cause.message, { cause });
      throw cause;
    }
    const { cid, bytes } = await this.#store(envelope);
    const seq = outbox.seq + 1;
    await this.#append([{ k: 'sent', to, cid, seq }]);
    if (seq === 1) this.#chainStarted(to, outbox, cid);
    outbox.head = cid;
    outbox.inline = bytes.length <= MAX_INLINE_ENVELOPE_BYTES ? bytes : undefined;
    outbox.seq = seq;
    outbox.unacked.set(cid.toString(), seq);
    outbox.announcedAt.set(seq, performance.now());
    this.#stats.sent += 1;
    const acknowledged = new Promise<void>((resolve, reject) => outbox.waiters.set(seq, { resolve, reject }));
    acknowledged.catch(() => undefined); // a caller that never awaits it must not see an unhandled rejection
    this.#publishAnnouncement(to, outbox, true);
    this.#scheduleRetry(to, outbox);
    if (seq === 1) this.#sendDueClose(to);
    return { cid, seq, acknowledged };
  }

  /** A new chain to `to` starts at `root` (sending, or replaying its `sent` record). */
  #chainStarted(to: string, outbox: Outbox, root: CID): void {
    outbox.root = root;
    if (!this.#closeOtherChains) return;
    let due = this.#closeDue.get(to);
    if (due === undefined) this.#closeDue.set(to, (due = { roots: [], others: true }));
    due.others = true;
    due.keep = root;
  }

  /**
   * Ends every current outbox chain (a `chains-closed` record): the next envelope to each recipient
   * starts a new chain; unacknowledged envelopes of the old ones are still announced until
   * acknowledged, and then each recipient is sent a chain close naming the old chains.
   */
  #endChains(): void {
    for (const [to, outbox] of this.#outboxes) {
      for (const [cid, seq] of outbox.unacked) if (seq <= outbox.ackedSeq) outbox.unacked.delete(cid);
      if (outbox.unacked.size > 0) this.#closedOutboxes.set(to, [...(this.#closedOutboxes.get(to) ?? []), outbox]);
      if (outbox.root === undefined) continue;
      let due = this.#closeDue.get(to);
      if (due === undefined) this.#closeDue.set(to, (due = { roots: [], others: false }));
      due.roots.push(outbox.root);
      if (due.keep?.equals(outbox.root) === true) due.keep = undefined;
    }
    this.#outboxes.clear();
  }

  /** Sends the chain close owed to `to`, if any, once nothing sent to it before waits for an acknowledgement. */
  #sendDueClose(to: string): void {
    if (this.#closed || !this.#closeDue.has(to)) return;
    void this.#serialised(`out:${to}`, () => this.#sendClose(to)).catch(() => {
      // The recipient did not resolve or the store failed: try again later (the close stays owed).
      const timer = setTimeout(() => this.#sendDueClose(to), this.#retryMaxMs);
      timer.unref?.();
    });
  }

  /**
   * Seals, stores, journals and announces a chain close to `to` (docs/specs/messaging-v1.md §7). It waits
   * until everything sent to `to` on the chains it closes is acknowledged: the recipient may still want
   * those envelopes, and once their chain is closed it would refuse them.
   */
  async #sendClose(to: string): Promise<void> {
    const due = this.#closeDue.get(to);
    if (this.#closed || due === undefined || (this.#closedOutboxes.get(to)?.length ?? 0) > 0) return;
    let recipient: ResolvedIdentity;
    try {
      recipient = await this.#options.resolver.resolve(to, { timeoutMs: this.#fetchTimeoutMs });
    } catch (cause) {
      throw new MessagingError('RECIPIENT_UNAVAILABLE', `identity ${to} cannot be messaged: ${isPkiError(cause) ? cause.code : 'resolution failed'}`, { cause });
    }
    // The newest chains if there are more than one close may name (a journal ended over a thousand times without reaching `to`).
    const body = encodeChainClose({ roots: due.roots.slice(-(MAX_CLOSE_ROOTS - 1)), others: due.others, keep: due.others && due.keep !== undefined ? [due.keep] : [] });
    const envelope = await sealEnvelope({ from: this.#signer, to: [{ id: to, publicKey: recipient.keys.kem }], type: CHAIN_CLOSE_TYPE, typeVersion: 1, body });
    const { cid, bytes } = await this.#store(envelope);
    if (this.#closeDue.get(to) !== due) return; // owed no more, or owed differently: the next call seals it
    await this.#append([{ k: 'close-sent', to, cid }]);
    const outbox = this.#closeSent(to, cid);
    outbox.inline = bytes.length <= MAX_INLINE_ENVELOPE_BYTES ? bytes : undefined;
    outbox.announcedAt.set(1, performance.now());
    this.#publishAnnouncement(to, outbox, true);
    this.#scheduleRetry(to, outbox);
  }

  /** The chain close `cid` to `to` is journaled: it is owed no more, and waits for its acknowledgement. */
  #closeSent(to: string, cid: CID): Outbox {
    this.#closeDue.delete(to);
    const outbox: Outbox = { closes: true, root: cid, head: cid, seq: 1, ackedSeq: 0, unacked: new Map([[cid.toString(), 1]]), waiters: new Map(), attempt: 1, announcedAt: new Map(), recoverTo: 0 };
    this.#closedOutboxes.set(to, [...(this.#closedOutboxes.get(to) ?? []), outbox]);
    return outbox;
  }

  /** Stores and pins an envelope (the block alone: its chain is pinned block by block). */
  async #store(envelope: Envelope | Uint8Array): Promise<{ cid: CID; bytes: Uint8Array }> {
    const bytes = envelope instanceof Uint8Array ? envelope : encodeEnvelope(envelope);
    const expected = envelopeCid(bytes);
    let cid: CID;
    // A node whose IPFS is briefly away (a Kubo daemon restarting) keeps trying for a while: the
    // envelope is not journaled or announced until it is stored, so nothing is lost by waiting.
    const giveUpAt = Date.now() + this.#storeRetryMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        // Envelopes are canonical DAG-CBOR, so re-encoding the decoded value gives the same block.
        cid = await this.#options.store.putDag(dagCbor.decode(bytes), { pin: true, recursive: false, timeoutMs: this.#fetchTimeoutMs });
        break;
      } catch (cause) {
        const transient = isIpfsError(cause, 'UNAVAILABLE') || isIpfsError(cause, 'TIMEOUT');
        const wait = Math.min(STORE_RETRY_LONGEST_MS, STORE_RETRY_FIRST_MS * 2 ** attempt);
        if (!transient || this.#closed || Date.now() + wait > giveUpAt) throw new MessagingError('STORE_FAILED', 'the envelope could not be stored', { cause });
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    if (cid.toString() !== expected.toString()) throw new MessagingError('STORE_FAILED', `the store addressed the envelope as ${cid.toString()}, expected ${expected.toString()}`);
    return { cid, bytes };
  }

  /** Publishes the chain's head (`headOnly`) or a retry window; a failed publish is what retries are for. */
  #publishAnnouncement(to: string, outbox: Outbox, headOnly: boolean): void {
    const announcing = this.#announce(to, outbox, headOnly).catch(() => undefined);
    this.#announcing.add(announcing);
    void announcing.finally(() => this.#announcing.delete(announcing));
  }

  /**
   * Keeps one retry timer per unacknowledged outbox. New messages do not reset it (a sender that
   * keeps sending must still retry its oldest messages); acknowledged progress does (`restart`).
   */
  #scheduleRetry(to: string, outbox: Outbox, options: { restart?: boolean; now?: boolean } = {}): void {
    if (this.#closed || outbox.ackedSeq >= outbox.seq) return;
    if (options.restart === true || options.now === true) {
      clearTimeout(outbox.timer);
      outbox.timer = undefined;
      outbox.attempt = 1;
    }
    if (outbox.timer !== undefined) return;
    const delay = options.now === true ? 0 : jitter(Math.min(this.#retryMaxMs, this.#retryTimeout(outbox) * 2 ** (outbox.attempt - 1)));
    outbox.timer = setTimeout(() => {
      outbox.timer = undefined;
      if (this.#closed || outbox.head === undefined || outbox.ackedSeq >= outbox.seq) return;
      this.#stats.reannounced += 1;
      outbox.recoverTo = outbox.seq;
      this.#publishAnnouncement(to, outbox, false);
      outbox.attempt += 1;
      this.#scheduleRetry(to, outbox);
    }, delay);
    outbox.timer.unref?.();
  }

  /**
   * The retry timeout before back-off: the measured round trip plus four times its variation
   * (RFC 6298), at least `retryInitialMs`. A recipient slowed by a backlog acknowledges late, so its
   * senders wait longer instead of re-announcing what it is already working through.
   */
  #retryTimeout(outbox: Outbox): number {
    if (outbox.srtt === undefined || outbox.rttvar === undefined) return this.#retryInitialMs;
    return Math.min(this.#retryMaxMs, Math.max(this.#retryInitialMs, outbox.srtt + 4 * outbox.rttvar));
  }

  /** Takes a round-trip sample from an acknowledgement (RFC 6298 §2, measured from the first announcement). */
  #sampleRoundTrip(outbox: Outbox, seq: number): void {
    const announcedAt = outbox.announcedAt.get(seq);
    for (const s of outbox.announcedAt.keys()) if (s <= seq) outbox.announcedAt.delete(s);
    if (announcedAt === undefined) return;
    const sample = performance.now() - announcedAt;
    if (outbox.srtt === undefined || outbox.rttvar === undefined) {
      outbox.srtt = sample;
      outbox.rttvar = sample / 2;
    } else {
      outbox.rttvar = 0.75 * outbox.rttvar + 0.25 * Math.abs(outbox.srtt - sample);
      outbox.srtt = 0.875 * outbox.srtt + 0.125 * sample;
    }
  }

  /**
   * A new message announces the chain's head. A retry announces the oldest unacknowledged envelopes
   * (a window of them, oldest first, inline): a recipient that was away then extends its chain one
   * envelope at a time, with no Bitswap walk back over everything it missed.
   */
  async #announce(to: string, outbox: Outbox, headOnly: boolean): Promise<void> {
    const head = outbox.head!;
    const window = headOnly
      ? [head]
      : [...outbox.unacked]
          .filter(([, seq]) => seq > outbox.ackedSeq)
          .sort((x, y) => x[1] - y[1])
          .slice(0, RETRY_WINDOW)
          .map(([cid]) => (cid === head.toString() ? head : CID.parse(cid)));
    for (const cid of window) {
      let bytes: Uint8Array | undefined = cid === head ? outbox.inline : undefined;
      if (bytes === undefined && cid !== head) bytes = await this.#options.store.get(cid, { timeoutMs: this.#fetchTimeoutMs }).catch(() => undefined);
      const inline = bytes !== undefined && bytes.length <= MAX_INLINE_ENVELOPE_BYTES ? { envelope: bytes } : {};
      await this.#options.pubsub.publish(messagingTopic(to), encodeFrame({ kind: 'announce', from: this.#me, head: this.#options.identity.head, cid, ...inline }));
    }
  }

  async #acknowledged(ack: Acknowledgement): Promise<void> {
    // Stale, already acknowledged, or foreign: for another replica's chain (every node of this
    // identity receives the acknowledgements of all of them) or another identity.
    const outbox = this.#outboxOf(ack.from, ack.cid);
    const seq = outbox?.unacked.get(ack.cid.toString());
    if (outbox === undefined || seq === undefined || ack.to !== this.#me) return;
    let acker: ResolvedIdentity;
    try {
      acker = await this.#options.resolver.resolve(ack.from, { heads: [ack.head], timeoutMs: this.#fetchTimeoutMs });
    } catch (error) {
      this.#reject({ reason: 'bad-ack', from: ack.from, cid: ack.cid.toString(), detail: `acknowledging identity does not resolve: ${describe(error)}` });
      return;
    }
    if (!compositeVerify(acker.keys.sign, acknowledgementSignedBytes(ack), ack.sig, ACK_SIGNATURE_CONTEXT)) {
      this.#reject({ reason: 'bad-ack', from: ack.from, cid: ack.cid.toString(), detail: 'acknowledgement signature does not verify' });
      return;
    }
    if (seq <= outbox.ackedSeq) return;
    await this.#append([{ k: 'acked', to: ack.from, cid: ack.cid }]);
    if (outbox.closes !== true) this.#stats.acknowledged += seq - outbox.ackedSeq;
    this.#sampleRoundTrip(outbox, seq);
    outbox.ackedSeq = seq;
    for (const [cid, s] of outbox.unacked) if (s <= seq) outbox.unacked.delete(cid);
    for (const [s, waiter] of outbox.waiters) {
      if (s > seq) continue;
      outbox.waiters.delete(s);
      waiter.resolve();
    }
    if (outbox.ackedSeq >= outbox.seq) {
      clearTimeout(outbox.timer);
      outbox.timer = undefined;
      outbox.recoverTo = 0;
      this.#forgetClosed(ack.from, outbox);
      this.#sendDueClose(ack.from);
      // A chain close frees slots at the recipient: the current chain, refused as too-many-chains
      // until now, is announced again at once rather than after its backed-off retry timeout.
      const current = this.#outboxes.get(ack.from);
      if (outbox.closes === true && current !== undefined && current.ackedSeq < current.seq) this.#scheduleRetry(ack.from, current, { now: true });
    } else if (outbox.ackedSeq < outbox.recoverTo) {
      this.#stats.reannounced += 1;
      this.#publishAnnouncement(ack.from, outbox, false);
      this.#scheduleRetry(ack.from, outbox, { restart: true });
    } else {
      outbox.recoverTo = 0;
      this.#scheduleRetry(ack.from, outbox, { restart: true });
    }
  }

  // --- receiving -----------------------------------------------------------------------------

  #receiveFrame(data: Uint8Array): void {
    if (this.#closed) return;
    let frame: Announcement | Acknowledgement;
    try {
      frame = decodeFrame(data);
    } catch (error) {
      this.#reject({ reason: 'malformed', detail: error instanceof FrameError ? error.message : 'undecodable frame' });
      return;
    }
    if (frame.from === this.#me) return;
    if (frame.kind === 'ack') {
      void this.#serialised(`out:${frame.from}`, () => this.#acknowledged(frame)).catch(() => undefined);
      return;
    }
    // Re-announcements of envelopes already held (a sender's retry window, replays) are answered at
    // once: queued, they would hold up the announcements that still carry something new.
    const holding = this.#inboxes.get(frame.from)?.held.get(frame.cid.toString());
    if (holding !== undefined) {
      this.#stats.duplicates += 1;
      this.#markAckDue(frame.from, holding, frame.cid);
      return;
    }
    // An envelope announced again while its first announcement still waits (a retry that overtook a
    // slow recipient) is dropped: the queue holds each envelope once, however often it is announced.
    let queued = this.#queuedAnnouncements.get(frame.from);
    if (queued === undefined) this.#queuedAnnouncements.set(frame.from, (queued = new Set()));
    if (queued.has(frame.cid.toString())) return;
    queued.add(frame.cid.toString());
    void this.#serialised(`in:${frame.from}`, () => this.#announced(frame)).catch(() => undefined);
  }

  async #announced(announcement: Announcement): Promise<void> {
    const from = announcement.from;
    try {
      // Only a sender whose envelope verified gets an inbox: announcements cost an attacker nothing.
      const inbox = this.#inboxes.get(from) ?? { chains: new Map<string, InboundChain>(), held: new Map<string, InboundChain>(), closed: new Set<string>() };
      const holding = inbox.held.get(announcement.cid.toString());
      if (holding !== undefined) {
        this.#stats.duplicates += 1;
        this.#markAckDue(from, holding, announcement.cid);
        return;
      }
      await this.#catchUp(announcement, inbox);
    } catch (error) {
      if (error instanceof Deferred) this.#stats.deferred += 1;
      else if (error instanceof Refusal) this.#reject({ reason: error.reason, from, cid: announcement.cid.toString(), detail: error.detail });
      else if (!this.#closed) this.#reject({ reason: 'unavailable', from, cid: announcement.cid.toString(), detail: describe(error) });
    } finally {
      const queued = this.#queuedAnnouncements.get(from);
      queued?.delete(announcement.cid.toString());
      const left = queued?.size ?? 0;
      if (left === 0) this.#queuedAnnouncements.delete(from);
      // One acknowledgement covers the whole chain: sent at the end of a burst (or by the timer
      // #markAckDue set, so a sender that never pauses is still acknowledged).
      if (left <= 0) await this.#flushAck(from);
    }
  }

  /**
   * Fetches the announced envelope and everything between it and what the inbox holds (the head of
   * one of the sender's chains, or the root of a new one), then delivers in order.
   */
  async #catchUp(announcement: Announcement, inbox: Inbox): Promise<void> {
    const from = announcement.from;
    const sender = await this.#resolveSender(from, announcement.head);
    const senderKey = { id: from, publicKey: sender.keys.sign };
    const chain: Array<{ cid: CID; bytes: Uint8Array; opened: Opened | undefined }> = [];
    /** The chain the walk reached by its head; undefined when it reached a root: a new chain. */
    let extended: InboundChain | undefined;
    let cid = announcement.cid;
    for (;;) {
      const announced = chain.length === 0;
      // Walking a gap costs a Bitswap round trip per envelope, and a returning recipient gets a new
      // head for every message sent meanwhile. So while more announcements from this sender wait,
      // a gap is left to them (the sender's retry window fills it without fetching): before the
      // announced envelope is verified, and before each fetch of the walk. What was fetched stays in
      // the local blockstore, so a later walk resumes cheaply; the last queued announcement never
      // stops, so the gap is filled either way.
      if (!announced && this.#queued(from) > 1) throw new Deferred();
      const bytes = announced && announcement.envelope !== undefined ? inlineEnvelope(announcement) : await this.#fetchEnvelope(cid);
      const envelope = decodeOrRefuse(bytes);
      if (envelope.header.from !== from) throw new Refusal('bad-signature', `envelope ${cid.toString()} is from ${envelope.header.from}, announced as from ${from}`);
      const prev = envelope.header.prev;
      if (envelope.header.type === CHAIN_CLOSE_TYPE) {
        // A chain close stands alone: it is no chain's envelope, and nothing extends it.
        if (!announced) throw new Refusal('chain-closed', `${chain[chain.length - 1]!.cid.toString()} extends the chain close ${cid.toString()}`);
        if (prev !== undefined) throw new Refusal('malformed', `the chain close ${cid.toString()} has a prev`);
        await this.#receiveClose(from, cid, bytes, senderKey, inbox);
        return;
      }
      const predecessor = prev === undefined ? undefined : inbox.held.get(prev.toString());
      const extendsHead = prev === undefined || predecessor?.head.equals(prev) === true;
      if (announced && !extendsHead && this.#queued(from) > 1) throw new Deferred();
      // The announced envelope is opened (verified) first, so a forged announcement costs one fetch;
      // its predecessors are verified as they are opened, oldest first, below.
      chain.push({ cid, bytes, opened: announced ? await this.#open(bytes, senderKey, cid) : undefined });
      // A root no chain here starts: a new chain (another replica of the sender, or a sender started
      // afresh from its keys). Reaching an envelope held here ends the walk: at its chain's head it
      // extends that chain; anywhere else this is a second successor within one chain, a fork.
      if (prev === undefined) {
        if (inbox.closed.has(cid.toString())) throw new Refusal('chain-closed', `${announcement.cid.toString()} belongs to the chain ${cid.toString()}, which its sender closed`);
        if (inbox.chains.size >= this.#maxChains) {
          throw new Refusal(
            'too-many-chains',
            `${cid.toString()} starts a new chain, but sender ${from} already has ${inbox.chains.size} open chains here (maxChainsPerSender ${this.#maxChains}). ` +
              "Its operator should close the old ones (a node that is its identity's only sender does so itself with closeOtherChains; a replica shutting down for good with close({ retireChains: true })), " +
              'or this node can raise maxChainsPerSender',
          );
        }
        break;
      }
      if (predecessor !== undefined) {
        if (inbox.closed.has(predecessor.root.toString())) throw new Refusal('chain-closed', `${announcement.cid.toString()} extends the chain ${predecessor.root.toString()}, which its sender closed`);
        if (!extendsHead) throw new Refusal('broken-chain', `${cid.toString()} is a second successor of ${prev.toString()}`);
        extended = predecessor;
        break;
      }
      if (chain.length >= MAX_CATCH_UP) throw new Refusal('broken-chain', `more than ${MAX_CATCH_UP} envelopes behind ${announcement.cid.toString()}`);
      cid = prev;
    }
    chain.reverse();
    for (const link of chain) {
      const opened = link.opened ?? (await this.#open(link.bytes, senderKey, link.cid));
      await this.#store(link.bytes); // kept locally and pinned, so it can be re-read after a restart
      const root = extended?.root ?? link.cid;
      const entry: InboxEntry = { from, chain: root, cid: link.cid, seq: (extended?.seq ?? 0) + 1 };
      // Senders are processed concurrently; positions are handed out and journaled one at a time, in order.
      await this.#serialised('inbox', async () => {
        const position = this.#entries.length + 1;
        await this.#append([{ k: 'received', from, cid: link.cid, seq: entry.seq, position, chain: root }]);
        this.#entries.push(entry);
        this.#cacheOpened(position, opened);
      });
      if (extended === undefined) {
        extended = { root, head: link.cid, seq: entry.seq };
        inbox.chains.set(root.toString(), extended);
      } else {
        extended.head = link.cid;
        extended.seq = entry.seq;
      }
      inbox.held.set(link.cid.toString(), extended);
      this.#inboxes.set(from, inbox);
      this.#markAckDue(from, extended);
      this.#stats.received += 1;
      for (const wake of [...this.#entryWaiters]) wake();
    }
  }

  /**
   * A chain close from `from`, verified: closes the chains it names and, with `others`, every other
   * open chain of `from` here but those it keeps. Journaled with the roots it closed, so a restart
   * replays exactly this close, whatever chains arrive later.
   */
  async #receiveClose(from: string, cid: CID, bytes: Uint8Array, senderKey: { id: string; publicKey: Uint8Array }, inbox: Inbox): Promise<void> {
    const opened = await this.#open(bytes, senderKey, cid);
    const close = opened.typeVersion === 1 ? decodeChainClose(opened.body) : undefined;
    if (close === undefined) throw new Refusal('malformed', `the chain close ${cid.toString()} has no valid body`);
    const roots = new Map(close.roots.map((root) => [root.toString(), root]));
    const keep = new Set(close.keep.map((root) => root.toString()));
    if (close.others) for (const [key, chain] of inbox.chains) if (!keep.has(key)) roots.set(key, chain.root);
    const closing = [...roots.values()];
    await this.#append([{ k: 'closed', from, cid, roots: closing }]);
    const self = this.#chainsClosed(inbox, cid, closing);
    this.#inboxes.set(from, inbox);
    this.#stats.closedChains += closing.filter((root) => !root.equals(cid)).length;
    this.#markAckDue(from, self);
  }

  /**
   * Closes `roots` in `inbox`: they leave the sender's open chains (and its cap), their envelopes stay
   * held (duplicates when replayed), and nothing may extend or start them. The close `cid` itself is held
   * as a closed one-envelope chain, so it is acknowledged and its replays are duplicates.
   */
  #chainsClosed(inbox: Inbox, cid: CID, roots: readonly CID[]): InboundChain {
    const self: InboundChain = { root: cid, head: cid, seq: 1 };
    inbox.held.set(cid.toString(), self);
    inbox.closed.add(cid.toString());
    for (const root of roots) {
      inbox.closed.add(root.toString());
      inbox.chains.delete(root.toString());
    }
    return self;
  }

  async #resolveSender(from: string, head: CID): Promise<ResolvedIdentity> {
    try {
      return await this.#options.resolver.resolve(from, { heads: [head], timeoutMs: this.#fetchTimeoutMs });
    } catch (error) {
      if (isPkiError(error, 'REVOKED')) throw new Refusal('revoked-sender', `sender ${from} is revoked`);
      if (isPkiError(error, 'FORKED')) throw new Refusal('forked-sender', `sender ${from} is forked`);
      if (isPkiError(error, 'NOT_FOUND') && this.#closed) throw error;
      throw new Refusal('unknown-sender', `sender ${from} does not resolve: ${describe(error)}`);
    }
  }

  async #fetchEnvelope(cid: CID): Promise<Uint8Array> {
    try {
      return await this.#options.store.get(cid, { timeoutMs: this.#fetchTimeoutMs, maxBytes: this.#maxEnvelopeBytes });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'TOO_LARGE' || code === 'INVALID_DATA' || code === 'INVALID_CID') throw new Refusal('malformed', `envelope ${cid.toString()}: ${String(code)}`);
      throw error; // transient: timeouts, unreachable peers
    }
  }

  async #open(bytes: Uint8Array, sender: { id: string; publicKey: Uint8Array }, cid: CID): Promise<Opened> {
    try {
      const { envelope, body } = await openEnvelope(bytes, { sender, recipient: this.#recipientKey });
      return { type: envelope.header.type, typeVersion: envelope.header.typeVersion, body };
    } catch (error) {
      if (isEnvelopeError(error, 'BAD_SIGNATURE')) throw new Refusal('bad-signature', `envelope ${cid.toString()} is not signed by its sender`);
      if (isEnvelopeError(error, 'NOT_A_RECIPIENT')) throw new Refusal('not-addressed', `envelope ${cid.toString()} is not sealed to this identity`);
      if (isEnvelopeError(error, 'MALFORMED') || isEnvelopeError(error, 'UNSUPPORTED_VERSION')) throw new Refusal('malformed', `envelope ${cid.toString()} is malformed`);
      throw new Refusal('undecryptable', `envelope ${cid.toString()} does not open`);
    }
  }

  /** Announcements from `from` waiting or in progress (the one being handled included). */
  #queued(from: string): number {
    return this.#queuedAnnouncements.get(from)?.size ?? 0;
  }

  /**
   * Notes that `from` is owed an acknowledgement of `chain`: it gained envelopes, or (`announced`)
   * an envelope of it was announced again. It goes out within ACK_MAX_DELAY_MS at the latest.
   */
  #markAckDue(from: string, chain: InboundChain, announced?: CID): void {
    if (this.#closed) return;
    let due = this.#ackDue.get(from);
    if (due === undefined) {
      const timer = setTimeout(() => void this.#flushAck(from), ACK_MAX_DELAY_MS);
      timer.unref?.();
      this.#ackDue.set(from, (due = { timer, grown: new Set(), repeated: new Map() }));
    }
    if (announced === undefined) due.grown.add(chain);
    else due.repeated.set(chain, announced);
  }

  /**
   * Acknowledges the head of every chain of `from` that grew, and for one chain that was only
   * announced again, the envelope last announced: the node that announced it knows that one, while
   * the head may be beyond what it knows (a node whose journal was restored from a backup announces
   * the old envelopes it still holds unacknowledged). Other such chains wait for the next flush:
   * re-announcements cost the announcer nothing (anyone can replay one), so they may cost this node
   * at most one signature per flush.
   */
  async #flushAck(from: string): Promise<void> {
    const due = this.#ackDue.get(from);
    if (due === undefined) return;
    clearTimeout(due.timer);
    this.#ackDue.delete(from);
    const acks = [...due.grown].map((chain) => chain.head);
    const repeated = [...due.repeated].filter(([chain]) => !due.grown.has(chain));
    if (repeated.length > 0) acks.push(repeated.shift()![1]);
    for (const [chain, announced] of repeated) this.#markAckDue(from, chain, announced);
    for (const cid of acks) await this.#acknowledge(from, cid).catch(() => undefined);
  }

  /** Publishes a signed acknowledgement of `head` and its whole chain to `to`. */
  async #acknowledge(to: string, head: CID): Promise<void> {
    if (this.#closed) return;
    const unsigned = { from: this.#me, to, cid: head };
    const sig = await this.#signer.sign(acknowledgementSignedBytes(unsigned), ACK_SIGNATURE_CONTEXT);
    const frame = encodeFrame({ kind: 'ack', ...unsigned, head: this.#options.identity.head, sig });
    await this.#options.pubsub.publish(messagingTopic(to), frame);
  }

  async #materialise(position: number): Promise<DeliveredMessage> {
    const entry = this.#entries[position - 1]!;
    let opened = this.#opened.get(position);
    this.#opened.delete(position);
    if (opened === undefined) {
      // Not read while fresh (or read again after a restart): open it anew from the pinned block.
      const bytes = await this.#options.store.get(entry.cid, { timeoutMs: this.#fetchTimeoutMs, maxBytes: this.#maxEnvelopeBytes });
      const sender = await this.#options.resolver.resolve(entry.from, { timeoutMs: this.#fetchTimeoutMs });
      const { envelope, body } = await openEnvelope(bytes, { sender: { id: entry.from, publicKey: sender.keys.sign }, recipient: this.#recipientKey });
      opened = { type: envelope.header.type, typeVersion: envelope.header.typeVersion, body };
    }
    return { position, from: entry.from, chain: entry.chain, seq: entry.seq, cid: entry.cid, ...opened };
  }

  #cacheOpened(position: number, opened: Opened): void {
    this.#opened.set(position, opened);
    while (this.#opened.size > OPENED_CACHE_ENTRIES) this.#opened.delete(this.#opened.keys().next().value!);
  }

  // --- state ---------------------------------------------------------------------------------

  #replay(record: JournalRecord): void {
    switch (record.k) {
      case 'sent': {
        const outbox = this.#outbox(record.to);
        if (record.seq !== outbox.seq + 1) throw new MessagingError('JOURNAL_FAILED', `journal: outbox to ${record.to} jumps from ${outbox.seq} to ${record.seq}`);
        if (record.seq === 1) this.#chainStarted(record.to, outbox, record.cid);
        outbox.head = record.cid;
        outbox.seq = record.seq;
        outbox.unacked.set(record.cid.toString(), record.seq);
        break;
      }
      case 'acked': {
        const outbox = this.#outboxOf(record.to, record.cid);
        const seq = outbox?.unacked.get(record.cid.toString());
        if (outbox !== undefined && seq !== undefined && seq > outbox.ackedSeq) outbox.ackedSeq = seq;
        if (outbox !== undefined && outbox.ackedSeq >= outbox.seq) this.#forgetClosed(record.to, outbox);
        break;
      }
      case 'chains-closed':
        // The chains recorded so far may have been extended elsewhere (this journal is a restored or
        // copied one): the next envelope to each recipient starts a new chain. Unacknowledged
        // envelopes of the old ones are still announced until acknowledged, then the old chains are
        // closed at their recipients.
        this.#endChains();
        break;
      case 'close-sent':
        this.#closeSent(record.to, record.cid);
        break;
      case 'closed':
        this.#chainsClosed(this.#inbox(record.from), record.cid, record.roots);
        break;
      case 'received': {
        const inbox = this.#inbox(record.from);
        // A record without `chain` is from a journal of one chain per sender: its root is the seq 1 record.
        const root = record.chain ?? (record.seq === 1 ? record.cid : this.#legacyRoots.get(record.from));
        if (record.chain === undefined && root !== undefined) this.#legacyRoots.set(record.from, root);
        const chain = root === undefined ? undefined : inbox.chains.get(root.toString());
        const inOrder = chain === undefined ? record.seq === 1 && root?.equals(record.cid) === true : record.seq === chain.seq + 1;
        if (record.position !== this.#entries.length + 1 || !inOrder) {
          throw new MessagingError('JOURNAL_FAILED', `journal: inbox record at position ${record.position} is out of order`);
        }
        let held: InboundChain;
        if (chain === undefined) inbox.chains.set(record.cid.toString(), (held = { root: record.cid, head: record.cid, seq: 1 }));
        else {
          held = chain;
          held.head = record.cid;
          held.seq = record.seq;
        }
        inbox.held.set(record.cid.toString(), held);
        this.#entries.push({ from: record.from, chain: held.root, cid: record.cid, seq: record.seq });
        break;
      }
      case 'consumed':
        this.#consumed = Math.max(this.#consumed, Math.min(record.position, this.#entries.length));
        break;
    }
  }

  /** The current and the closed outboxes, with their recipients. */
  #allOutboxes(): Array<[string, Outbox]> {
    const all = [...this.#outboxes];
    for (const [to, closed] of this.#closedOutboxes) for (const outbox of closed) all.push([to, outbox]);
    return all;
  }

  /** The outbox to `to` (current or closed) in which `cid` waits for its acknowledgement. */
  #outboxOf(to: string, cid: CID): Outbox | undefined {
    const key = cid.toString();
    return [this.#outboxes.get(to), ...(this.#closedOutboxes.get(to) ?? [])].find((outbox) => outbox?.unacked.has(key) === true);
  }

  /** Drops a closed outbox once everything in it is acknowledged (a current one stays: the next send extends it). */
  #forgetClosed(to: string, outbox: Outbox): void {
    const closed = this.#closedOutboxes.get(to)?.filter((other) => other !== outbox);
    if (closed === undefined) return;
    if (closed.length === 0) this.#closedOutboxes.delete(to);
    else this.#closedOutboxes.set(to, closed);
  }

  #outbox(to: string): Outbox {
    let outbox = this.#outboxes.get(to);
    if (outbox === undefined) {
      outbox = { seq: 0, ackedSeq: 0, unacked: new Map(), waiters: new Map(), attempt: 1, announcedAt: new Map(), recoverTo: 0 };
      this.#outboxes.set(to, outbox);
    }
    return outbox;
  }

  #inbox(from: string): Inbox {
    let inbox = this.#inboxes.get(from);
    if (inbox === undefined) {
      inbox = { chains: new Map(), held: new Map(), closed: new Set() };
      this.#inboxes.set(from, inbox);
    }
    return inbox;
  }

  async #append(records: readonly JournalRecord[]): Promise<void> {
    try {
      await this.#options.journal.append(records);
    } catch (cause) {
      if (cause instanceof MessagingError) throw cause;
      throw new MessagingError('JOURNAL_FAILED', 'the journal could not be written', { cause });
    }
  }

  /** Runs `task` after every earlier task of the same queue. */
  #serialised<T>(queue: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(queue) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(queue, settled);
    void settled.then(() => {
      if (this.#queues.get(queue) === settled) this.#queues.delete(queue);
    });
    return run;
  }

  #reject(rejection: Rejection): void {
    this.#stats.rejected[rejection.reason] += 1;
    this.#options.onRejected?.(rejection);
  }

  #checkOpen(): void {
    if (this.#closed) throw new MessagingError('CLOSED', 'the messenger is closed');
  }
}

/** An announcement's inline envelope, which must be the block its CID names. */
function inlineEnvelope(announcement: Announcement): Uint8Array {
  const bytes = announcement.envelope!;
  if (envelopeCid(bytes).toString() !== announcement.cid.toString()) throw new Refusal('malformed', `the inline envelope is not ${announcement.cid.toString()}`);
  return bytes;
}

function decodeOrRefuse(bytes: Uint8Array): Envelope {
  try {
    return decodeEnvelope(bytes);
  } catch {
    throw new Refusal('malformed', 'the announced block is not an envelope');
  }
}

function positive(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new MessagingError('INVALID_ARGUMENT', `${name} must be a positive integer`);
  return value;
}

/** ±20 %, so many senders retrying at once spread out. */
function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}${'code' in error ? ` ${String((error as { code: unknown }).code)}` : ''}: ${error.message}`;
  return 'unknown error';
}
