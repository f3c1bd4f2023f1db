/**
 * One D-TA: the realm service (DKG, resharing, master-secret shares), issuance (grants, client and
 * time-permit shares, revocation, server-secret shares) and fiduciary orders, over one identity,
 * key store, content store, messenger and database. Reads the messenger's inbox and hands each
 * message to the service that owns its type.
 */
import type { Bls12381Backend } from '@milagro/crypto';
import type { ContentStore } from '@milagro/ipfs';
import type { KeyStore } from '@milagro/keystore';
import type { DeliveredMessage, Messenger } from '@milagro/messaging';
import { createSuite } from '@milagro/mpin';
import type { IdentityResolver, OwnedIdentity } from '@milagro/pki';
import type { SqlDatabase } from '@milagro/storage';
import type { FiduciaryPlugin } from './fiduciary/fiduciary-plugin.js';
import { isDtaError } from './errors.js';
import { FiduciaryService } from './fiduciary/fiduciary-service.js';
import { IssuanceRepository } from './issuance-repository.js';
import { IssuanceService } from './issuance.js';
import { RealmRepository } from './realm-repository.js';
import { REALM_MESSAGE_PREFIX } from './realm-protocol.js';
import { RealmService, type RealmProtocolNotice } from './realm-service.js';
import { REVOCATION_MESSAGE_TYPE } from './revocation.js';
import { SERVER_SHARE_REQUEST_TYPE } from './server-share.js';

/** Something worth logging; never contains secrets. */
export type DtaNodeEvent =
  | { readonly kind: 'realm-notice'; readonly notice: RealmProtocolNotice }
  | { readonly kind: 'realm-active'; readonly realmId: string; readonly epoch: number }
  | { readonly kind: 'message-ignored'; readonly from: string; readonly type: string; readonly reason: string }
  | { readonly kind: 'message-failed'; readonly from: string; readonly type: string; readonly code: string }
  | { readonly kind: 'server-share-failed'; readonly realmId: string; readonly code: string };

export interface DtaNodeOptions {
  readonly identity: OwnedIdentity;
  readonly keyStore: KeyStore;
  readonly store: ContentStore;
  readonly resolver: IdentityResolver;
  readonly messenger: Messenger;
  readonly db: SqlDatabase;
  /** BLS12-381 backend for the DKG and issuance (the mcl-wasm one for throughput). */
  readonly backend: Bls12381Backend;
  /** D-TAs allowed to propose realms to this one. */
  readonly trustedProposers: readonly string[];
  /** Per-round deadline of the DKG (default 60 s). */
  readonly roundTimeoutMs?: number;
  /** Enabled fiduciary plugins. */
  readonly plugins: readonly FiduciaryPlugin[];
  readonly onEvent?: (event: DtaNodeEvent) => void;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

/** Attempts per inbox message before it is set aside (handlers are idempotent, so retrying is safe). */
const MESSAGE_ATTEMPTS = 3;

const errorCode = (error: unknown): string => (error as { code?: unknown }).code?.toString() ?? 'UNEXPECTED';

export class DtaNode {
  readonly self: string;
  readonly realms: RealmService;
  readonly issuance: IssuanceService;
  readonly fiduciary: FiduciaryService;
  readonly #messenger: Messenger;
  readonly #onEvent: (event: DtaNodeEvent) => void;
  readonly #unsubscribe: () => void;
  #closed = false;

  private constructor(options: DtaNodeOptions, realms: RealmService, issuance: IssuanceService, fiduciary: FiduciaryService) {
    this.self = options.identity.id.toString();
    this.realms = realms;
    this.issuance = issuance;
    this.fiduciary = fiduciary;
    this.#messenger = options.messenger;
    this.#onEvent = options.onEvent ?? (() => undefined);
    this.#unsubscribe = realms.onRealmActive((realm) => {
      this.#onEvent({ kind: 'realm-active', realmId: realm.realmId, epoch: realm.epoch });
      this.#distribute(realm.realmId);
    });
  }

  /** Opens the services (running migrations and crash recovery) and starts reading the inbox. */
  static async open(options: DtaNodeOptions): Promise<DtaNode> {
    const self = options.identity.id.toString();
    const onEvent = options.onEvent ?? (() => undefined);
    const send = (peer: string, message: { type: string; body: Uint8Array }) => options.messenger.send(peer, message);
    const realms = await RealmService.open({
      self,
      backend: options.backend,
      keyStore: options.keyStore,
      repository: await RealmRepository.open(options.db),
      send,
      trustedProposers: options.trustedProposers,
      ...(options.roundTimeoutMs === undefined ? {} : { roundTimeoutMs: options.roundTimeoutMs }),
      ...(options.now === undefined ? {} : { now: options.now }),
      onNotice: (notice) => onEvent({ kind: 'realm-notice', notice }),
    });
    const issuance = new IssuanceService({
      realms,
      repository: await IssuanceRepository.open(options.db),
      resolver: options.resolver,
      suite: createSuite({ suite: 'modern', backend: options.backend }),
      send,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    const fiduciary = await FiduciaryService.open({
      db: options.db,
      keyStore: options.keyStore,
      identity: options.identity,
      resolver: options.resolver,
      store: options.store,
      plugins: options.plugins,
      ...(options.now === undefined ? {} : { now: options.now }),
    });
    const node = new DtaNode(options, realms, issuance, fiduciary);
    void node.#readInbox();
    return node;
  }

  async #readInbox(): Promise<void> {
    try {
      for await (const message of this.#messenger.messages()) {
        await this.#dispatch(message);
        await this.#messenger.consumed(message.position);
        if (this.#closed) return;
      }
    } catch (error) {
      if (!this.#closed) throw error;
    }
  }

  async #dispatch(message: DeliveredMessage): Promise<void> {
    const handler = this.#handlerFor(message.type);
    if (handler === undefined) {
      this.#onEvent({ kind: 'message-ignored', from: message.from, type: message.type, reason: 'no service handles this type' });
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await handler({ from: message.from, type: message.type, body: message.body });
        return;
      } catch (error) {
        if (this.#closed) throw error;
        // A refusal (bad signature, stranger, malformed) is final; only unexpected failures are retried.
        if (isDtaError(error) || attempt >= MESSAGE_ATTEMPTS) {
          // Set aside rather than block every later message of the inbox behind one bad one.
          this.#onEvent({ kind: 'message-failed', from: message.from, type: message.type, code: errorCode(error) });
          return;
        }
      }
    }
  }

  #handlerFor(type: string): ((message: { from: string; type: string; body: Uint8Array }) => Promise<unknown>) | undefined {
    if (type.startsWith(REALM_MESSAGE_PREFIX)) return (m) => this.realms.handleMessage(m);
    if (type === REVOCATION_MESSAGE_TYPE || type === SERVER_SHARE_REQUEST_TYPE) return (m) => this.issuance.handleMessage(m);
    return undefined;
  }

  #distribute(realmId: string): void {
    this.issuance.distributeServerShare(realmId).catch((error: unknown) => {
      this.#onEvent({ kind: 'server-share-failed', realmId, code: errorCode(error) });
    });
  }

  /** Stops reading the inbox and closes the services (not the messenger, store or database: the caller owns them). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    await this.realms.close();
    await this.fiduciary.close();
  }
}
