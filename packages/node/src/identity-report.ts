/**
 * A node's identity as operators see it (`milagro identity show`, `GET /v1/node`), and its rotation
 * (`milagro identity rotate`): a rotation document by @milagro/pki, signed by the current keys and
 * carrying the pre-rotated ones, published and pinned in the node's IPFS store.
 */
import { createHash } from 'node:crypto';
import { rotateIdentity, type OwnedIdentity } from '@milagro/pki';
import type { NodeInfrastructure } from './bootstrap.js';

/** Length of the Ed25519 half of the composite signing key (the rest is ML-DSA-65). */
const ED25519_PUBLIC_KEY_BYTES = 32;

/** One current public key: its SHA-256 fingerprint and, when asked for, the key itself. */
export interface PublicKeyReport {
  /** `sha256:` and the first 16 bytes of SHA-256(public key), hex. */
  readonly fingerprint: string;
  /** The public key, base64url. */
  readonly publicKey?: string;
}

export interface IdentityReport {
  /** The identity: CID of its inception document (never changes). */
  readonly identity: string;
  /** CID of the newest document (the inception document until the first rotation). */
  readonly head: string;
  /** How often the keys were rotated: the newest document's sequence number. */
  readonly rotations: number;
  /** When the newest document was signed (informative). */
  readonly created: string;
  /** The current generation's public keys. */
  readonly keys: Readonly<Record<'ed25519' | 'ml-dsa-65' | 'x-wing' | 'bls12-381', PublicKeyReport>> & { readonly secp256k1?: PublicKeyReport };
  /** The pre-rotation commitment to the next keys (hex): the only keys a rotation may introduce. */
  readonly nextKeysCommitment: string;
}

function keyReport(key: Uint8Array, withKey: boolean): PublicKeyReport {
  const fingerprint = `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
  return withKey ? { fingerprint, publicKey: Buffer.from(key).toString('base64url') } : { fingerprint };
}

/** What `owned` is now; `publicKeys` adds the keys themselves (several KB) to their fingerprints. */
export function reportIdentity(owned: OwnedIdentity, options: { readonly publicKeys?: boolean } = {}): IdentityReport {
  const withKeys = options.publicKeys === true;
  const { keys } = owned.document;
  return {
    identity: owned.id.toString(),
    head: owned.head.toString(),
    rotations: owned.document.seq,
    created: new Date(owned.document.created).toISOString(),
    keys: {
      ed25519: keyReport(keys.sign.subarray(0, ED25519_PUBLIC_KEY_BYTES), withKeys),
      'ml-dsa-65': keyReport(keys.sign.subarray(ED25519_PUBLIC_KEY_BYTES), withKeys),
      'x-wing': keyReport(keys.kem, withKeys),
      'bls12-381': keyReport(keys.bls, withKeys),
      ...(keys.secp256k1 === undefined ? {} : { secp256k1: keyReport(keys.secp256k1, withKeys) }),
    },
    nextKeysCommitment: Buffer.from(owned.document.next).toString('hex'),
  };
}

/**
 * Rotates the node's identity to its pre-rotated keys and returns the new state. The node must not
 * be serving: its roles and messenger hold the identity they were started with, and the retired
 * generation's signing keys are deleted. Run it on a node opened for the purpose, then start the
 * node again (peers learn the new head from its next message, which names it).
 */
export function rotateNodeIdentity(node: NodeInfrastructure): Promise<OwnedIdentity> {
  return rotateIdentity(node.identity, { keyStore: node.keyStore, store: node.ipfs.store });
}
