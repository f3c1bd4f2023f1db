/**
 * Opening: verify the sender, recover the content key (as a direct recipient, or by combining
 * k shares of a group), then decrypt the body while checking it against the signed commitment.
 */
import { createSha256, CryptoError, decryptStream, type ByteSource } from '@milagro/crypto';
import type { EnvelopeRecipientKey } from './capabilities.js';
import type { BodyCommitment, Envelope, RecipientEntry, SenderPublicKey } from './envelope.js';
import { isDetachedBody } from './envelope.js';
import { blockCid, equalBytes, headerDigest } from './envelope-encoding.js';
import { LENGTHS } from './constants.js';
import { EnvelopeError } from './errors.js';
import { keyId, recoverGroupKey, unwrapEntry } from './key-wrap.js';
import { asEnvelope, verifyEnvelope, type EnvelopeInput } from './verify.js';

/**
 * One group member's share of an envelope's group secret, produced by {@link unwrapShare} and
 * handed to whoever combines k of them. It is secret: send it only encrypted (e.g. in an envelope
 * to the combiner).
 */
export interface EnvelopeShare {
  /** SHA-256 of the envelope header: ties the share to one envelope. */
  readonly header: Uint8Array;
  /** Position of the group in the header (0-based). */
  readonly group: number;
  /** Share index (1-based position of the member in the group). */
  readonly index: number;
  /** The share: a BLS12-381 scalar, 32 bytes big-endian. */
  readonly value: Uint8Array;
}

/** Who opens: always the expected sender, and either one recipient's key or k shares of a group. */
export interface OpenOptions {
  /** The sender as the PKI knows it; the envelope must be signed by this key. */
  readonly sender: SenderPublicKey;
  /** A direct recipient's (or a 1-of-n group member's) key capability. */
  readonly recipient?: EnvelopeRecipientKey;
  /** At least k shares of one group, from {@link unwrapShare}. */
  readonly shares?: readonly EnvelopeShare[];
  /**
   * The envelope's content key, revealed by a recipient with {@link revealContentKey}: lets a third
   * party open this one envelope (the sender's signature is checked as always).
   */
  readonly contentKey?: Uint8Array;
  /**
   * The body ciphertext when it is not inline: the bytes written by `sealEnvelopeStream` (slices
   * of any size), or the blocks of `sealEnvelopeBlocks`, one block per item, in order.
   */
  readonly body?: ByteSource;
}

/** An opened envelope with its whole plaintext. */
export interface OpenedEnvelope {
  readonly envelope: Envelope;
  readonly body: Uint8Array;
}

function findEntry(entries: readonly RecipientEntry[], recipient: EnvelopeRecipientKey): RecipientEntry | undefined {
  return entries.find((e) => e.id === recipient.id);
}

function checkKid(entry: RecipientEntry, recipient: EnvelopeRecipientKey): void {
  if (!(recipient.publicKey instanceof Uint8Array) || !equalBytes(entry.kid, keyId(recipient.publicKey))) {
    throw new EnvelopeError('NOT_A_RECIPIENT', 'this identity is a recipient under a different key');
  }
}

async function contentKeyOf(envelope: Envelope, options: OpenOptions): Promise<Uint8Array> {
  const { header } = envelope;
  if (options.contentKey !== undefined) {
    if (!(options.contentKey instanceof Uint8Array) || options.contentKey.length !== LENGTHS.contentKey) {
      throw new EnvelopeError('INVALID_ARGUMENT', `a content key is ${LENGTHS.contentKey} bytes`);
    }
    return options.contentKey.slice(); // wiped after use, like an unwrapped one
  }
  if (options.shares !== undefined && options.shares.length > 0) return combineGroupShares(envelope, options.shares);
  const recipient = options.recipient;
  if (recipient === undefined) throw new EnvelopeError('INVALID_ARGUMENT', 'open needs a recipient key or group shares');
  const direct = findEntry(header.to, recipient);
  if (direct !== undefined) {
    checkKid(direct, recipient);
    return unwrapEntry(recipient, direct, header.nonce);
  }
  for (const [group, g] of header.groups.entries()) {
    const index = g.members.findIndex((m) => m.id === recipient.id);
    if (index < 0) continue;
    if (g.threshold > 1) continue;
    const member = g.members[index] as RecipientEntry;
    checkKid(member, recipient);
    const value = await unwrapEntry(recipient, member, header.nonce);
    return recoverGroupKey(g.key, g.threshold, [{ index: index + 1, value }], header.nonce, group);
  }
  if (header.groups.some((g) => g.members.some((m) => m.id === recipient.id))) {
    throw new EnvelopeError('NOT_ENOUGH_SHARES', 'this identity holds only a share; combine the shares of its group');
  }
  throw new EnvelopeError('NOT_A_RECIPIENT', 'this identity is not a recipient of the envelope');
}

