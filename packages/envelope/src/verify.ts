import { compositeVerify } from '@milagro/crypto';
import { digestBytes } from './body-digest.js';
import { LENGTHS, SIGNATURE_CONTEXT } from './constants.js';
import type { Envelope, SenderPublicKey } from './envelope.js';
import { isDetachedBody } from './envelope.js';
import { decodeEnvelope, equalBytes, signedBytes } from './envelope-encoding.js';
import { EnvelopeError } from './errors.js';

/** An envelope given as its encoding or already decoded. */
export type EnvelopeInput = Envelope | Uint8Array;

/** Decodes bytes, or passes a decoded envelope through. */
export function asEnvelope(input: EnvelopeInput): Envelope {
  return input instanceof Uint8Array ? decodeEnvelope(input) : input;
}

/**
 * Checks that `sender` signed the envelope: `from` must be `sender.id` and the composite
 * signature must verify under `sender.publicKey` (both halves). An inline body is checked against
 * the signed commitment too; a streamed or detached body is checked while it is opened.
 *
 * The sender's key must come from the PKI (its identity document), never from the envelope.
 * @returns the decoded envelope
 * @throws EnvelopeError `BAD_SIGNATURE`, `TAMPERED` (inline body), `MALFORMED` /
 *   `UNSUPPORTED_VERSION` (bytes), `INVALID_ARGUMENT` (a public key of the wrong length)
 */
export function verifyEnvelope(input: EnvelopeInput, sender: SenderPublicKey): Envelope {
  const envelope = asEnvelope(input);
  if (!(sender?.publicKey instanceof Uint8Array) || sender.publicKey.length !== LENGTHS.senderPublicKey) {
    throw new EnvelopeError('INVALID_ARGUMENT', `sender public key must be ${LENGTHS.senderPublicKey} bytes`);
  }
  if (envelope.header.from !== sender.id) throw new EnvelopeError('BAD_SIGNATURE', 'the envelope names another sender');
  const message = signedBytes(envelope.version, envelope.header, envelope.body);
  if (!compositeVerify(sender.publicKey, message, envelope.signature, SIGNATURE_CONTEXT)) {
    throw new EnvelopeError('BAD_SIGNATURE', 'the signature does not verify under the sender key');
  }
  if (envelope.data !== undefined) {
    if (isDetachedBody(envelope.body) || envelope.data.length !== envelope.body.size || !equalBytes(digestBytes(envelope.data), envelope.body.sha256)) {
      throw new EnvelopeError('TAMPERED', 'the inline body does not match its signed commitment');
    }
  }
  return envelope;
}
