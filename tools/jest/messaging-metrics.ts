/**
 * Messaging's delivery accounting, read from servers' `/metrics` (packages/node/src/messaging-metrics.ts):
 * for fault tests that end with "nothing lost, nothing twice" across a set of nodes.
 */
import { waitFor } from './peer-process.js';

/** A metric's value at a server's `/metrics` (`labels` like `event="sent"`); throws when it is not exported. */
export async function metricValue(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(20_000) })).text();
  const match = new RegExp(`^${name}${labels === '' ? '' : `\\{${labels}\\}`} (\\S+)$`, 'm').exec(text);
  if (match === null) throw new Error(`${url} exports no ${name}${labels}`);
  return Number(match[1]);
}

/**
 * Waits until no server in `urls` has an unacknowledged envelope, then until, summed over them, as many
 * envelopes were acknowledged and received as were sent (at least one): every envelope delivered exactly
 * once when every recipient is among `urls`. Polled: a node may send something of its own meanwhile, and
 * a duplicate delivery would never settle. Returns the count; the error names the last counts seen.
 */
export async function waitForMessagingSettled(urls: readonly string[], timeoutMs = 180_000): Promise<number> {
  for (const url of urls) await waitFor(`nothing unacknowledged at ${url}`, async () => (await metricValue(url, 'milagro_messaging_unacknowledged_envelopes')) === 0, timeoutMs, 1_000);
  const total = async (event: string) => (await Promise.all(urls.map((url) => metricValue(url, 'milagro_messaging_events_total', `event="${event}"`)))).reduce((a, b) => a + b, 0);
  let counts: number[] = [];
  await waitFor(
    'as many envelopes acknowledged and received as sent',
    async () => {
      counts = [await total('sent'), await total('acknowledged'), await total('received')];
      return counts[0]! > 0 && counts.every((n) => n === counts[0]);
    },
    timeoutMs,
    1_000,
  ).catch((error: unknown) => {
    throw new Error(`sent, acknowledged, received: ${counts.join(', ')}`, { cause: error });
  });
  return counts[0]!;
}
