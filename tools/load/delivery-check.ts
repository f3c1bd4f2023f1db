/**
 * The messaging load harness's verdict: every message each sender sent reached the receiver's
 * application exactly once and in the order it was sent, and nothing else arrived.
 */

/** One message as the receiver's application saw it, in delivery order. */
export interface Delivery {
  /** The sender's index in the harness. */
  readonly sender: number;
  /** The sender's number for the message (from 1, consecutive). */
  readonly number: number;
  /** The identity the messenger verified the message came from. */
  readonly from: string;
}

/** What one sender sent: messages 1..count, as `identity`. */
export interface SenderRecord {
  readonly identity: string;
  readonly count: number;
}

/**
 * Problems found, empty when delivery was exactly once and in order per sender: missing, duplicated,
 * out-of-order, unexpected messages, and messages whose verified sender is not the one they name.
 * At most `limit` (default 20) are listed, then a count of the rest.
 */
export function checkDeliveries(senders: readonly SenderRecord[], deliveries: readonly Delivery[], limit = 20): string[] {
  const problems: string[] = [];
  const next = senders.map(() => 1);
  const seen = senders.map(() => new Set<number>());
  for (const [position, delivery] of deliveries.entries()) {
    const sender = senders[delivery.sender];
    const where = `delivery ${position + 1}: sender ${delivery.sender} message ${delivery.number}`;
    if (sender === undefined) {
      problems.push(`${where} from an unknown sender`);
      continue;
    }
    if (delivery.from !== sender.identity) problems.push(`${where} came from ${delivery.from}, not ${sender.identity}`);
    if (!Number.isSafeInteger(delivery.number) || delivery.number < 1 || delivery.number > sender.count) problems.push(`${where} was never sent (sent 1..${sender.count})`);
    else if (seen[delivery.sender]!.has(delivery.number)) problems.push(`${where} delivered again`);
    else if (delivery.number !== next[delivery.sender]) problems.push(`${where} out of order (expected ${next[delivery.sender]})`);
    if (!seen[delivery.sender]!.has(delivery.number)) {
      seen[delivery.sender]!.add(delivery.number);
      next[delivery.sender] = Math.max(next[delivery.sender]!, delivery.number + 1);
    }
  }
  for (const [index, sender] of senders.entries()) {
    const missing = sender.count - [...seen[index]!].filter((n) => n >= 1 && n <= sender.count).length;
    if (missing > 0) problems.push(`sender ${index}: ${missing} of ${sender.count} messages never delivered`);
  }
  return problems.length <= limit ? problems : [...problems.slice(0, limit), `… and ${problems.length - limit} more`];
}

