/**
 * Prometheus metrics of the node's messenger, read when `/metrics` is scraped: what is waiting for
 * acknowledgement (the figure to alert on: a peer that is down or partitioned keeps it up), and the
 * messenger's counters since start.
 */
import type { Messenger } from '@milagro/messaging';
import { Counter, Gauge, type Registry } from 'prom-client';

export function registerMessagingMetrics(messenger: Messenger, registry: Registry): void {
  new Gauge({
    name: 'milagro_messaging_unacknowledged_envelopes',
    help: 'Envelopes sent and not yet acknowledged by their recipients (retried with backoff)',
    registers: [registry],
    collect() {
      this.set(messenger.unacknowledged().envelopes);
    },
  });
  new Gauge({
    name: 'milagro_messaging_lagging_recipients',
    help: 'Recipients with at least one unacknowledged envelope',
    registers: [registry],
    collect() {
      this.set(messenger.unacknowledged().recipients);
    },
  });
  new Gauge({
    name: 'milagro_messaging_inbox_length',
    help: 'Envelopes received and journaled (the newest inbox position)',
    registers: [registry],
    collect() {
      this.set(messenger.inboxLength);
    },
  });
  new Counter({
    name: 'milagro_messaging_events_total',
    help: 'Messenger events since start: sent, acknowledged, reannounced, received, duplicates, deferred, closedChains (chains their senders closed here)',
    labelNames: ['event'] as const,
    registers: [registry],
    collect() {
      const stats = messenger.stats();
      this.reset();
      for (const event of ['sent', 'acknowledged', 'reannounced', 'received', 'duplicates', 'deferred', 'closedChains'] as const) this.inc({ event }, stats[event]);
    },
  });
  new Counter({
    name: 'milagro_messaging_rejected_total',
    help:
      'Messages and acknowledgements refused since start, by reason (forged, unknown sender, malformed, ...). too-many-chains: a peer identity set up afresh too often; ' +
      'its operator closes its old chains (closeOtherChains on a sole sender, or retireChains), or raise maxChainsPerSender here (docs/adr/0023-chain-close.md). ' +
      'chain-closed: a node still sends on a chain its identity closed (a copied or restored data dir running twice)',
    labelNames: ['reason'] as const,
    registers: [registry],
    collect() {
      const { rejected } = messenger.stats();
      this.reset();
      for (const [reason, count] of Object.entries(rejected)) this.inc({ reason }, count);
    },
  });
}
