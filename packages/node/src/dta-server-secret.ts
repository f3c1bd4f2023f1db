/**
 * The MFA service's `ServerSecretSource` over @milagro/dta: the realm's D-TAs send their shares
 * s_i·Q of the server secret as messages (sealed to this server's identity, signed by the D-TA,
 * verified by @milagro/messaging against the PKI). At start-up this source asks every D-TA once to
 * send its share again (a D-TA honours that only from the realm's MFA service), waits for t shares
 * of the same epoch, and combines them. A subset whose combination fails the self-check against the
 * realm's group public key s·G1 (read from the D-TAs' realm status) is skipped, so one D-TA sending
 * a bad share cannot keep the service down while t honest ones answer.
 *
 * The combined secret lives in memory only; after a restart it is fetched again.
 */
import { base64urlToBytes } from '@milagro/crypto';
import { decodeServerShareMessage, encodeServerShareRequest, SERVER_SHARE_REQUEST_TYPE } from '@milagro/dta';
import { checkServerSecret, type MfaLogger, type ServerSecretMaterial, type ServerSecretSource } from '@milagro/mfa';
import { combineServerSecret, type MpinSuite } from '@milagro/mpin';

export interface DtaServerSecretOptions {
  readonly suite: MpinSuite;
  readonly realmId: string;
  readonly threshold: number;
  readonly dtas: ReadonlyArray<{ readonly id: string; readonly url: string }>;
  /** `Messenger.send`: resolves once the message is durable here (delivery is retried by messaging). */
  readonly send: (to: string, message: { type: string; body: Uint8Array }) => Promise<unknown>;
  readonly logger: MfaLogger;
  /** How long one `load` waits for t shares before it rejects (the service retries); default 30 s. */
  readonly waitMs?: number;
  readonly fetch?: typeof fetch;
}

/** How often a share request that could not be queued is tried again while waiting. */
const REQUEST_RETRY_MS = 2_000;

/** Combinations tried before giving up on an epoch (every subset when a few D-TAs answered; bounded for large realms). */
const MAX_SUBSETS = 256;

interface ReceivedShare {
  readonly index: bigint;
  readonly share: Uint8Array;
}

/** Why a load attempt failed (the service logs the code, never the content). */
class ServerSecretUnavailable extends Error {
  constructor(
    readonly code: 'NOT_ENOUGH_SHARES' | 'GROUP_KEY_UNAVAILABLE' | 'INCONSISTENT_SHARES',
    message: string,
  ) {
    super(message);
    this.name = 'ServerSecretUnavailable';
  }
}

export class DtaServerSecretSource implements ServerSecretSource {
  readonly #options: DtaServerSecretOptions;
  readonly #members: ReadonlySet<string>;
  /** Shares by epoch, then by sending D-TA. */
  readonly #shares = new Map<number, Map<string, ReceivedShare>>();
  #wake: () => void = () => undefined;
  /** D-TAs whose share request is not yet durably queued (a send fails while their identity cannot be resolved yet, e.g. right after start before peers are connected). */
  readonly #unrequested: Set<string>;

  constructor(options: DtaServerSecretOptions) {
    this.#options = options;
    this.#unrequested = new Set(options.dtas.map((dta) => dta.id));
    this.#members = new Set(options.dtas.map((dta) => dta.id));
  }

