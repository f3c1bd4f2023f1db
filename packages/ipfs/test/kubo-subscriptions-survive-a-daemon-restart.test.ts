/**
 * A node on Kubo keeps its pubsub subscriptions across a daemon restart (graceful or SIGKILL): the
 * subscription streams end with the daemon, and the adapter subscribes again once it answers, so
 * messages published after the restart arrive. The blocks put before the restart are still there.
 */
import { connectKubo, type IpfsNode, type PubSubMessage } from '@milagro/ipfs';
import { startKubo, type KuboDaemon } from '../../../tools/kubo/kubo-daemon.js';
import { kuboAvailability, reportMissingKubo } from './support/kubo-binary.js';

const kubo = kuboAvailability();

describe('subscriptions over Kubo across a daemon restart', () => {
  if ('missing' in kubo) {
    reportMissingKubo('Kubo restart', kubo);
    return;
  }
  let daemon: KuboDaemon;
  let node: IpfsNode;
  beforeAll(async () => {
    daemon = await startKubo({ binary: kubo.binary });
    node = await connectKubo({ url: daemon.apiUrl });
  }, 120_000);
  afterAll(async () => {
    await node?.stop();
    await daemon?.stop();
  });

  /** Publishes `prefix-<n>` every 300 ms until the handler has seen one (or `timeoutMs` passes). */
  async function publishUntilReceived(topic: string, received: PubSubMessage[], prefix: string, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let n = 0; !received.some((m) => new TextDecoder().decode(m.data).startsWith(prefix)); n += 1) {
      if (Date.now() > deadline) throw new Error(`no ${prefix} message arrived in ${timeoutMs} ms`);
      await node.pubsub.publish(topic, new TextEncoder().encode(`${prefix}-${n}`)).catch(() => undefined); // the daemon may still be starting
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }

  it.each([
    ['a graceful restart', false],
    ['a SIGKILL', true],
  ])('messages arrive again after %s', async (_what, kill) => {
    const topic = `milagro-restart-${kill ? 'kill' : 'term'}`;
    const received: PubSubMessage[] = [];
    await node.pubsub.subscribe(topic, (message) => received.push(message));
    await publishUntilReceived(topic, received, 'before');
    const cid = await node.store.put(new TextEncoder().encode(`kept across the restart (${topic})`), { pin: true });

    await daemon.restart({ kill, downMs: 1_000 });
    await publishUntilReceived(topic, received, 'after');
    expect(new TextDecoder().decode(await node.store.get(cid))).toBe(`kept across the restart (${topic})`);
    await node.pubsub.unsubscribe(topic);
  }, 180_000);
});
