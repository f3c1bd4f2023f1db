import { CID } from 'multiformats/cid';
import { LIMITS } from './constants.js';

const encoder = new TextEncoder();

/**
 * True when `id` is an identity id as envelopes carry it: the canonical string form of a CIDv1
 * (what `CID.toString()` prints), at most {@link LIMITS.maxTextBytes} bytes. Canonical form
 * matters: the same identity must always compare equal as a string.
 */
export function isIdentityId(id: unknown): id is string {
  if (typeof id !== 'string' || id.length === 0 || encoder.encode(id).length > LIMITS.maxTextBytes) return false;
  try {
    const cid = CID.parse(id);
    return cid.version === 1 && cid.toString() === id;
  } catch {
    return false;
  }
}
