/**
 * `NodeInbox`: one reader of the messenger's inbox hands each message to the role that claims its
 * type, records it as consumed only after that role has, consumes what no role claims, and leaves
 * a message a role still holds unconsumed when it closes (so it comes again on the next start).
 */
import type { DeliveredMessage, Messenger, ReadOptions } from '@milagro/messaging';
import { NodeInbox } from '../src/node-inbox.js';

/** An inbox with the Messenger's reading contract (`messages` from the consumed position, `consumed`). */
class FakeInbox {
  readonly entries: DeliveredMessage[] = [];
  consumedThrough = 0;
  #wake: () => void = () => undefined;
  sent: string[] = [];

  push(type: string): void {
    const position = this.entries.length + 1;
    this.entries.push({ position, from: 'peer', seq: position, type, typeVersion: 1, body: new Uint8Array([position]) } as unknown as DeliveredMessage);
    this.#wake();
  }

  async *messages(options: ReadOptions = {}): AsyncGenerator<DeliveredMessage> {
    let position = this.consumedThrough;
    while (options.signal?.aborted !== true) {
      if (position < this.entries.length) {
        yield this.entries[position++] as DeliveredMessage;
        continue;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  async consumed(position: number): Promise<void> {
    this.consumedThrough = Math.max(this.consumedThrough, position);
  }

  async send(to: string): Promise<void> {
    this.sent.push(to);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

it('dispatches by type, consumes only after the owning role, and consumes unclaimed messages', async () => {
  const fake = new FakeInbox();
  const unclaimed: string[] = [];
  const inbox = new NodeInbox(fake as unknown as Messenger, { onUnclaimed: (message) => unclaimed.push(message.type) });
  const dta = inbox.claim((type) => type.startsWith('dta/'));
  const mfa = inbox.claim((type) => type === 'share');
  inbox.start();

  const seenByDta: number[] = [];
  const seenByMfa: number[] = [];
  let releaseDta: () => void = () => undefined;
  const dtaLoop = (async () => {
    for await (const message of dta.messages()) {
      seenByDta.push(message.position);
      await new Promise<void>((resolve) => (releaseDta = resolve));
      await dta.consumed(message.position);
    }
  })();
  const mfaLoop = (async () => {
    for await (const message of mfa.messages()) {
      seenByMfa.push(message.position);
      await mfa.consumed(message.position);
    }
  })();

  fake.push('dta/realm');
  fake.push('share');
  fake.push('unknown');
  await settle();
  // The D-TA holds message 1: nothing is consumed, and later messages wait in order behind it.
  expect(seenByDta).toEqual([1]);
  expect(seenByMfa).toEqual([]);
  expect(fake.consumedThrough).toBe(0);

  releaseDta();
  await settle();
  expect(seenByMfa).toEqual([2]);
  expect(unclaimed).toEqual(['unknown']);
  expect(fake.consumedThrough).toBe(3);

  // Sending goes to the node's messenger.
  await dta.send('someone', { type: 'x', body: new Uint8Array() });
  expect(fake.sent).toEqual(['someone']);

  // Closed while the D-TA holds message 4: it stays unconsumed, and both roles' loops end.
  fake.push('dta/realm');
  await settle();
  expect(seenByDta).toEqual([1, 4]);
  await inbox.close();
  releaseDta();
  await Promise.all([dtaLoop, mfaLoop]);
  expect(fake.consumedThrough).toBe(3);
});
