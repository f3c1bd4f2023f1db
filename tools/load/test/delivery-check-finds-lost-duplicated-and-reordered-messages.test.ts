/**
 * The messaging load harness fails a run by checkDeliveries: it must accept exactly-once, in-order
 * delivery per sender (senders interleaved any way), and name every lost, duplicated, reordered,
 * unsent or misattributed message.
 */
import fc from 'fast-check';
import { checkDeliveries, type Delivery, type SenderRecord } from '../delivery-check.js';

const senders: SenderRecord[] = [
  { identity: 'bafy-a', count: 3 },
  { identity: 'bafy-b', count: 2 },
];
const d = (sender: number, number: number, from = senders[sender]?.identity ?? 'bafy-x'): Delivery => ({ sender, number, from });
const inOrder = [d(0, 1), d(1, 1), d(0, 2), d(0, 3), d(1, 2)];

describe('checkDeliveries', () => {
  it('accepts every message once, in order per sender, however the senders interleave', () => {
    expect(checkDeliveries(senders, inOrder)).toEqual([]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 5 }), fc.array(fc.nat()), (counts, picks) => {
        const records = counts.map((count, i) => ({ identity: `id-${i}`, count }));
        const next = counts.map(() => 1);
        const deliveries: Delivery[] = [];
        for (let k = 0; deliveries.length < counts.reduce((a, b) => a + b, 0); k += 1) {
          const open = records.map((_, i) => i).filter((i) => next[i]! <= counts[i]!);
          const sender = open[(picks[k] ?? k) % open.length]!;
          deliveries.push({ sender, number: next[sender]!++, from: `id-${sender}` });
        }
        return checkDeliveries(records, deliveries).length === 0;
      }),
    );
  });

  it('finds a duplicate', () => {
    expect(checkDeliveries(senders, [...inOrder.slice(0, 3), d(0, 2), ...inOrder.slice(3)])).toEqual(['delivery 4: sender 0 message 2 delivered again']);
  });

  it('finds a lost message', () => {
    expect(checkDeliveries(senders, inOrder.filter((x) => !(x.sender === 1 && x.number === 2)))).toEqual(['sender 1: 1 of 2 messages never delivered']);
  });

  it('finds messages out of order', () => {
    expect(checkDeliveries(senders, [d(0, 2), d(0, 1), d(0, 3), d(1, 1), d(1, 2)])).toEqual(['delivery 1: sender 0 message 2 out of order (expected 1)', 'delivery 2: sender 0 message 1 out of order (expected 3)']);
  });

  it('finds messages never sent, from unknown senders, or from another identity than named', () => {
    expect(checkDeliveries(senders, [...inOrder, d(0, 4), d(2, 1), d(1, 3, 'bafy-a')])).toEqual([
      'delivery 6: sender 0 message 4 was never sent (sent 1..3)',
      'delivery 7: sender 2 message 1 from an unknown sender',
      'delivery 8: sender 1 message 3 came from bafy-a, not bafy-b',
      'delivery 8: sender 1 message 3 was never sent (sent 1..2)',
    ]);
  });

  it('lists at most `limit` problems, then how many more', () => {
    const problems = checkDeliveries([{ identity: 'a', count: 50 }], [], 3);
    expect(problems).toEqual(['sender 0: 50 of 50 messages never delivered']);
    const many = checkDeliveries([{ identity: 'a', count: 1 }], Array.from({ length: 10 }, () => d(0, 1, 'a')), 3);
    expect(many).toEqual(['delivery 2: sender 0 message 1 delivered again', 'delivery 3: sender 0 message 1 delivered again', 'delivery 4: sender 0 message 1 delivered again', '… and 6 more']);
  });
});
