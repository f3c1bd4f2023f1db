/**
 * The extension point of fiduciary orders: what a plugin decides (which secret, which public
 * commitment, what is released) and what the order service keeps to itself (envelopes,
 * authorisation, accept-once records, where the secret lives).
 *
 * # Writing a plugin
 *
 * A plugin is an object with a `name`, a params parser and two steps. The service calls them like
 * this, and guarantees the rest:
 *
 * 1. `parseParams(params)` on every order, before anything is stored. Check everything: types,
 *    lengths, points on curves. Throw `DtaError('INVALID_REQUEST', …)` (never with secret bytes in
 *    the message). The service refuses the order with that error.
 * 2. `order(request, vault)` once the order is verified and its reference allocated. Create the
 *    order's secret **through the vault** (never keep it anywhere else) and return the public
 *    `commitment` the principal receives, plus optional opaque `state` bytes the service stores with
 *    the order (e.g. a ciphertext). Must be **idempotent per reference**: after a crash, or when two
 *    replicas race on a replayed order, `order` runs again for the same reference and must return an
 *    equivalent commitment from the secret the vault already holds. The vault makes that easy: it
 *    never replaces an existing secret.
 * 3. `redeem(request, vault)` once, when the principal or the beneficiary redeemed the order and the
 *    redemption was recorded. Return the value to release (sealed by the service to
 *    `request.recipient` only). It may run again for the same redemption after a crash; it must
 *    then return the same kind of value.
 *
 * The service handles: sender verification against the PKI, envelope sealing and chaining,
 * authorisation of redeemers, accept-once (an order replayed returns the stored fulfilment; a
 * second, different redemption is refused), and deleting the vault's key after the release is
 * recorded. Plugins see no envelopes and no I/O other than the vault.
 *
 * Values crossing the wire (`params`, `commitment`, the released value) are DAG-CBOR data model
 * values ({@link FiduciaryValue}).
 */

/** A DAG-CBOR data-model value (as `@ipld/dag-cbor` encodes and decodes it, without links). */
export type FiduciaryValue =
  | null
  | boolean
  | number
  | string
  | Uint8Array
  | readonly FiduciaryValue[]
  | { readonly [key: string]: FiduciaryValue };

/**
 * The one key-store key of one order, labelled `dta/order/<reference>`. A vault holds either an
 * opaque secret (`keepSecret`/`readSecret`, key type `secret`) or an AES-256-GCM key
 * (`encrypt`/`decrypt`, key type `aes-256`: HSM-resident with a PKCS#11 store), never both.
 * Nothing in it is ever overwritten.
 */
export interface OrderVault {
  /** The key-store label: `dta/order/<reference>`. */
  readonly label: string;
  /**
   * The order's secret: `create()`'s bytes the first time (1–8192 bytes), and from then on always
   * the stored secret, even when `create` is called again (a replay or a race). `create` is not
   * called when a secret is already held.
   */
  keepSecret(create: () => Uint8Array): Promise<Uint8Array>;
  /** The stored secret. `NOT_FOUND` when there is none. */
  readSecret(): Promise<Uint8Array>;
  /** AES-256-GCM under the order's key, generated inside the key store on first use. */
  encrypt(plaintext: Uint8Array, associatedData: Uint8Array): Promise<Uint8Array>;
  /** Opens {@link encrypt}'s output. */
  decrypt(sealed: Uint8Array, associatedData: Uint8Array): Promise<Uint8Array>;
}

/** A verified order, as a plugin sees it. */
export interface PluginOrder<Params> {
  /** The order's reference: 32 random bytes, base64url (43 characters). Public to principal and beneficiary. */
  readonly reference: string;
  /** The principal's identity (CID string), verified. */
  readonly principal: string;
  /** The beneficiary named in the order, if any. */
  readonly beneficiary?: string;
  /** What {@link FiduciaryPlugin.parseParams} returned. */
  readonly params: Params;
}

/** What a plugin's order step returns. */
export interface PluginFulfilment {
  /** Public: sent to the principal in the fulfilment envelope. */
  readonly commitment: FiduciaryValue;
  /** Opaque bytes stored with the order and handed back to `redeem` (e.g. a ciphertext). */
  readonly state?: Uint8Array;
}

/** A recorded redemption, as a plugin sees it. */
export interface PluginRedemption {
  readonly reference: string;
  readonly principal: string;
  /** Who the release is sealed to: the beneficiary if one was named (at order or at redemption), else the principal. */
  readonly recipient: string;
  /** The identity that signed the redemption (principal or beneficiary). */
  readonly redeemer: string;
  /** The `state` the order step returned. */
  readonly state?: Uint8Array;
}

/** One kind of fiduciary order. See the module documentation for the contract. */
export interface FiduciaryPlugin<Params = unknown> {
  /** Names the plugin in orders and config: 1–64 characters of `a-z 0-9 -`. */
  readonly name: string;
  /** Checks an order's `params`; throws `DtaError('INVALID_REQUEST')`. Pure: no I/O. */
  parseParams(params: FiduciaryValue | undefined): Params;
  /** Creates (or, when repeated, finds) the order's secret in the vault; returns the public commitment. */
  order(request: PluginOrder<Params>, vault: OrderVault): Promise<PluginFulfilment>;
  /** Returns the value released to `request.recipient`. */
  redeem(request: PluginRedemption, vault: OrderVault): Promise<FiduciaryValue>;
}

/** Plugin names: short, lowercase, stable (they are part of signed orders). */
export const PLUGIN_NAME = /^[a-z0-9-]{1,64}$/;
