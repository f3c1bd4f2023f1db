/**
 * @packageDocumentation
 * The Milagro encrypted envelope (format version 1, docs/specs/envelope-v1.md): a body sealed
 * with a chunked AES-256-GCM STREAM, its content key wrapped per recipient with HPKE/X-Wing (or
 * Shamir-shared across k-of-n groups), signed by the sender with a composite Ed25519 + ML-DSA-65
 * key, encoded as deterministic DAG-CBOR and addressed by its CIDv1. No I/O, no PKI look-ups:
 * callers pass the identities' public keys and the key capabilities.
 *
 * @example
 * ```ts
 * import { sealEnvelope, encodeEnvelope, openEnvelope, compositeSigner, xwingRecipientKey } from '@milagro/envelope';
 *
 * const envelope = await sealEnvelope({
 *   from: compositeSigner(aliceId, aliceSigningSecretKey),
 *   to: [{ id: bobId, publicKey: bobXWingPublicKey }],
 *   type: 'example/note',
 *   body: new TextEncoder().encode('hello'),
 * });
 * const bytes = encodeEnvelope(envelope);
 * const { body } = await openEnvelope(bytes, {
 *   sender: { id: aliceId, publicKey: aliceSigningPublicKey },
 *   recipient: xwingRecipientKey(bobId, bobXWingSecretKey),
 * });
 * ```
 */
export { EnvelopeError, isEnvelopeError, type EnvelopeErrorCode } from './errors.js';
export { ENVELOPE_VERSION } from './constants.js';
export type {
  BodyCommitment,
  Envelope,
  EnvelopeHeader,
  RecipientEntry,
  RecipientGroup,
  RecipientPublicKey,
  SenderPublicKey,
} from './envelope.js';
export { compositeSigner, xwingRecipientKey, type EnvelopeRecipientKey, type EnvelopeSigner } from './capabilities.js';
export { decodeEnvelope, encodeEnvelope, envelopeCid, blockCid } from './envelope-encoding.js';
export {
  sealEnvelope,
  sealEnvelopeBlocks,
  sealEnvelopeStream,
  type BlockSink,
  type BodyBlock,
  type CiphertextSink,
  type RecipientGroupSpec,
  type SealOptions,
} from './seal.js';
export { verifyEnvelope, type EnvelopeInput } from './verify.js';
export { openEnvelope, openEnvelopeStream, revealContentKey, unwrapShare, type EnvelopeShare, type OpenedEnvelope, type OpenOptions } from './open.js';