async function combineGroupShares(envelope: Envelope, shares: readonly EnvelopeShare[]): Promise<Uint8Array> {
  const digest = headerDigest(envelope.header);
  for (const share of shares) {
    if (!(share?.header instanceof Uint8Array) || !equalBytes(share.header, digest)) {
      throw new EnvelopeError('SHARE_INVALID', 'a share belongs to another envelope');
    }
    const g = envelope.header.groups[share.group];
    if (g === undefined || !Number.isSafeInteger(share.index) || share.index < 1 || share.index > g.members.length) {
      throw new EnvelopeError('SHARE_INVALID', 'a share names a group or index this envelope does not have');
    }
    if (!(share.value instanceof Uint8Array) || share.value.length !== 32) throw new EnvelopeError('SHARE_INVALID', 'a share value must be 32 bytes');
  }
  const groups = [...new Set(shares.map((s) => s.group))];
  if (groups.length !== 1) throw new EnvelopeError('SHARE_INVALID', 'shares must all come from one group');
  const group = groups[0] as number;
  const g = envelope.header.groups[group]!;
  return recoverGroupKey(g.key, g.threshold, shares, envelope.header.nonce, group);
}

/** Passes the body ciphertext through while checking it against the signed commitment. */
async function* committedBody(source: ByteSource, body: BodyCommitment): AsyncGenerator<Uint8Array> {
  let size = 0;
  if (isDetachedBody(body)) {
    let i = 0;
    for await (const block of source) {
      if (!(block instanceof Uint8Array)) throw new EnvelopeError('INVALID_ARGUMENT', 'body blocks must be Uint8Array');
      const expected = body.blocks[i];
      if (expected === undefined) throw new EnvelopeError('TAMPERED', 'more blocks than the envelope lists');
      if (!blockCid(block).equals(expected)) throw new EnvelopeError('TAMPERED', `block ${i} does not match its CID`);
      size += block.length;
      i++;
      yield block;
    }
    if (i < body.blocks.length) throw new EnvelopeError('TRUNCATED', `only ${i} of ${body.blocks.length} blocks`);
    if (size !== body.size) throw new EnvelopeError('TAMPERED', 'the blocks do not add up to the committed size');
    return;
  }
  const digest = createSha256();
  for await (const piece of source) {
    if (!(piece instanceof Uint8Array)) throw new EnvelopeError('INVALID_ARGUMENT', 'body slices must be Uint8Array');
    size += piece.length;
    if (size > body.size) throw new EnvelopeError('TAMPERED', 'the body is longer than its signed commitment');
    digest.update(piece);
    yield piece;
  }
  if (size < body.size) throw new EnvelopeError('TRUNCATED', 'the body is shorter than its signed commitment');
  if (!equalBytes(digest.digest(), body.sha256)) throw new EnvelopeError('TAMPERED', 'the body does not match its signed commitment');
}

function bodyError(cause: unknown): unknown {
  if (cause instanceof EnvelopeError) return cause;
  if (cause instanceof CryptoError) {
    if (cause.code === 'STREAM_TRUNCATED') return new EnvelopeError('TRUNCATED', 'the body stream ended before its final chunk', { cause });
    return new EnvelopeError('TAMPERED', 'the body stream does not authenticate', { cause });
  }
  return cause; // the caller's own source failed
}

/** `body` undefined: the source was already checked against the commitment (inline data). */
async function* decryptBody(key: Uint8Array, aad: Uint8Array, source: ByteSource, body: BodyCommitment | undefined): AsyncGenerator<Uint8Array> {
  try {
    yield* decryptStream(key, body === undefined ? source : committedBody(source, body), { associatedData: aad });
  } catch (cause) {
    throw bodyError(cause);
  } finally {
    key.fill(0);
  }
}

/**
 * Verifies the envelope and prepares its body for streaming decryption in constant memory.
 * Plaintext is released chunk by chunk, each only after it authenticated; the commitment to the
 * whole body is checked when the stream ends. Act on the data only after the iteration finished
 * without error: a later chunk may still fail (`TAMPERED` / `TRUNCATED`).
 *
 * @throws EnvelopeError (from the promise) `BAD_SIGNATURE`, `NOT_A_RECIPIENT`, `NOT_ENOUGH_SHARES`,
 *   `SHARE_INVALID`, `TAMPERED`, `MALFORMED`, `UNSUPPORTED_VERSION`, `INVALID_ARGUMENT`; (from the
 *   iteration) `TAMPERED`, `TRUNCATED`
 */
