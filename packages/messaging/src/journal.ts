/**
 * The messenger's durable state as an append-only journal of small records (docs/specs/messaging-v1.md §5).
 * Everything a messenger knows after a restart (outbox chains, acknowledgements, the inbox and the
 * application's position in it) is rebuilt by replaying these records in order.
 */
import { CID } from 'multiformats/cid';

/** One state change. */
export type JournalRecord =
  /** The outbox chain to `to` now ends at `cid`, the sender's `seq`-th envelope to that recipient. */
  | { readonly k: 'sent'; readonly to: string; readonly cid: CID; readonly seq: number }
  /** `to` acknowledged `cid` (and so everything before it). */
  | { readonly k: 'acked'; readonly to: string; readonly cid: CID }
  /**
   * The inbox gained the `seq`-th envelope of `from`'s chain `chain` (the CID of that chain's first
   * envelope), at inbox `position` (1-based, across all senders). Records written before chains had
   * names have no `chain`: they all belong to the sender's one chain, whose root is its `seq` 1 record.
   */
  | { readonly k: 'received'; readonly from: string; readonly cid: CID; readonly seq: number; readonly position: number; readonly chain?: CID }
  /** The application has consumed the inbox through `position` (the default place to resume). */
  | { readonly k: 'consumed'; readonly position: number }
  /**
   * Every outbox chain recorded before ends here: the next envelope to each recipient starts a new
   * chain. Append it to a journal that another node may have continued since it was copied (one
   * restored from a backup), before the messenger starts on it: continuing the old chains would fork
   * them. Their unacknowledged envelopes are still announced until acknowledged.
   */
  | { readonly k: 'chains-closed' }
  /**
   * This journal sent `to` the chain close `cid` (docs/specs/messaging-v1.md §6): an envelope of its own,
   * outside every chain, closing chains of this identity at that recipient. Acknowledged by an `acked`
   * record of `cid`, as any envelope.
   */
  | { readonly k: 'close-sent'; readonly to: string; readonly cid: CID }
  /**
   * The chain close `cid` from `from` closed these chains (named by their roots) in this inbox: their
   * envelopes stay duplicates, nothing may extend them, and they no longer count toward the sender's cap.
   */
  | { readonly k: 'closed'; readonly from: string; readonly cid: CID; readonly roots: readonly CID[] };

/**
 * Where a messenger keeps its journal. `append` must be durable when it resolves (the messenger
 * acknowledges a message only after its record is appended) and must keep records in order; a crash
 * may lose a suffix of the last batch, never anything before it.
 */
export interface MessagingJournal {
  /** Every record, oldest first. Called once, before any append. */
  load(): Promise<JournalRecord[]>;
  /** Appends records in order, durably. */
  append(records: readonly JournalRecord[]): Promise<void>;
  /** Releases the journal; later calls fail. */
  close(): Promise<void>;
}

/** A journal held in memory: for tests and for browsers that keep no state across reloads. */
export class MemoryJournal implements MessagingJournal {
  readonly #records: JournalRecord[] = [];

  async load(): Promise<JournalRecord[]> {
    return [...this.#records];
  }

  async append(records: readonly JournalRecord[]): Promise<void> {
    this.#records.push(...records);
  }

  async close(): Promise<void> {}
}

/** A record as stored (DAG-CBOR), checked field by field when read back. */
export function recordValue(record: JournalRecord): Record<string, unknown> {
  return { ...record };
}

/**
 * Reads back a stored record.
 * @returns undefined when the value is not a valid record (the caller treats that as corruption).
 */
export function parseRecord(value: unknown): JournalRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const map = value as Record<string, unknown>;
  const cid = CID.asCID(map['cid']);
  const position = map['position'];
  const seq = map['seq'];
  const count = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 1;
  switch (map['k']) {
    case 'sent':
      return typeof map['to'] === 'string' && cid !== null && count(seq) ? { k: 'sent', to: map['to'], cid, seq } : undefined;
    case 'acked':
      return typeof map['to'] === 'string' && cid !== null ? { k: 'acked', to: map['to'], cid } : undefined;
    case 'received': {
      const chain = map['chain'] === undefined ? undefined : CID.asCID(map['chain']);
      if (typeof map['from'] !== 'string' || cid === null || !count(seq) || !count(position) || chain === null) return undefined;
      return { k: 'received', from: map['from'], cid, seq, position, ...(chain === undefined ? {} : { chain }) };
    }
    case 'consumed':
      return count(position) ? { k: 'consumed', position } : undefined;
    case 'chains-closed':
      return { k: 'chains-closed' };
    case 'close-sent':
      return typeof map['to'] === 'string' && cid !== null ? { k: 'close-sent', to: map['to'], cid } : undefined;
    case 'closed': {
      const roots = Array.isArray(map['roots']) ? map['roots'].map((root) => CID.asCID(root)) : [null];
      if (typeof map['from'] !== 'string' || cid === null || roots.some((root) => root === null)) return undefined;
      return { k: 'closed', from: map['from'], cid, roots: roots as CID[] };
    }
    default:
      return undefined;
  }
}
