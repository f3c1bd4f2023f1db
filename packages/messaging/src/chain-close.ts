/**
 * The body of a chain close (docs/specs/messaging-v1.md §7): which of the sender's chains into one
 * inbox end. It travels sealed in an envelope of type `milagro/messaging/close-chains`, so it is
 * signed by the sender and checked against the PKI like every message, and deduplicated by its CID.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { MAX_CLOSE_ROOTS } from './constants.js';

export interface ChainClose {
  /** Chains closed by name (their roots), whether or not the recipient holds them yet. */
  readonly roots: readonly CID[];
  /** Also close every other chain of the sender the recipient holds when the close arrives, except `keep`. */
  readonly others: boolean;
  /** Chains `others` leaves open (the closing node's own new chain). Empty when `others` is false. */
  readonly keep: readonly CID[];
}

const KEYS = ['keep', 'others', 'roots', 'v'];

export function encodeChainClose(close: ChainClose): Uint8Array {
  return dagCbor.encode({ v: 1, roots: [...close.roots], others: close.others, keep: [...close.keep] });
}

/** @returns undefined when `bytes` are not exactly a version 1 chain close. */
export function decodeChainClose(bytes: Uint8Array): ChainClose | undefined {
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array || CID.asCID(value) !== null) return undefined;
  const map = value as Record<string, unknown>;
  const keys = Object.keys(map).sort();
  if (keys.length !== KEYS.length || keys.some((key, i) => key !== KEYS[i]) || map['v'] !== 1 || typeof map['others'] !== 'boolean') return undefined;
  const roots = cids(map['roots']);
  const keep = cids(map['keep']);
  if (roots === undefined || keep === undefined || roots.length + keep.length > MAX_CLOSE_ROOTS) return undefined;
  if (!map['others'] && keep.length > 0) return undefined;
  return { roots, others: map['others'], keep };
}

function cids(value: unknown): CID[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: CID[] = [];
  for (const item of value) {
    const cid = CID.asCID(item);
    if (cid === null || cid.version !== 1) return undefined;
    out.push(cid);
  }
  return out;
}