  /**
   * Takes a delivered `milagro/dta/server-share` message. Shares from identities that are not the
   * realm's D-TAs, for another realm, or malformed are dropped (and logged without content).
   */
  accept(message: { readonly from: string; readonly body: Uint8Array }): void {
    if (!this.#members.has(message.from)) {
      this.#options.logger.warn({ event: 'server-share-refused', from: message.from, reason: 'not a D-TA of the realm' }, 'server share refused');
      return;
    }
    let decoded;
    try {
      decoded = decodeServerShareMessage(message.body);
    } catch {
      this.#options.logger.warn({ event: 'server-share-refused', from: message.from, reason: 'malformed' }, 'server share refused');
      return;
    }
    if (decoded.realm !== this.#options.realmId) return;
    let byDta = this.#shares.get(decoded.epoch);
    if (byDta === undefined) this.#shares.set(decoded.epoch, (byDta = new Map()));
    byDta.set(message.from, { index: decoded.index, share: decoded.share });
    this.#options.logger.info({ event: 'server-share', from: message.from, epoch: decoded.epoch, received: byDta.size }, 'server share received');
    this.#wake();
  }

  async load(signal: AbortSignal): Promise<ServerSecretMaterial> {
    const deadline = Date.now() + (this.#options.waitMs ?? 30_000);
    for (;;) {
      if (this.#unrequested.size > 0) await this.#requestShares();
      const epoch = this.#readyEpoch();
      if (epoch !== undefined) return this.#combine(epoch, signal);
      const remaining = deadline - Date.now();
      if (remaining <= 0 || signal.aborted) {
        throw new ServerSecretUnavailable('NOT_ENOUGH_SHARES', `fewer than ${this.#options.threshold} server-secret shares of one epoch have arrived`);
      }
      // Wake on a new share, or soon enough to retry requests that could not be sent yet.
      const wait = this.#unrequested.size > 0 ? Math.min(remaining, REQUEST_RETRY_MS) : remaining;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        signal.addEventListener('abort', done, { once: true });
        this.#wake = done;
        function done(): void {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
      });
    }
  }

  /**
   * Asks each D-TA once per process (messaging then retries delivery to a D-TA that is down); a
   * request that could not even be queued (the D-TA's identity not resolvable yet) is tried again.
   */
  async #requestShares(): Promise<void> {
    const body = encodeServerShareRequest(this.#options.realmId);
    await Promise.all(
      [...this.#unrequested].map(async (dta) => {
        try {
          await this.#options.send(dta, { type: SERVER_SHARE_REQUEST_TYPE, body });
          this.#unrequested.delete(dta);
        } catch (error) {
          this.#options.logger.warn({ event: 'server-share-request-failed', to: dta, code: (error as { code?: unknown }).code }, 'server share request not sent yet');
        }
      }),
    );
  }

  /** The newest epoch with at least t shares. */
  #readyEpoch(): number | undefined {
    const epochs = [...this.#shares.entries()].filter(([, byDta]) => byDta.size >= this.#options.threshold).map(([epoch]) => epoch);
    return epochs.length === 0 ? undefined : Math.max(...epochs);
  }

  async #combine(epoch: number, signal: AbortSignal): Promise<ServerSecretMaterial> {
    const byDta = this.#shares.get(epoch) as Map<string, ReceivedShare>;
    const groupPublicKey = await this.#groupPublicKey([...byDta.keys()], signal);
    const shares = [...byDta.values()];
    let tried = 0;
    for (const subset of subsets(shares, this.#options.threshold)) {
      if (++tried > MAX_SUBSETS) break;
      const material = { serverSecret: combineServerSecret(this.#options.suite, subset), groupPublicKey };
      try {
        checkServerSecret(this.#options.suite, material);
        return material;
      } catch {
        // A bad share in this subset: try the next one.
      }
    }
    throw new ServerSecretUnavailable('INCONSISTENT_SHARES', `no ${this.#options.threshold} of the ${shares.length} server-secret shares of epoch ${epoch} combine to the group public key`);
  }

  /** s·G1 from the realm status of the first D-TA that answers (the self-check does not trust it blindly: a wrong key fails it). */
  async #groupPublicKey(senders: readonly string[], signal: AbortSignal): Promise<Uint8Array> {
    const fetchImpl = this.#options.fetch ?? fetch;
    const ordered = [...this.#options.dtas].sort((a, b) => Number(senders.includes(b.id)) - Number(senders.includes(a.id)));
    for (const dta of ordered) {
      try {
        const response = await fetchImpl(new URL(`v1/realms/${this.#options.realmId}`, withSlash(dta.url)), { signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]) });
        if (!response.ok) continue;
        const status = (await response.json()) as { state?: unknown; groupPublicKey?: unknown };
        if (status.state === 'active' && typeof status.groupPublicKey === 'string') return base64urlToBytes(status.groupPublicKey);
      } catch {
        // Unreachable or malformed: ask the next D-TA.
      }
    }
    throw new ServerSecretUnavailable('GROUP_KEY_UNAVAILABLE', "no D-TA answered with the realm's group public key");
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** Every k-element subset of `items`, in order (n ≤ 255, t small: a handful in practice). */
function* subsets<T>(items: readonly T[], k: number, start = 0, prefix: T[] = []): Generator<T[]> {
  if (prefix.length === k) {
    yield [...prefix];
    return;
  }
  for (let i = start; i <= items.length - (k - prefix.length); i += 1) {
    prefix.push(items[i] as T);
    yield* subsets(items, k, i + 1, prefix);
    prefix.pop();
  }
}
