/**
 * The principal's (and beneficiary's) side of a fiduciary order: build the signed requests and
 * check the fiduciary's signed answers. No I/O: pass key capabilities (`identitySigner` /
 * `identityRecipientKey` of `@milagro/pki`, or in-memory ones of `@milagro/envelope`) and the
 * fiduciary's public keys as resolved from its identity document.
 */
import type { EnvelopeRecipientKey, EnvelopeSigner, RecipientPublicKey, SenderPublicKey } from '@milagro/envelope';
import type { CID } from 'multiformats/cid';
import { DtaError } from '../errors.js';
import type { FiduciaryValue } from './fiduciary-plugin.js';
import { decodeStep, openStep, prevOf, sealStep, type ChainEnvelope } from './order-envelopes.js';
import {
  decodeFulfilmentBody,
  decodeReleaseBody,
  encodeOrderBody,
  encodeRedemptionBody,
  FULFILMENT_TYPE,
  ORDER_TYPE,
  REDEMPTION_TYPE,
  RELEASE_TYPE,
} from './order-messages.js';

/** Options of {@link createOrder}. */
export interface CreateOrderOptions {
  /** The principal's signing capability. */
  readonly principal: EnvelopeSigner;
  /** The fiduciary D-TA: its identity and X-Wing public key (`resolved.keys.kem`). */
  readonly fiduciary: RecipientPublicKey;
  /** The plugin, e.g. `safeguard-secret` or `bitcoin-address`. */
  readonly plugin: string;
  /** The plugin's params (see the plugin's order-params helper). */
  readonly params: FiduciaryValue;
  /** Who may redeem besides the principal, and who receives the release (identity CID string). */
  readonly beneficiary?: string;
}

/**
 * The order envelope: signed by the principal, sealed to the fiduciary.
 * @throws DtaError `INVALID_REQUEST` for a bad plugin name, beneficiary or params
 */
export async function createOrder(options: CreateOrderOptions): Promise<ChainEnvelope> {
  const body = encodeOrderBody({
    plugin: options.plugin,
    ...(options.beneficiary === undefined ? {} : { beneficiary: options.beneficiary }),
    params: options.params,
  });
  return sealStep({ from: options.principal, to: options.fiduciary, type: ORDER_TYPE, body });
}

/** A verified fulfilment. */
export interface Fulfilment {
  /** The fulfilment envelope's CID: the `prev` of a redemption. */
  readonly cid: string;
  /** The order's reference: give it (with `cid`) to the beneficiary who will redeem. */
  readonly reference: string;
  readonly plugin: string;
  /** The plugin's public commitment (check it with the plugin's helper). */
  readonly commitment: FiduciaryValue;
}

/** Who a fiduciary's answer must come from and be sealed to. */
export interface OpenAnswerOptions {
  /** The fiduciary as the PKI knows it: identity and composite signing key (`resolved.keys.sign`). */
  readonly fiduciary: SenderPublicKey;
  /** The caller's decryption capability. */
  readonly recipient: EnvelopeRecipientKey;
}

function checkPrev(actual: string | undefined, expected: CID | string, what: string): void {
  if (actual !== expected.toString()) throw new DtaError('INVALID_REQUEST', `the ${what} does not answer this request (prev differs)`);
}

/**
 * Verifies and opens a fulfilment: signed by the fiduciary, sealed to the caller, answering `order`.
 * @throws DtaError `INVALID_REQUEST` (malformed, answers another order), `NOT_AUTHORISED` (not signed by the fiduciary, not sealed to the caller)
 */
export async function openFulfilment(bytes: Uint8Array, options: OpenAnswerOptions & { readonly order: CID | string }): Promise<Fulfilment> {
  const { envelope, cid } = decodeStep(bytes, FULFILMENT_TYPE);
  checkPrev(prevOf(envelope), options.order, 'fulfilment');
  const body = decodeFulfilmentBody(await openStep(envelope, options.fiduciary, options.recipient));
  return { cid, reference: body.reference, plugin: body.plugin, commitment: body.commitment };
}

/** Options of {@link createRedemption}. */
export interface CreateRedemptionOptions {
  /** The principal's or the beneficiary's signing capability. */
  readonly redeemer: EnvelopeSigner;
  /** The fiduciary D-TA: identity and X-Wing public key. */
  readonly fiduciary: RecipientPublicKey;
  /** The order's reference. */
  readonly reference: string;
  /** The fulfilment envelope's CID (from {@link Fulfilment.cid}). */
  readonly fulfilment: CID | string;
  /**
   * The beneficiary, when the order named none: the release is then sealed to it. When the order
   * named one, leave it out (or repeat it): it cannot be changed.
   */
  readonly beneficiary?: string;
}

/** The redemption envelope: signed by the redeemer, sealed to the fiduciary, `prev` = the fulfilment. */
export async function createRedemption(options: CreateRedemptionOptions): Promise<ChainEnvelope> {
  const body = encodeRedemptionBody({
    reference: options.reference,
    ...(options.beneficiary === undefined ? {} : { beneficiary: options.beneficiary }),
  });
  return sealStep({ from: options.redeemer, to: options.fiduciary, type: REDEMPTION_TYPE, prev: options.fulfilment, body });
}

/** A verified release. */
export interface Release {
  readonly cid: string;
  readonly reference: string;
  readonly plugin: string;
  /** The released value (see the plugin: the safeguarded secret, the fiduciary's key half). */
  readonly secret: FiduciaryValue;
}

/**
 * Verifies and opens a release: signed by the fiduciary, sealed to the caller, answering `redemption`.
 * @throws DtaError `INVALID_REQUEST`, `NOT_AUTHORISED`
 */
export async function openRelease(bytes: Uint8Array, options: OpenAnswerOptions & { readonly redemption: CID | string }): Promise<Release> {
  const { envelope, cid } = decodeStep(bytes, RELEASE_TYPE);
  checkPrev(prevOf(envelope), options.redemption, 'release');
  const body = decodeReleaseBody(await openStep(envelope, options.fiduciary, options.recipient));
  return { cid, reference: body.reference, plugin: body.plugin, secret: body.secret };
}
