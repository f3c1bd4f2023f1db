/**
 * Verification of identity documents (docs/specs/identity-v1.md §5). Pure functions: the resolver
 * fetches, these decide.
 */
import { compositeVerify, constantTimeEqual, type BlsSignatures } from '@milagro/crypto';
import type { CID } from 'multiformats/cid';
import { defaultBls } from './default-bls.js';
import { PREV_SIGNATURE_CONTEXT, SELF_SIGNATURE_CONTEXT } from './constants.js';
import { PkiError } from './errors.js';
import { signedBytes, type IdentityDocument, type InceptionDocument, type KeyDocument } from './identity-document.js';
import { commitToKeys } from './key-commitment.js';


function badSignature(message: string): never {
  throw new PkiError('BAD_SIGNATURE', message);
}

function brokenChain(message: string): never {
  throw new PkiError('BROKEN_CHAIN', message);
}

/** Checks what every key-carrying document proves about itself: a valid BLS key, its own composite signature, the BLS proof of possession. */
function verifyKeyHolder(document: KeyDocument, payload: Uint8Array, bls: BlsSignatures): void {
  // A point in BLS12-381's prime-order G1 subgroup, not the identity (draft-irtf-cfrg-bls-signature KeyValidate).
  if (!bls.keyValidate(document.keys.bls)) throw new PkiError('MALFORMED', `${document.type} has an invalid BLS12-381 public key`);
  if (!compositeVerify(document.keys.sign, payload, document.sigs.self, SELF_SIGNATURE_CONTEXT)) {
    badSignature(`${document.type} is not signed by its own keys`);
  }
  if (!bls.popVerify(document.keys.bls, document.pop)) badSignature(`${document.type} has an invalid BLS proof of possession`);
}

/**
 * Verifies an inception document: type, self-signature, BLS proof of possession.
 * @throws PkiError `BROKEN_CHAIN` when it is not an inception, `BAD_SIGNATURE` when a proof fails.
 */
export function verifyInception(document: IdentityDocument, bls: BlsSignatures = defaultBls): asserts document is InceptionDocument {
  if (document.type !== 'inception') brokenChain(`an identity must start with an inception document, not a ${document.type}`);
  verifyKeyHolder(document, signedBytes(document), bls);
}

/**
 * Verifies that `document` is a valid successor of `previous` (whose CID is `previousCid`) in the
 * chain of identity `id`: same identity, next sequence number, `prev` link, signature by the
 * predecessor's keys, and (for a rotation) keys matching the predecessor's pre-rotation commitment,
 * its own signature and BLS proof of possession. `previous` must already be verified.
 * @throws PkiError `BROKEN_CHAIN`, `BAD_SIGNATURE` or `REVOKED` (when `previous` is a revocation).
 */
export function verifySuccessor(
  id: CID,
  previous: IdentityDocument,
  previousCid: CID,
  document: IdentityDocument,
  bls: BlsSignatures = defaultBls,
): void {
  if (previous.type === 'revocation') throw new PkiError('REVOKED', 'the identity was revoked; nothing can follow a revocation');
  if (document.type === 'inception') brokenChain('an inception document cannot follow another document');
  if (!document.id.equals(id)) brokenChain('document belongs to another identity');
  if (!document.prev.equals(previousCid)) brokenChain('document does not link to its predecessor');
  if (document.seq !== previous.seq + 1) brokenChain(`document has seq ${document.seq}, expected ${previous.seq + 1}`);
  const payload = signedBytes(document);
  if (!compositeVerify(previous.keys.sign, payload, document.sigs.prev, PREV_SIGNATURE_CONTEXT)) {
    badSignature(`${document.type} is not signed by the keys it replaces`);
  }
  if (document.type === 'revocation') return;
  if (!constantTimeEqual(commitToKeys(document.keys), previous.next)) {
    brokenChain('rotation keys do not match the pre-rotation commitment of the predecessor');
  }
  verifyKeyHolder(document, payload, bls);
}
