/**
 * The fiduciary D-TA's side of an order: fulfil verified orders through a plugin, once, and release
 * to the principal or beneficiary, once. Transport-free: it takes envelope bytes and returns
 * envelope bytes and CIDs; the HTTP router and the messaging handler sit on top.
 *
 * What the 2019 Go D-TA got wrong and this refuses:
 * - a released secret for anyone who knows the order reference: a redemption must be signed by the
 *   principal or the beneficiary (verified against the PKI), and the release is sealed to one of them;
 * - a replayed request overwriting a stored key seed: an order is accepted once per envelope CID
 *   (SQL), its secret is created with key-store calls that refuse an existing label, and a replay
 *   returns the stored fulfilment without touching the plugin.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { bytesToBase64url, randomBytes } from '@milagro/crypto';
import type { Envelope, EnvelopeRecipientKey, EnvelopeSigner } from '@milagro/envelope';
import type { KeyStore } from '@milagro/keystore';
import { identityRecipientKey, identitySigner, isPkiError, type OwnedIdentity, type ResolvedIdentity } from '@milagro/pki';
import type { SqlDatabase } from '@milagro/storage';
import { CID } from 'multiformats/cid';
import { DtaError } from '../errors.js';
import type { FiduciaryPlugin } from './fiduciary-plugin.js';
import { decodeStep, isAddressedTo, openStep, prevOf, sealStep, type ChainEnvelope } from './order-envelopes.js';
import {
  decodeOrderBody,
  decodeRedemptionBody,
  encodeFulfilmentBody,
  encodeReleaseBody,
  FULFILMENT_TYPE,
  ORDER_TYPE,
  REDEMPTION_TYPE,
  RELEASE_TYPE,
} from './order-messages.js';
import { OrderRepository } from './order-repository.js';
import { deleteOrderKey, orderVault } from './order-vault.js';

/** Where the chain's envelopes are kept: the part of `@milagro/ipfs`'s `ContentStore` used here. */
export interface EnvelopeStore {
  /** Encodes `value` as DAG-CBOR, stores (and pins) it, returns its CIDv1. */
  putDag(value: unknown, options?: { pin?: boolean; recursive?: boolean }): Promise<CID>;
}

/** Resolves identities (an `IdentityResolver` of `@milagro/pki`). */
export interface IdentityDirectory {
  resolve(id: string): Promise<ResolvedIdentity>;
}

/** Options of {@link FiduciaryService.open}. */
export interface FiduciaryServiceOptions {
  /** Orders are recorded here (namespace `dta-orders`). */
  readonly db: SqlDatabase;
  /** Holds this D-TA's identity keys and the orders' secrets (`dta/order/<reference>`). */
  readonly keyStore: KeyStore;
  /** This D-TA's identity. */
  readonly identity: OwnedIdentity;
  readonly resolver: IdentityDirectory;
  /** The envelopes of every chain are stored and pinned here. */
  readonly store: EnvelopeStore;
  /** The enabled plugins (from config); orders for any other plugin are refused. */
  readonly plugins: readonly FiduciaryPlugin[];
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

/** Fiduciary orders on one D-TA. Safe for concurrent use; replays and restarts are idempotent. */
export class FiduciaryService {
  readonly #options: FiduciaryServiceOptions;
  readonly #orders: OrderRepository;
  readonly #plugins: ReadonlyMap<string, FiduciaryPlugin>;
  readonly #signer: EnvelopeSigner;
  readonly #recipientKey: EnvelopeRecipientKey;
  readonly #id: string;
  /** One handling at a time per order or redemption CID in this process (replicas race through SQL). */
  readonly #inFlight = new Map<string, Promise<ChainEnvelope>>();
  #closed = false;

  private constructor(options: FiduciaryServiceOptions, orders: OrderRepository, recipientKey: EnvelopeRecipientKey) {
    this.#options = options;
    this.#orders = orders;
    this.#recipientKey = recipientKey;
    this.#signer = identitySigner(options.identity, options.keyStore);
    this.#id = options.identity.id.toString();
    const plugins = new Map<string, FiduciaryPlugin>();
    for (const plugin of options.plugins) {
      if (plugins.has(plugin.name)) throw new DtaError('INVALID_REQUEST', `plugin "${plugin.name}" is configured twice`);
      plugins.set(plugin.name, plugin);
    }
    this.#plugins = plugins;
  }

  static async open(options: FiduciaryServiceOptions): Promise<FiduciaryService> {
    const orders = await OrderRepository.open(options.db);
    return new FiduciaryService(options, orders, await identityRecipientKey(options.identity, options.keyStore));
  }

