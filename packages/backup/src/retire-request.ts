/**
 * The node's signed retire request: "fiduciary F, stop keeping these backups of mine". Messaging
 * already authenticates the sender; the node's own signature over the claim is what the fiduciary
 * keeps in its audit chain, so it can show later that the owner asked (a fiduciary dropping a
 * backup on its own has nothing to show).
 */
import * as dagCbor from '@ipld/dag-cbor';
import { compositeVerify } from '@milagro/crypto';
import type { CID } from 'multiformats/cid';
import { RETIRE_CONTEXT } from './constants.js';
import type { ManifestSigner } from './manifest.js';

const CONTEXT = new TextEncoder().encode(RETIRE_CONTEXT);

/** What a retire request binds: the node, the one fiduciary it is for, the manifests, a moment. */
export interface RetireClaim {
  /** The node whose backups these are (the signer). */
  readonly node: string;
  /** The fiduciary the request is for (a request for another is refused). */
  readonly fiduciary: string;
  readonly manifests: readonly CID[];
  /** ms since the epoch. */
  readonly issued: number;
}

function claimBytes(claim: RetireClaim): Uint8Array {
  return dagCbor.encode({ type: 'milagro/backup/retire', node: claim.node, fiduciary: claim.fiduciary, manifests: [...claim.manifests], issued: claim.issued });
}

/** The node's signature of `claim` (the signer must be `claim.node`). */
export async function signRetireClaim(signer: ManifestSigner, claim: RetireClaim): Promise<Uint8Array> {
  return signer.sign(claimBytes(claim), CONTEXT);
}

/** True when `signature` is `nodeKey`'s signature of exactly `claim` (the key from the PKI, never from the request). */
export function verifyRetireClaim(nodeKey: Uint8Array, claim: RetireClaim, signature: Uint8Array): boolean {
  try {
    return compositeVerify(nodeKey, claimBytes(claim), signature, CONTEXT);
  } catch {
    return false;
  }
}