export async function openEnvelopeStream(input: EnvelopeInput, options: OpenOptions): Promise<AsyncIterable<Uint8Array>> {
  const envelope = verifyEnvelope(input, options.sender);
  const source = envelope.data !== undefined ? [envelope.data] : options.body;
  if (envelope.data !== undefined && options.body !== undefined) {
    throw new EnvelopeError('INVALID_ARGUMENT', 'the body is inline; do not pass one');
  }
  if (source === undefined) throw new EnvelopeError('INVALID_ARGUMENT', 'the body is not inline; pass it as options.body');
  const key = await contentKeyOf(envelope, options);
  // verifyEnvelope has already checked inline data against the commitment: hash it only once.
  return decryptBody(key, headerDigest(envelope.header), source, envelope.data !== undefined ? undefined : envelope.body);
}

/**
 * Verifies and opens an envelope, returning the whole plaintext (for bodies that fit in memory).
 *
 * @example
 * ```ts
 * const { body } = await openEnvelope(bytes, { sender: alice, recipient: bobKey });
 * ```
 * @throws EnvelopeError as {@link openEnvelopeStream}, all from the returned promise.
 */
export async function openEnvelope(input: EnvelopeInput, options: OpenOptions): Promise<OpenedEnvelope> {
  const envelope = asEnvelope(input);
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of await openEnvelopeStream(envelope, options)) {
    parts.push(part);
    length += part.length;
  }
  if (parts.length === 1) return { envelope, body: parts[0] as Uint8Array };
  const body = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.length;
  }
  return { envelope, body };
}

/**
 * As a member of a k-of-n group, verifies the envelope and unwraps this member's share, to be
 * combined with k − 1 others by `openEnvelope(envelope, { sender, shares })`.
 * @param group - which group, when the identity is a member of several (default: the first)
 * @throws EnvelopeError `BAD_SIGNATURE`, `NOT_A_RECIPIENT` (not a member of any group / that
 *   group), `TAMPERED` (the share does not authenticate), `MALFORMED`, `INVALID_ARGUMENT`
 */
export async function unwrapShare(
  input: EnvelopeInput,
  options: { readonly sender: SenderPublicKey; readonly recipient: EnvelopeRecipientKey; readonly group?: number },
): Promise<EnvelopeShare> {
  const envelope = verifyEnvelope(input, options.sender);
  const { header } = envelope;
  const recipient = options.recipient;
  for (const [group, g] of header.groups.entries()) {
    if (options.group !== undefined && options.group !== group) continue;
    const index = g.members.findIndex((m) => m.id === recipient.id);
    if (index < 0) continue;
    const member = g.members[index] as RecipientEntry;
    checkKid(member, recipient);
    const value = await unwrapEntry(recipient, member, header.nonce);
    return { header: headerDigest(header), group, index: index + 1, value };
  }
  throw new EnvelopeError('NOT_A_RECIPIENT', 'this identity is not a member of a recipient group of the envelope');
}

/**
 * A direct recipient's content key of one envelope, to reveal it: whoever holds the key and the
 * envelope opens that envelope's body with `openEnvelope(bytes, { sender, contentKey })`, and the
 * sender's signature still proves who sealed it. Use it to show a third party what one sender sent
 * you (evidence). It reveals that envelope's body and nothing else: every envelope has its own random
 * content key and its own HPKE encapsulation, so the recipient's X-Wing key and its other envelopes
 * stay secret. The signature covers the SHA-256 of the body ciphertext, so a revealer cannot show a
 * different body for the sender's envelope: another key would have to make the sender's ciphertext
 * authenticate (see the README, "Revealing one envelope"). Verifies the envelope first.
 *
 * @throws EnvelopeError as {@link openEnvelopeStream} (`NOT_A_RECIPIENT` also for a group member:
 *   reveal group shares with {@link unwrapShare} instead)
 */
export async function revealContentKey(input: EnvelopeInput, options: { readonly sender: SenderPublicKey; readonly recipient: EnvelopeRecipientKey }): Promise<Uint8Array> {
  const envelope = verifyEnvelope(input, options.sender);
  const entry = findEntry(envelope.header.to, options.recipient);
  if (entry === undefined) throw new EnvelopeError('NOT_A_RECIPIENT', 'this identity is not a direct recipient of the envelope');
  checkKid(entry, options.recipient);
  return unwrapEntry(options.recipient, entry, envelope.header.nonce);
}
