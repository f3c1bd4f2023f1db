import { CID } from 'multiformats/cid';
import { DEFAULT_FETCH_TIMEOUT_MS, MAX_DOCUMENT_BYTES } from './constants.js';
import type { DocumentStore } from './document-store.js';
import { PkiError } from './errors.js';
import { decodeIdentityDocument, documentCid, type IdentityDocument } from './identity-document.js';

/** Options of calls that read documents from a store. */
export interface FetchOptions {
  readonly signal?: AbortSignal;
  /** Per-document timeout in milliseconds (default 30 s). */
  readonly timeoutMs?: number;
}

/** Parses an identity or document reference: a CID object or its canonical string. */
export function parseDocumentCid(reference: CID | string, what: string): CID {
  let cid: CID | null;
  try {
    cid = typeof reference === 'string' ? CID.parse(reference) : CID.asCID(reference);
  } catch {
    cid = null;
  }
  if (cid === null || cid.version !== 1 || cid.code !== 0x71) {
    throw new PkiError('INVALID_ARGUMENT', `${what} must be a CIDv1 of a DAG-CBOR document`);
  }
  return cid;
}

/**
 * Fetches a document and decodes it, trusting nothing the store says: the bytes must hash to `cid`.
 * @throws PkiError `NOT_FOUND` when the store cannot deliver it, `MALFORMED` when it is not a document.
 */
export async function fetchDocument(store: DocumentStore, cid: CID, options: FetchOptions = {}): Promise<IdentityDocument> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(cid, { signal: options.signal, timeoutMs: options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS, maxBytes: MAX_DOCUMENT_BYTES });
  } catch (cause) {
    throw new PkiError('NOT_FOUND', `identity document ${cid.toString()} could not be fetched`, { cause });
  }
  if ((await documentCid(bytes)).toString() !== cid.toString()) throw new PkiError('MALFORMED', `the store returned bytes that do not match ${cid.toString()}`);
  return decodeIdentityDocument(bytes);
}
