/**
 * The four bodies of a fiduciary order's envelope chain, as deterministic DAG-CBOR maps:
 *
 *   order ──prev── fulfilment ──prev── redemption ──prev── release
 *
 * Decoders are strict (exact keys, canonical encoding, bounded sizes) and throw
 * `DtaError('INVALID_REQUEST')` for anything else, so a malformed body never reaches a plugin.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { DtaError } from '../errors.js';
import { isIdentityId } from '../wire.js';
import { PLUGIN_NAME, type FiduciaryValue } from './fiduciary-plugin.js';

/** Envelope content types of the chain (typeVersion 1). */
export const ORDER_TYPE = 'milagro/dta/order';
export const FULFILMENT_TYPE = 'milagro/dta/fulfilment';
export const REDEMPTION_TYPE = 'milagro/dta/redemption';
export const RELEASE_TYPE = 'milagro/dta/release';

/** Largest body accepted (a `safeguard-secret` order carries up to 8 KiB of secret). */
export const MAX_BODY_BYTES = 16 * 1024;

/** References are 32 random bytes in unpadded base64url. */
export const REFERENCE_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Principal → fiduciary. */
export interface OrderBody {
  readonly v: 1;
  readonly plugin: string;
  readonly beneficiary?: string;
  readonly params: FiduciaryValue;
}

/** Fiduciary → principal, `prev` = the order. */
export interface FulfilmentBody {
  readonly v: 1;
  readonly reference: string;
  readonly plugin: string;
  readonly commitment: FiduciaryValue;
}

/** Principal or beneficiary → fiduciary, `prev` = the fulfilment. */
export interface RedemptionBody {
  readonly v: 1;
  readonly reference: string;
  readonly beneficiary?: string;
}

/** Fiduciary → the release's recipient, `prev` = the redemption. */
export interface ReleaseBody {
  readonly v: 1;
  readonly reference: string;
  readonly plugin: string;
  readonly secret: FiduciaryValue;
}

function invalid(message: string): never {
  throw new DtaError('INVALID_REQUEST', message);
}


function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** True when a decoded value is in the DAG-CBOR data model without links. */
function isPlainValue(value: unknown, depth = 0): value is FiduciaryValue {
  if (depth > 16) return false;
  if (value === null || typeof value === 'boolean' || typeof value === 'string' || value instanceof Uint8Array) return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isPlainValue(item, depth + 1));
  if (typeof value === 'object' && isPlainObject(value)) {
    return Object.values(value as Record<string, unknown>).every((item) => isPlainValue(item, depth + 1));
  }
  return false; // CIDs and anything else
}

function decodeMap(bytes: Uint8Array, what: string, required: readonly string[], optional: readonly string[]): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_BODY_BYTES) invalid(`${what}: body larger than ${MAX_BODY_BYTES} bytes`);
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch {
    invalid(`${what}: body is not DAG-CBOR`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || !isPlainObject(value)) {
    invalid(`${what}: body is not a map`);
  }
  const map = value as Record<string, unknown>;
  for (const key of Object.keys(map)) {
    if (!required.includes(key) && !optional.includes(key)) invalid(`${what}: unknown field "${key.slice(0, 32)}"`);
  }
  for (const key of required) if (!(key in map)) invalid(`${what}: missing field "${key}"`);
  if (map.v !== 1) invalid(`${what}: unsupported version`);
  // Signed records have one encoding: refuse non-canonical forms (so the body means one thing).
  if (!equalBytes(dagCbor.encode(map), bytes)) invalid(`${what}: body is not canonical DAG-CBOR`);
  return map;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function pluginField(value: unknown, what: string): string {
  if (typeof value !== 'string' || !PLUGIN_NAME.test(value)) invalid(`${what}: plugin must be 1–64 characters of a-z 0-9 -`);
  return value;
}

function referenceField(value: unknown, what: string): string {
  if (typeof value !== 'string' || !REFERENCE_PATTERN.test(value)) invalid(`${what}: reference must be 43 base64url characters`);
  return value;
}

function beneficiaryField(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isIdentityId(value)) invalid(`${what}: beneficiary must be an identity (canonical CIDv1 string)`);
  return value;
}

function valueField(value: unknown, what: string, field: string): FiduciaryValue {
  if (!isPlainValue(value)) invalid(`${what}: ${field} must be plain DAG-CBOR data (no links, at most 16 levels deep)`);
  return value;
}

function encode(value: Record<string, unknown>): Uint8Array {
  const bytes = dagCbor.encode(value);
  if (bytes.length > MAX_BODY_BYTES) invalid(`body larger than ${MAX_BODY_BYTES} bytes`);
  return bytes;
}

function withoutUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function encodeOrderBody(body: Omit<OrderBody, 'v'>): Uint8Array {
  pluginField(body.plugin, 'order');
  beneficiaryField(body.beneficiary, 'order');
  valueField(body.params, 'order', 'params');
  return encode(withoutUndefined({ v: 1, plugin: body.plugin, beneficiary: body.beneficiary, params: body.params }));
}

export function decodeOrderBody(bytes: Uint8Array): OrderBody {
  const map = decodeMap(bytes, 'order', ['v', 'plugin', 'params'], ['beneficiary']);
  const beneficiary = beneficiaryField(map.beneficiary, 'order');
  return {
    v: 1,
    plugin: pluginField(map.plugin, 'order'),
    ...(beneficiary === undefined ? {} : { beneficiary }),
    params: valueField(map.params, 'order', 'params'),
  };
}

export function encodeFulfilmentBody(body: Omit<FulfilmentBody, 'v'>): Uint8Array {
  return encode({ v: 1, reference: referenceField(body.reference, 'fulfilment'), plugin: pluginField(body.plugin, 'fulfilment'), commitment: valueField(body.commitment, 'fulfilment', 'commitment') });
}

export function decodeFulfilmentBody(bytes: Uint8Array): FulfilmentBody {
  const map = decodeMap(bytes, 'fulfilment', ['v', 'reference', 'plugin', 'commitment'], []);
  return {
    v: 1,
    reference: referenceField(map.reference, 'fulfilment'),
    plugin: pluginField(map.plugin, 'fulfilment'),
    commitment: valueField(map.commitment, 'fulfilment', 'commitment'),
  };
}

export function encodeRedemptionBody(body: Omit<RedemptionBody, 'v'>): Uint8Array {
  referenceField(body.reference, 'redemption');
  beneficiaryField(body.beneficiary, 'redemption');
  return encode(withoutUndefined({ v: 1, reference: body.reference, beneficiary: body.beneficiary }));
}

export function decodeRedemptionBody(bytes: Uint8Array): RedemptionBody {
  const map = decodeMap(bytes, 'redemption', ['v', 'reference'], ['beneficiary']);
  const beneficiary = beneficiaryField(map.beneficiary, 'redemption');
  return { v: 1, reference: referenceField(map.reference, 'redemption'), ...(beneficiary === undefined ? {} : { beneficiary }) };
}

export function encodeReleaseBody(body: Omit<ReleaseBody, 'v'>): Uint8Array {
  return encode({ v: 1, reference: referenceField(body.reference, 'release'), plugin: pluginField(body.plugin, 'release'), secret: valueField(body.secret, 'release', 'secret') });
}

export function decodeReleaseBody(bytes: Uint8Array): ReleaseBody {
  const map = decodeMap(bytes, 'release', ['v', 'reference', 'plugin', 'secret'], []);
  return {
    v: 1,
    reference: referenceField(map.reference, 'release'),
    plugin: pluginField(map.plugin, 'release'),
    secret: valueField(map.secret, 'release', 'secret'),
  };
}
