import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { equals } from 'multiformats/bytes';
import { DAG_CBOR_CODE, RAW_CODE } from './constants.js';
import { IpfsError } from './errors.js';

/** Parses a CID given as a string or object; anything unparsable is `INVALID_CID`. */
export function parseCid(cid: CID | string): CID {
  if (typeof cid !== 'string') {
    const parsed = CID.asCID(cid);
    if (parsed === null) throw new IpfsError('INVALID_CID', 'not a CID');
    return parsed;
  }
  try {
    return CID.parse(cid);
  } catch (error) {
    throw new IpfsError('INVALID_CID', 'unparsable CID string', { cause: error });
  }
}

/** CIDv1 of `bytes` under `code` (raw or DAG-CBOR), hashed with sha2-256. */
export async function cidOf(bytes: Uint8Array, code: number = RAW_CODE): Promise<CID> {
  return CID.createV1(code, await sha256.digest(bytes));
}

/** Refuses a block over `maxBytes` with `TOO_LARGE`. */
export function checkSize(size: number, maxBytes: number, cid?: CID): void {
  if (size > maxBytes) {
    throw new IpfsError('TOO_LARGE', `block${cid === undefined ? '' : ` ${cid.toString()}`} is ${size} bytes, limit ${maxBytes}`);
  }
}

/**
 * Checks that `bytes` hash to `cid`. A remote backend (Kubo over HTTP) is not trusted to return the
 * right bytes. Only sha2-256 (the hash of every block we write) is accepted: a CID under any other
 * hash is refused with `UNSUPPORTED` rather than returned unchecked.
 */
export async function verifyBlock(cid: CID, bytes: Uint8Array): Promise<void> {
  if (cid.multihash.code !== sha256.code) {
    throw new IpfsError('UNSUPPORTED', `${cid.toString()} uses multihash 0x${cid.multihash.code.toString(16)}; only sha2-256 is verified`);
  }
  const digest = await sha256.digest(bytes);
  if (!equals(digest.bytes, cid.multihash.bytes)) {
    throw new IpfsError('INVALID_DATA', `block bytes do not match ${cid.toString()}`);
  }
}

/** Deterministic DAG-CBOR encoding; values DAG-CBOR cannot represent (undefined, functions, NaN) give `INVALID_DATA`. */
export function encodeDag(value: unknown): Uint8Array {
  try {
    return dagCbor.encode(value);
  } catch (error) {
    throw new IpfsError('INVALID_DATA', 'value cannot be encoded as DAG-CBOR', { cause: error });
  }
}

/** Decodes a DAG-CBOR block; a CID of another codec or malformed bytes give `INVALID_DATA`. */
export function decodeDag<T>(cid: CID, bytes: Uint8Array): T {
  if (cid.code !== DAG_CBOR_CODE) throw new IpfsError('INVALID_DATA', `${cid.toString()} is not DAG-CBOR`);
  try {
    return dagCbor.decode<T>(bytes);
  } catch (error) {
    throw new IpfsError('INVALID_DATA', `${cid.toString()} is not valid DAG-CBOR`, { cause: error });
  }
}