  /** Names of the enabled plugins. */
  get plugins(): readonly string[] {
    return [...this.#plugins.keys()];
  }

  /**
   * Fulfils an order envelope: returns the fulfilment envelope (signed by this D-TA, sealed to the
   * principal, `prev` = the order). The same order envelope again returns the same fulfilment.
   * @throws DtaError `INVALID_REQUEST` (malformed, unknown or disabled plugin, bad params),
   *   `NOT_AUTHORISED` (sender does not verify, not sealed to this D-TA), `CLOSED`
   */
  async fulfilOrder(orderBytes: Uint8Array): Promise<ChainEnvelope> {
    this.#checkOpen();
    const { envelope, cid } = decodeStep(orderBytes, ORDER_TYPE);
    return this.#once(cid, () => this.#fulfil(orderBytes, envelope, cid));
  }

  /**
   * Redeems an order: returns the release envelope (signed by this D-TA, sealed to the beneficiary if
   * one is named, else to the principal; `prev` = the redemption). Once per order: the same
   * redemption envelope again returns the same release; any other is refused.
   * @throws DtaError `NOT_FOUND` (unknown reference), `NOT_AUTHORISED` (neither principal nor
   *   beneficiary, bad signature), `CONFLICT` (already redeemed, beneficiary changed),
   *   `INVALID_REQUEST`, `CLOSED`
   */
  async redeemOrder(redemptionBytes: Uint8Array): Promise<ChainEnvelope> {
    this.#checkOpen();
    const { envelope, cid } = decodeStep(redemptionBytes, REDEMPTION_TYPE);
    return this.#once(cid, () => this.#redeem(redemptionBytes, envelope, cid));
  }

  /** Refuses further calls. Does not close the database, key store or content store (their owner does). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight.values()]);
  }

  // --- orders ----------------------------------------------------------------------------------

  async #fulfil(bytes: Uint8Array, envelope: Envelope, cid: string): Promise<ChainEnvelope> {
    // A replay of an accepted order: the stored answer, without opening anything or calling the plugin.
    const known = await this.#orders.byOrder(cid);
    if (known?.fulfilment !== undefined) return known.fulfilment;

    const principal = envelope.header.from;
    const body = decodeOrderBody(await this.#openFromSender(envelope, principal));
    const plugin = this.#plugins.get(body.plugin);
    if (plugin === undefined) throw new DtaError('INVALID_REQUEST', `plugin "${body.plugin}" is not enabled on this D-TA`);
    const params = plugin.parseParams(body.params);
    if (body.beneficiary !== undefined) await this.#resolveParty(body.beneficiary, 'beneficiary');
    const principalKeys = await this.#resolveParty(principal, 'principal');

    await this.#keep(bytes, cid);
    const order = await this.#orders.accept({
      orderCid: cid,
      reference: bytesToBase64url(randomBytes(32)),
      plugin: plugin.name,
      principal,
      ...(body.beneficiary === undefined ? {} : { beneficiary: body.beneficiary }),
      createdAt: this.#now(),
    });
    if (order.fulfilment !== undefined) return order.fulfilment;

    // A new order, or one whose fulfilment was lost to a crash: the plugin's order step is idempotent
    // per reference (the vault never replaces a secret), so running it again is safe.
    const outcome = await plugin.order(
      { reference: order.reference, principal, ...(order.beneficiary === undefined ? {} : { beneficiary: order.beneficiary }), params },
      orderVault(this.#options.keyStore, order.reference),
    );
    const fulfilment = await sealStep({
      from: this.#signer,
      to: { id: principal, publicKey: principalKeys.keys.kem },
      type: FULFILMENT_TYPE,
      prev: cid,
      body: encodeFulfilmentBody({ reference: order.reference, plugin: plugin.name, commitment: outcome.commitment }),
    });
    await this.#keep(fulfilment.bytes, fulfilment.cid);
    const stored = await this.#orders.fulfil(cid, { ...fulfilment, ...(outcome.state === undefined ? {} : { pluginState: outcome.state }) });
    return stored.fulfilment!;
  }

  // --- redemptions -----------------------------------------------------------------------------

  async #redeem(bytes: Uint8Array, envelope: Envelope, cid: string): Promise<ChainEnvelope> {
    const replayed = await this.#orders.byRedemption(cid);
    if (replayed?.release !== undefined) return replayed.release;

    const redeemer = envelope.header.from;
    const body = decodeRedemptionBody(await this.#openFromSender(envelope, redeemer));
    const order = await this.#orders.byReference(body.reference);
    if (order?.fulfilment === undefined) throw new DtaError('NOT_FOUND', 'no such order');
    if (redeemer !== order.principal && redeemer !== order.beneficiary) {
      throw new DtaError('NOT_AUTHORISED', 'only the principal or the beneficiary named in the order may redeem it');
    }
    if (prevOf(envelope) !== order.fulfilment.cid) throw new DtaError('INVALID_REQUEST', 'the redemption does not follow the order\'s fulfilment (prev)');
    if (order.beneficiary !== undefined && body.beneficiary !== undefined && body.beneficiary !== order.beneficiary) {
      throw new DtaError('CONFLICT', 'the order named its beneficiary; a redemption cannot change it');
    }
    const recipient = order.beneficiary ?? body.beneficiary ?? order.principal;
    const recipientKeys = await this.#resolveParty(recipient, recipient === body.beneficiary ? 'beneficiary' : 'recipient');

    const plugin = this.#plugins.get(order.plugin);
    if (plugin === undefined) throw new DtaError('INVALID_REQUEST', `plugin "${order.plugin}" is not enabled on this D-TA`);
    await this.#keep(bytes, cid);
    // Once per order: the first redemption recorded wins; the same one again (after a crash, or on
    // another replica) carries on from the record, any other is refused.
    if (order.redemption === undefined) await this.#orders.redeem(order.reference, { cid, redeemer, recipient, redeemedAt: this.#now() });
    const current = (await this.#orders.byReference(order.reference))!;
    const redemption = current.redemption!;
    if (redemption.cid !== cid) throw new DtaError('CONFLICT', 'the order was already redeemed');
    if (current.release !== undefined) return current.release;
    let secret;
    try {
      secret = await plugin.redeem(
        {
          reference: order.reference,
          principal: order.principal,
          recipient: redemption.recipient,
          redeemer: redemption.redeemer,
          ...(current.pluginState === undefined ? {} : { state: current.pluginState }),
        },
        orderVault(this.#options.keyStore, order.reference),
      );
    } catch (error) {
      // Another replica may have released (and deleted the key) meanwhile.
      const after = await this.#orders.byReference(order.reference);
      if (after?.release !== undefined && after.redemption?.cid === cid) return after.release;
      throw error;
    }
    const release = await sealStep({
      from: this.#signer,
      to: { id: redemption.recipient, publicKey: recipientKeys.keys.kem },
      type: RELEASE_TYPE,
      prev: cid,
      body: encodeReleaseBody({ reference: order.reference, plugin: order.plugin, secret }),
    });
    await this.#keep(release.bytes, release.cid);
    const stored = await this.#orders.release(order.reference, release);
    // The secret now exists only inside the release, sealed to its recipient; stop holding it.
    await deleteOrderKey(this.#options.keyStore, order.reference);
    return stored.release!;
  }

  // --- shared ----------------------------------------------------------------------------------

  /** Resolves the sender, checks the envelope is addressed here, verifies and decrypts. */
  async #openFromSender(envelope: Envelope, from: string): Promise<Uint8Array> {
    if (!isAddressedTo(envelope, this.#id)) throw new DtaError('NOT_AUTHORISED', 'the envelope is not sealed to this D-TA');
    let sender: ResolvedIdentity;
    try {
      sender = await this.#options.resolver.resolve(from);
    } catch (cause) {
      throw new DtaError('NOT_AUTHORISED', `the sender does not resolve${isPkiError(cause) ? ` (${cause.code})` : ''}`, { cause });
    }
    return openStep(envelope, { id: from, publicKey: sender.keys.sign }, this.#recipientKey);
  }

  async #resolveParty(id: string, role: string): Promise<ResolvedIdentity> {
    try {
      return await this.#options.resolver.resolve(id);
    } catch (cause) {
      throw new DtaError('INVALID_REQUEST', `the ${role} does not resolve${isPkiError(cause) ? ` (${cause.code})` : ''}`, { cause });
    }
  }

  /** Stores and pins one envelope of a chain (the block alone: chains are pinned block by block). */
  async #keep(bytes: Uint8Array, cid: string): Promise<void> {
    const stored = await this.#options.store.putDag(dagCbor.decode(bytes), { pin: true, recursive: false });
    if (stored.toString() !== CID.parse(cid).toString()) throw new Error(`the store addressed envelope ${cid} as ${stored.toString()}`);
  }

  async #once(cid: string, work: () => Promise<ChainEnvelope>): Promise<ChainEnvelope> {
    const previous = this.#inFlight.get(cid);
    if (previous !== undefined) {
      // A concurrent duplicate: wait for the first, then answer from what it stored.
      await previous.catch(() => undefined);
      return this.#once(cid, work);
    }
    const run = work();
    this.#inFlight.set(cid, run);
    try {
      return await run;
    } finally {
      if (this.#inFlight.get(cid) === run) this.#inFlight.delete(cid);
    }
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #checkOpen(): void {
    if (this.#closed) throw new DtaError('CLOSED', 'the fiduciary service is closed');
  }
}
