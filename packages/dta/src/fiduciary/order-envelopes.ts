/**
 * Sealing and opening the chain's envelopes, with envelope errors mapped to the D-TA's codes:
 * bytes that do not decode are `INVALID_REQUEST`; a bad signature, a tampered body or an envelope
 * sealed to someone else is `NOT_AUTHORISED`.
 */
import {
  decodeEnvelope,
  encodeEnvelope,
  envelopeCid,
  isEnvelopeError,
  openEnvelope,
  sealEnvelope,
  type Envelope,
  type EnvelopeRecipientKey,
  type EnvelopeSigner,
  type RecipientPublicKey,
  type SenderPublicKey,
} from '@milagro/envelope';
import type { CID } from 'multiformats/cid';
import { DtaError } from '../errors.js';

/** Largest envelope accepted: an 8 KiB secret plus signature, one recipient and framing fits easily. */
export const MAX_ENVELOPE_BYTES = 64 * 1024;

/** One envelope of the chain: its encoding and its address (CIDv1 string). */
export interface ChainEnvelope {
  readonly cid: string;
  readonly bytes: Uint8Array;
}

export async function sealStep(options: {
  readonly from: EnvelopeSigner;
  readonly to: RecipientPublicKey;
  readonly type: string;
  readonly prev?: CID | string;
  readonly body: Uint8Array;
}): Promise<ChainEnvelope> {
  let envelope: Envelope;
  try {
    envelope = await sealEnvelope({
      from: options.from,
      to: [options.to],
      type: options.type,
      typeVersion: 1,
      ...(options.prev === undefined ? {} : { prev: options.prev }),
      body: options.body,
    });
  } catch (cause) {
    if (isEnvelopeError(cause, 'INVALID_ARGUMENT')) throw new DtaError('INVALID_REQUEST', cause.message, { cause });
    throw cause;
  }
  const bytes = encodeEnvelope(envelope);
  return { cid: envelopeCid(bytes).toString(), bytes };
}

/**
 * Decodes an envelope of `type` (structure only: nothing is verified yet).
 * @throws DtaError `INVALID_REQUEST`
 */
export function decodeStep(bytes: Uint8Array, type: string): { readonly envelope: Envelope; readonly cid: string } {
  if (!(bytes instanceof Uint8Array)) throw new DtaError('INVALID_REQUEST', 'the envelope must be bytes');
  if (bytes.length > MAX_ENVELOPE_BYTES) throw new DtaError('INVALID_REQUEST', `the envelope is larger than ${MAX_ENVELOPE_BYTES} bytes`);
  let envelope: Envelope;
  try {
    envelope = decodeEnvelope(bytes);
  } catch (cause) {
    throw new DtaError('INVALID_REQUEST', 'the envelope does not decode', { cause });
  }
  if (envelope.header.type !== type || envelope.header.typeVersion !== 1) {
    throw new DtaError('INVALID_REQUEST', `expected a ${type} envelope (version 1)`);
  }
  if (envelope.data === undefined) throw new DtaError('INVALID_REQUEST', 'the envelope body must be inline');
  return { envelope, cid: envelopeCid(bytes).toString() };
}

/** True when the envelope names `id` as a direct recipient. */
export function isAddressedTo(envelope: Envelope, id: string): boolean {
  return envelope.header.to.some((entry) => entry.id === id);
}

/** The envelope's `prev` as a string, or undefined. */
export function prevOf(envelope: Envelope): string | undefined {
  return envelope.header.prev?.toString();
}

/**
 * Verifies the sender and decrypts.
 * @throws DtaError `NOT_AUTHORISED` (bad signature, tampered, not sealed to `recipient`), `INVALID_REQUEST`
 */
export async function openStep(envelope: Envelope, sender: SenderPublicKey, recipient: EnvelopeRecipientKey): Promise<Uint8Array> {
  try {
    return (await openEnvelope(envelope, { sender, recipient })).body;
  } catch (cause) {
    if (isEnvelopeError(cause, 'BAD_SIGNATURE')) throw new DtaError('NOT_AUTHORISED', 'the envelope is not signed by its sender', { cause });
    if (isEnvelopeError(cause, 'NOT_A_RECIPIENT')) throw new DtaError('NOT_AUTHORISED', 'the envelope is not sealed to this identity', { cause });
    if (isEnvelopeError(cause, 'TAMPERED') || isEnvelopeError(cause, 'TRUNCATED')) {
      throw new DtaError('NOT_AUTHORISED', 'the envelope does not match its signature', { cause });
    }
    if (isEnvelopeError(cause)) throw new DtaError('INVALID_REQUEST', `the envelope does not open (${cause.code})`, { cause });
    throw cause;
  }
}
