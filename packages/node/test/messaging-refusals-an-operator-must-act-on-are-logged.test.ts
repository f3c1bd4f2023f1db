/**
 * The messaging refusals a node logs for its operator (bootstrapNode with a logger): only those that
 * need an operator (`too-many-chains`, which says what to do, and `chain-closed`), each at most once
 * a minute per sender and reason, with the sender and envelope but nothing else of the message.
 */
import type { Rejection } from '@milagro/messaging';
import { rejectionLog } from '../src/bootstrap.js';

it('logs too-many-chains and chain-closed once a minute per sender and reason, and nothing else', () => {
  const lines: Array<{ fields: Record<string, unknown>; message: string }> = [];
  let clock = 1_000_000;
  const log = rejectionLog({ warn: ((fields: Record<string, unknown>, message: string) => lines.push({ fields, message })) as never }, () => clock);
  const refusal = (reason: Rejection['reason'], from: string): Rejection => ({ reason, from, cid: `bafy-${reason}-${from}`, detail: `${reason} from ${from}: what to do` });

  log(refusal('too-many-chains', 'alice'));
  log(refusal('too-many-chains', 'alice'));
  log(refusal('chain-closed', 'alice'));
  log(refusal('too-many-chains', 'bob'));
  log(refusal('bad-signature', 'mallory'));
  log(refusal('broken-chain', 'alice'));
  expect(lines.map((line) => line.fields)).toEqual([
    { event: 'messaging-refused', reason: 'too-many-chains', from: 'alice', cid: 'bafy-too-many-chains-alice' },
    { event: 'messaging-refused', reason: 'chain-closed', from: 'alice', cid: 'bafy-chain-closed-alice' },
    { event: 'messaging-refused', reason: 'too-many-chains', from: 'bob', cid: 'bafy-too-many-chains-bob' },
  ]);
  expect(lines[0]!.message).toBe('too-many-chains from alice: what to do');

  clock += 59_999;
  log(refusal('too-many-chains', 'alice'));
  expect(lines).toHaveLength(3);
  clock += 1;
  log(refusal('too-many-chains', 'alice'));
  expect(lines).toHaveLength(4);
});
