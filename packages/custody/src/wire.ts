/**
 * The wire rules every custody decoder shares: identity ids, vault ids, and canonical DAG-CBOR
 * maps with an exact field set (one value has one encoding, so signatures and hashes are stable).
 * @internal
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { CustodyError } from './errors.js';

/** A vault id: 1–63 characters of `[a-z0-9-]`, starting with a letter or digit. */
export const VAULT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Longest identity id accepted. */
export const MAX_IDENTITY_ID_LENGTH = 200;

export const invalid = (message: string): CustodyError => new CustodyError('INVALID_REQUEST', message);

export function isVaultId(value: unknown): value is string {
  return typeof value === 'string' && VAULT_ID_PATTERN.test(value);
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

export function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

export function isBytes(value: unknown, length?: number): value is Uint8Array {
  return value instanceof Uint8Array && (length === undefined || value.length === length);
}

/** Decodes canonical DAG-CBOR of at most `maxBytes` into a map with exactly `fields` (and `v: 1` when listed). */
export function decodeMap(bytes: Uint8Array, fields: readonly string[], maxBytes: number, what: string): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array)) throw invalid(`${what}: must be bytes`);
  if (bytes.length > maxBytes) throw invalid(`${what}: larger than ${maxBytes} bytes`);
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch {
    throw invalid(`${what}: not DAG-CBOR`);
  }
  const map = checkMap(value, fields, what);
  const canonical = dagCbor.encode(map);
  if (canonical.length !== bytes.length || !canonical.every((byte, i) => byte === bytes[i])) throw invalid(`${what}: not canonical DAG-CBOR`);
  return map;
}

/** A plain map with exactly `fields`; `v`, when listed, must be 1. */
export function checkMap(value: unknown, fields: readonly string[], what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || CID.asCID(value) !== null) {
    throw invalid(`${what}: not a map`);
  }
  const map = value as Record<string, unknown>;
  const keys = Object.keys(map);
  if (keys.length !== fields.length || !fields.every((f) => Object.hasOwn(map, f))) throw invalid(`${what}: fields must be exactly ${fields.join(', ')}`);
  if (fields.includes('v') && map['v'] !== 1) throw invalid(`${what}: unknown version`);
  return map;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
