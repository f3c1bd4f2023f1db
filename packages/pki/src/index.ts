/**
 * @packageDocumentation
 * The decentralised PKI of Milagro (identity format version 1, docs/specs/identity-v1.md): no CAs,
 * no certificates. An identity is the CID of its inception document on IPFS; rotation documents
 * link back to their predecessor, are signed by the keys they replace and by the keys they
 * introduce, and those must match the predecessor's pre-rotation commitment, so a stolen current
 * key cannot take over an identity. Revocation is terminal. A resolver follows the chain, verifies
 * every step and reports forks instead of guessing. Private keys stay in a `@milagro/keystore`.
 *
 * @example
 * ```ts
 * import { MemoryKeyStore } from '@milagro/keystore';
 * import { createIdentity, rotateIdentity, IdentityResolver } from '@milagro/pki';
 *
 * const keyStore = new MemoryKeyStore();
 * let alice = await createIdentity({ keyStore, store, labelPrefix: 'alice' }); // store: a ContentStore
 * alice = await rotateIdentity(alice, { keyStore, store });
 *
 * const resolver = new IdentityResolver({ store });
 * const resolved = await resolver.resolve(alice.id, { heads: [alice.head] });
 * resolved.seq; // 1: the rotated keys are current
 * ```
 */
export { PkiError, isPkiError, type PkiErrorCode } from './errors.js';
export { IDENTITY_VERSION } from './constants.js';
export type { DocumentStore } from './document-store.js';
export { MemoryDocumentStore } from './memory-document-store.js';
export {
  decodeIdentityDocument,
  encodeIdentityDocument,
  documentCid,
  signedBytes,
  type IdentityDocument,
  type IdentityKeys,
  type InceptionDocument,
  type KeyDocument,
  type RevocationDocument,
  type RotationDocument,
} from './identity-document.js';
export { commitToKeys } from './key-commitment.js';
export { verifyInception, verifySuccessor } from './document-verification.js';
export type { FetchOptions } from './document-fetch.js';
export {
  createIdentity,
  rotateIdentity,
  revokeIdentity,
  loadIdentity,
  identitySigner,
  identityRecipientKey,
  type CreateIdentityOptions,
  type IdentityControllerOptions,
  type OwnedIdentity,
} from './identity-controller.js';
export { IdentityResolver, type IdentityResolverOptions, type ResolveOptions, type ResolvedIdentity } from './identity-resolver.js';
