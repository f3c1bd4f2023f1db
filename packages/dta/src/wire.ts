/**
 * The wire rules every D-TA decoder shares: what a realm id and an identity id look like, and how a
 * signed or delivered DAG-CBOR map is decoded (canonical only, so one value has one encoding).
 * @internal
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { DtaError, type DtaErrorCode } from './errors.js';

/** A realm id: 1–63 characters of `[a-z0-9-]`, starting with a letter or digit. */
export const REALM_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Longest identity id accepted (a CIDv1 string of a SHA-256 multihash is about 60 characters). */
export const MAX_IDENTITY_ID_LENGTH = 200;

/** True for a realm id: see {@link REALM_ID_PATTERN}. */
export function isRealmId(value: unknown): value is string {
  return typeof value === 'string' && REALM_ID_PATTERN.test(value);
}

/** True for the canonical string form of a CIDv1: the only form identities take in the PKI. */
export function isIdentityId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_IDENTITY_ID_LENGTH) return false;
  try {
    const cid = CID.parse(value);
    return cid.version === 1 && cid.toString() === value;
  } catch {
    return false;
  }
}

/**
 * Decodes bytes that must be one canonical DAG-CBOR map (re-encoding gives the same bytes, so one
 * value has one encoding), of at most `maxBytes`. Shared by this package's wire decoders.
 * @internal
 */
export function decodeCanonicalMap(bytes: Uint8Array, maxBytes: number, fail: (message: string) => DtaError): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array)) throw fail('must be bytes');
  if (bytes.length > maxBytes) throw fail(`larger than ${maxBytes} bytes`);
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch {
    throw fail('not DAG-CBOR');
  }
  const map = asMap(value, fail);
  let canonical: Uint8Array;
  try {
    canonical = dagCbor.encode(map);
  } catch {
    throw fail('not DAG-CBOR');
  }
  if (canonical.length !== bytes.length || !canonical.every((byte, i) => byte === bytes[i])) throw fail('not canonical DAG-CBOR');
  return map;
}

/** @internal */
export function asMap(value: unknown, fail: (message: string) => DtaError): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || CID.asCID(value) !== null) {
    throw fail('not a map');
  }
  return value as Record<string, unknown>;
}

/** Exactly `expected` (sorted) as own keys. @internal */
export function expectKeys(map: Record<string, unknown>, expected: readonly string[], fail: (message: string) => DtaError): void {
  const keys = Object.keys(map).sort();
  if (keys.length !== expected.length || keys.some((key, i) => key !== expected[i])) throw fail(`fields must be exactly ${expected.join(', ')}`);
}

/** A DtaError factory for decoders. @internal */
export function failWith(code: DtaErrorCode, what: string): (message: string) => DtaError {
  return (message) => new DtaError(code, `${what}: ${message}`);
}
