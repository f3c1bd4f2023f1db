/**
 * One custody operator: the custody service over one identity, key store, content store (audit
 * chains), PKI resolver, messenger and database. Reads the messenger's inbox and hands every
 * custody message to the service.
 */
import type { ContentStore } from '@milagro/ipfs';
import type { KeyStore } from '@milagro/keystore';
import type { DeliveredMessage, Messenger } from '@milagro/messaging';
import { identityRecipientKey, identitySigner, type IdentityResolver, type OwnedIdentity } from '@milagro/pki';
import type { SqlDatabase } from '@milagro/storage';
import { AuditChain } from './audit-chain.js';
import { envelopeRevealer } from './blame-evidence.js';
import { CUSTODY_MESSAGE_PREFIX } from './custody-protocol.js';
import { CustodyRepository } from './custody-repository.js';
import { CustodyService, type CustodyNotice } from './custody-service.js';
import { sealEscrowShare } from './escrow.js';

export interface CustodyNodeOptions {
  readonly identity: OwnedIdentity;
  readonly keyStore: KeyStore;
  readonly store: ContentStore;
  readonly resolver: IdentityResolver;
  readonly messenger: Messenger;
  readonly db: SqlDatabase;
  /** Per-round deadline of the DKG, signing and refresh (default 60 s). */
  readonly roundTimeoutMs?: number;
  /** Told about ignored messages, failures and blamed operators (never secrets). */
  readonly onNotice?: (notice: CustodyNotice) => void;
}

/** Attempts per inbox message before it is set aside (storage failures only: refusals are final). */
const MESSAGE_ATTEMPTS = 3;

/** True for the message types the custody role handles. */
export function isCustodyMessageType(type: string): boolean {
  return type.startsWith(CUSTODY_MESSAGE_PREFIX);
}

export class CustodyNode {
  readonly self: string;
  readonly custody: CustodyService;
  readonly #messenger: Messenger;
  readonly #onNotice: (notice: CustodyNotice) => void;
  #closed = false;

  private constructor(options: CustodyNodeOptions, custody: CustodyService) {
    this.self = options.identity.id.toString();
    this.custody = custody;
    this.#messenger = options.messenger;
    this.#onNotice = options.onNotice ?? (() => undefined);
  }

  /** Opens the service (migrations, crash recovery) and starts reading the inbox. */
  static async open(options: CustodyNodeOptions): Promise<CustodyNode> {
    const { identity, keyStore, resolver } = options;
    const custody = await CustodyService.open({
      self: identity.id.toString(),
      keyStore,
      repository: await CustodyRepository.open(options.db),
      send: (peer, message) => options.messenger.send(peer, message),
      signingKey: async (id) => (await resolver.resolve(id)).keys.sign,
      audit: new AuditChain({
        signer: identitySigner(identity, keyStore),
        self: { id: identity.id.toString(), publicKey: identity.document.keys.kem },
        store: options.store,
        principalKey: async (principal) => ({ id: principal, publicKey: (await resolver.resolve(principal)).keys.kem }),
      }),
      // DKG blame with evidence: an envelope received (and pinned) by messaging, with its content key.
      revealEnvelope: envelopeRevealer({
        get: (cid) => options.store.get(cid),
        recipientKey: () => identityRecipientKey(identity, keyStore),
        signingKey: async (id) => (await resolver.resolve(id)).keys.sign,
      }),
      sealShare: async (principal, share) =>
        sealEscrowShare({ operator: identitySigner(identity, keyStore), principal: { id: principal, publicKey: (await resolver.resolve(principal)).keys.kem }, share }),
      ...(options.roundTimeoutMs === undefined ? {} : { roundTimeoutMs: options.roundTimeoutMs }),
      ...(options.onNotice === undefined ? {} : { onNotice: options.onNotice }),
    });
    const node = new CustodyNode(options, custody);
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
    if (!isCustodyMessageType(message.type)) {
      this.#onNotice({ kind: 'message-ignored', reason: `not a custody message: ${message.type}`, peer: message.from });
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.custody.handleMessage({ from: message.from, type: message.type, body: message.body, cid: message.cid.toString() });
        return;
      } catch (error) {
        if (this.#closed || attempt >= MESSAGE_ATTEMPTS) {
          this.#onNotice({ kind: 'message-ignored', reason: `${message.type} failed: ${(error as Error).message}`, peer: message.from });
          return;
        }
      }
    }
  }

  /** Stops reading the inbox and closes the service (not the messenger, store or database: the caller owns them). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.custody.close();
  }
}
