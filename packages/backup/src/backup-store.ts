import type { ContentStore } from '@milagro/ipfs';
import * as dagCbor from '@ipld/dag-cbor';
import type { CID } from 'multiformats/cid';
import { decodeEnvelope, type Envelope } from '@milagro/envelope';
import { BackupError } from './errors.js';
import { decodeManifest, type SignedManifest } from './manifest.js';

/** The content-store calls backups use (an embedded Helia node or Kubo through `@milagro/ipfs`). */
export type BackupStore = Pick<ContentStore, 'put' | 'get' | 'putDag' | 'getDag' | 'pin' | 'unpin'>;

/** Fetches and decodes a manifest (its signature is checked by `verifyManifest`). */
export async function readManifest(store: Pick<BackupStore, 'getDag'>, cid: CID | string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<SignedManifest> {
  let value: unknown;
  try {
    value = await store.getDag(cid, options);
  } catch (cause) {
    throw new BackupError('NOT_FOUND', `manifest ${cid.toString()} could not be fetched`, { cause });
  }
  return decodeManifest(value);
}

/** Fetches a backup envelope (its signature is checked when it is opened). */
export async function readEnvelope(store: Pick<BackupStore, 'get'>, cid: CID, options: { timeoutMs?: number } = {}): Promise<Envelope> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(cid, options);
  } catch (cause) {
    throw new BackupError('NOT_FOUND', `backup envelope ${cid.toString()} could not be fetched`, { cause });
  }
  try {
    return decodeEnvelope(bytes);
  } catch (cause) {
    throw new BackupError('MALFORMED', 'the backup envelope does not decode', { cause });
  }
}

/** Stores an envelope's encoding as its DAG-CBOR block; returns the CID (equal to `envelopeCid`). */
export function putEnvelopeBytes(store: Pick<BackupStore, 'putDag'>, bytes: Uint8Array): Promise<CID> {
  return store.putDag(dagCbor.decode(bytes));
}
