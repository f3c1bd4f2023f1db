/** Tunables and protocol constants of messaging v1 (docs/specs/messaging-v1.md). */
import { utf8ToBytes } from '@milagro/crypto';

/** Wire format version of announcements and acknowledgements. */
export const MESSAGING_VERSION = 1;

/** Every identity listens on `<prefix><identity CID>`. */
export const TOPIC_PREFIX = '/milagro/messaging/1/';

/** Composite-signature context of acknowledgements (domain separation from envelopes and documents). */
export const ACK_SIGNATURE_CONTEXT = utf8ToBytes('milagro messaging v1 ack');

/** Largest envelope fetched for one message (inline body included). */
export const DEFAULT_MAX_ENVELOPE_BYTES = 1024 * 1024;

/**
 * Envelopes up to this size travel inside their announcement, so the recipient needs no Bitswap
 * round trip for them (it still checks them against their CID). Larger ones are fetched.
 */
export const MAX_INLINE_ENVELOPE_BYTES = 64 * 1024;

/** Largest pubsub frame accepted: an announcement with an inline envelope, plus room for its fields. */
export const MAX_FRAME_BYTES = MAX_INLINE_ENVELOPE_BYTES + 1024;

/** Time allowed for fetching one envelope or identity document. */
export const DEFAULT_FETCH_TIMEOUT_MS = 10_000;

/** First re-announcement delay; doubles per attempt up to {@link DEFAULT_RETRY_MAX_MS}, ±20 % jitter. */
export const DEFAULT_RETRY_INITIAL_MS = 500;

/** Longest delay between re-announcements of an unacknowledged message. */
export const DEFAULT_RETRY_MAX_MS = 30_000;

/**
 * Acknowledgements are coalesced: one covers everything held from a sender. It goes out when no more
 * announcements from that sender are queued, or at the latest this long after it fell due, so a
 * sender that never pauses (and its retries) still gets acknowledged.
 */
export const ACK_MAX_DELAY_MS = 250;

/** Unacknowledged envelopes re-announced (oldest first) per retry. */
export const RETRY_WINDOW = 16;

/**
 * Most chains one sender may have into an inbox. A sender has one chain per journal (each replica of
 * an identity, each start from the identity's keys without the journal), so this bounds how often an
 * identity can be set up afresh; chains are never forgotten (an old one's envelopes stay duplicates).
 */
export const DEFAULT_MAX_CHAINS_PER_SENDER = 64;

/** Most envelopes fetched behind one announcement while catching up on a sender's outbox chain. */
export const MAX_CATCH_UP = 10_000;

/** How long `send` keeps trying to store an envelope while IPFS is unavailable (a Kubo restart). */
export const DEFAULT_STORE_RETRY_MS = 60_000;

/** First wait before storing an envelope again; doubles up to {@link STORE_RETRY_LONGEST_MS}. */
export const STORE_RETRY_FIRST_MS = 250;
export const STORE_RETRY_LONGEST_MS = 5_000;

/**
 * Content types under this prefix are messaging's own (a chain close); `send` refuses them, so an
 * application can never forge one to its peers' messaging layer.
 */
export const RESERVED_TYPE_PREFIX = 'milagro/messaging/';

/** Envelope content type of a chain close (docs/specs/messaging-v1.md §7). */
export const CHAIN_CLOSE_TYPE = 'milagro/messaging/close-chains';

/** Most roots a chain close may name (in `roots` and `keep` together). */
export const MAX_CLOSE_ROOTS = 1024;
