/**
 * Sealing: the header (recipients, groups, links) is fixed first, the body is encrypted as a
 * STREAM bound to the header's digest, and the signature covers header and body commitment.
 */
import { CID } from 'multiformats/cid';
import { createSha256, CryptoError, encryptStream, randomBytes, sealedStreamLength, XWING_LENGTHS, type ByteSource } from '@milagro/crypto';
import type { EnvelopeSigner } from './capabilities.js';
import {
  DAG_CBOR_CODEC,
  DEFAULT_BLOCK_SIZE,
  DEFAULT_CHUNK_SIZE,
  ENVELOPE_VERSION,
  LENGTHS,
  LIMITS,
  SHA2_256_CODE,
  SIGNATURE_CONTEXT,
} from './constants.js';
import type { BodyCommitment, Envelope, EnvelopeHeader, RecipientGroup, RecipientPublicKey } from './envelope.js';
import { createBodyHasher, digestBytes } from './body-digest.js';
import { blockCid, headerDigest, signedBytes } from './envelope-encoding.js';
import { EnvelopeError } from './errors.js';
import { isIdentityId } from './identity-id.js';
import { dealGroup, wrapForRecipients } from './key-wrap.js';

/** A k-of-n recipient group to seal to. */
export interface RecipientGroupSpec {
  /** k: how many members must combine their shares. */
  readonly threshold: number;
  /** The n members, in share order. */
  readonly members: readonly RecipientPublicKey[];
}

/** What every seal needs, whatever the body's form. */
export interface SealOptions {
  /** The sender's signing capability (its id becomes `from`). */
  readonly from: EnvelopeSigner;
  /** Direct recipients: each can open alone. */
  readonly to?: readonly RecipientPublicKey[];
  /** k-of-n recipient groups. */
  readonly groups?: readonly RecipientGroupSpec[];
  /** Content type: 1..256 printable ASCII characters, e.g. `milagro/dta/order`. */
  readonly type: string;
  /** Version of the content type's schema; default 1. */
  readonly typeVersion?: number;
  /** The previous envelope of this conversation or log (its CID or CID string). */
  readonly prev?: CID | string;
  /** Plaintext bytes per STREAM chunk (1 KiB..16 MiB); default 256 KiB. */
  readonly chunkSize?: number;
}

/** Where a streamed seal writes the body ciphertext; awaited, so it can apply backpressure. */
export type CiphertextSink = (bytes: Uint8Array) => void | Promise<void>;

/** One detached body block and its CID (raw codec, sha2-256), for the caller to store. */
export interface BodyBlock {
  readonly cid: CID;
  readonly bytes: Uint8Array;
}

/** Where a detached seal hands over each block, in order. */
export type BlockSink = (block: BodyBlock) => void | Promise<void>;

interface PreparedHeader {
  readonly header: EnvelopeHeader;
  readonly contentKey: Uint8Array;
  readonly aad: Uint8Array;
}

function invalid(message: string): never {
  throw new EnvelopeError('INVALID_ARGUMENT', message);
}

function checkRecipients(list: readonly RecipientPublicKey[], what: string): void {
  const ids = new Set<string>();
  for (const r of list) {
    if (!isIdentityId(r?.id)) invalid(`${what}: recipient id must be a canonical CIDv1 string`);
    if (!(r.publicKey instanceof Uint8Array) || r.publicKey.length !== XWING_LENGTHS.publicKey) {
      invalid(`${what}: recipient ${r.id} needs a ${XWING_LENGTHS.publicKey}-byte X-Wing public key`);
    }
    if (ids.has(r.id)) invalid(`${what}: recipient ${r.id} is listed twice`);
    ids.add(r.id);
  }
}

function toPrev(prev: CID | string): CID {
  let cid: CID | null;
  try {
    cid = typeof prev === 'string' ? CID.parse(prev) : CID.asCID(prev);
  } catch (cause) {
    throw new EnvelopeError('INVALID_ARGUMENT', 'prev is not a CID', { cause });
  }
  if (cid === null || cid.version !== 1 || cid.code !== DAG_CBOR_CODEC || cid.multihash.code !== SHA2_256_CODE) {
    invalid('prev must be the CIDv1 (dag-cbor, sha2-256) of an envelope');
  }
  return cid;
}

async function prepareHeader(options: SealOptions): Promise<PreparedHeader> {
  const to = options.to ?? [];
  const groups = options.groups ?? [];
  if (!isIdentityId(options.from?.id)) invalid('from.id must be a canonical CIDv1 string');
  const typeBytes = new TextEncoder().encode(typeof options.type === 'string' ? options.type : '');
  if (typeBytes.length === 0 || typeBytes.length > LIMITS.maxTextBytes || typeBytes.some((b) => b < 0x21 || b > 0x7e)) {
    invalid(`type must be 1..${LIMITS.maxTextBytes} printable ASCII characters`);
  }
  const typeVersion = options.typeVersion ?? 1;
  if (!Number.isSafeInteger(typeVersion) || typeVersion < 0 || typeVersion > 0xffff_ffff) invalid('typeVersion must be a uint32');
  checkRecipients(to, 'to');
  if (groups.length > LIMITS.maxGroups) invalid(`at most ${LIMITS.maxGroups} groups`);
  let total = to.length;
  groups.forEach((g, j) => {
    checkRecipients(g.members, `groups[${j}]`);
    if (g.members.length === 0) invalid(`groups[${j}] has no members`);
    if (!Number.isSafeInteger(g.threshold) || g.threshold < 1 || g.threshold > g.members.length) {
      invalid(`groups[${j}].threshold must be in 1..${g.members.length}`);
    }
    total += g.members.length;
  });
  if (total === 0) invalid('an envelope needs at least one recipient');
  if (total > LIMITS.maxRecipients) invalid(`at most ${LIMITS.maxRecipients} recipients`);

  const contentKey = randomBytes(LENGTHS.contentKey);
  const nonce = randomBytes(LENGTHS.nonce);
  const direct = await wrapForRecipients(to, to.map(() => contentKey), nonce);
  const sealedGroups: RecipientGroup[] = [];
  for (const [j, g] of groups.entries()) {
    const dealt = await dealGroup(contentKey, g.threshold, g.members.length, nonce, j);
    const members = await wrapForRecipients(g.members, dealt.shares, nonce);
    for (const share of dealt.shares) share.fill(0);
    sealedGroups.push({ threshold: g.threshold, key: dealt.key, members });
  }
  const header: EnvelopeHeader = {
    type: options.type,
    typeVersion,
    from: options.from.id,
    to: direct,
    groups: sealedGroups,
    nonce,
    ...(options.prev === undefined ? {} : { prev: toPrev(options.prev) }),
  };
  return { header, contentKey, aad: headerDigest(header) };
}

/** Encrypts the body as a STREAM bound to the header, handing ciphertext pieces to `sink`. */
async function encryptBody(prepared: PreparedHeader, body: ByteSource, chunkSize: number, sink: (piece: Uint8Array) => void | Promise<void>): Promise<void> {
  try {
    for await (const piece of encryptStream(prepared.contentKey, body, { associatedData: prepared.aad, chunkSize })) {
      await sink(piece);
    }
  } catch (cause) {
    if (cause instanceof EnvelopeError) throw cause;
    if (cause instanceof CryptoError) throw new EnvelopeError('INVALID_ARGUMENT', `cannot seal the body: ${cause.message}`, { cause });
    throw cause; // the caller's own source or sink failed: pass it through untouched
  } finally {
    prepared.contentKey.fill(0);
  }
}

async function sign(from: EnvelopeSigner, header: EnvelopeHeader, body: BodyCommitment): Promise<Uint8Array> {
  const signature = await from.sign(signedBytes(ENVELOPE_VERSION, header, body), SIGNATURE_CONTEXT);
  if (!(signature instanceof Uint8Array) || signature.length !== LENGTHS.signature) {
    invalid(`the signer must return a ${LENGTHS.signature}-byte composite signature`);
  }
  return signature;
}

/**
 * Seals a body held in memory into a self-contained envelope (the ciphertext travels inline, in
 * `data`). For large bodies use {@link sealEnvelopeStream} or {@link sealEnvelopeBlocks}.
 *
 * @example
 * ```ts
 * const envelope = await sealEnvelope({ from: signer, to: [bob], type: 'example/note', body });
 * const bytes = encodeEnvelope(envelope); // store it; envelopeCid(bytes) is its address
 * ```
 * @throws EnvelopeError `INVALID_ARGUMENT` for bad options (no recipient, bad key, bad type, ...).
 */
export async function sealEnvelope(options: SealOptions & { readonly body: Uint8Array }): Promise<Envelope> {
  if (!(options.body instanceof Uint8Array)) invalid('body must be a Uint8Array (use sealEnvelopeStream for streams)');
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  let length: number;
  try {
    length = sealedStreamLength(options.body.length, chunkSize);
  } catch (cause) {
    throw new EnvelopeError('INVALID_ARGUMENT', 'chunkSize must be an integer in 1024..16777216', { cause });
  }
  const prepared = await prepareHeader(options);
  const data = new Uint8Array(length);
  // The commitment's SHA-256 runs on a worker thread for large bodies (Node), overlapping the
  // encryption here; each ciphertext piece is fresh from the cipher and copied into `data` first,
  // so the hasher may take its buffer instead of copying it.
  const hasher = createBodyHasher(length);
  let offset = 0;
  try {
    await encryptBody(prepared, [options.body], chunkSize, (piece) => {
      data.set(piece, offset);
      offset += piece.length;
      hasher.update(piece, true);
    });
  } catch (cause) {
    hasher.cancel();
    throw cause;
  }
  let sha256: Uint8Array;
  try {
    sha256 = await hasher.digest();
  } catch {
    sha256 = digestBytes(data); // the hash worker failed: hash the same bytes here
  }
  const body: BodyCommitment = { size: length, sha256 };
  const signature = await sign(options.from, prepared.header, body);
  return { version: ENVELOPE_VERSION, header: prepared.header, body, data, signature };
}

/**
 * Seals a body of any length in constant memory: the ciphertext goes to `write` piece by piece
 * (store it next to the envelope), and the returned envelope, which carries no `data`, commits to
 * it by length and SHA-256. Open it with `openEnvelopeStream(envelope, { ..., body })`.
 * @throws EnvelopeError `INVALID_ARGUMENT` for bad options; errors of `body` or `write` pass through.
 */
export async function sealEnvelopeStream(
  options: SealOptions & { readonly body: ByteSource },
  write: CiphertextSink,
): Promise<Envelope> {
  const prepared = await prepareHeader(options);
  const digest = createSha256();
  let size = 0;
  await encryptBody(prepared, options.body, options.chunkSize ?? DEFAULT_CHUNK_SIZE, async (piece) => {
    digest.update(piece);
    size += piece.length;
    await write(piece);
  });
  const body: BodyCommitment = { size, sha256: digest.digest() };
  const signature = await sign(options.from, prepared.header, body);
  return { version: ENVELOPE_VERSION, header: prepared.header, body, signature };
}

/**
 * Seals a body of any length in constant memory into content-addressed blocks: the ciphertext is
 * cut into `blockSize`-byte blocks (the last may be shorter), each handed to `put` with its CIDv1
 * (raw, sha2-256) for the caller to store. The envelope lists the block CIDs in order.
 * @param blockSize - ciphertext bytes per block; default 1 MiB (the usual IPFS block ceiling)
 * @throws EnvelopeError `INVALID_ARGUMENT` for bad options; errors of `body` or `put` pass through.
 */
export async function sealEnvelopeBlocks(
  options: SealOptions & { readonly body: ByteSource; readonly blockSize?: number },
  put: BlockSink,
): Promise<Envelope> {
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isSafeInteger(blockSize) || blockSize < 1024 || blockSize > 2 * 1024 * 1024) invalid('blockSize must be in 1024..2097152');
  const prepared = await prepareHeader(options);
  const blocks: CID[] = [];
  let size = 0;
  let buffer = new Uint8Array(blockSize);
  let filled = 0;
  const emit = async (bytes: Uint8Array): Promise<void> => {
    const cid = blockCid(bytes);
    blocks.push(cid);
    await put({ cid, bytes });
  };
  await encryptBody(prepared, options.body, options.chunkSize ?? DEFAULT_CHUNK_SIZE, async (piece) => {
    size += piece.length;
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(blockSize - filled, piece.length - offset);
      buffer.set(piece.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === blockSize) {
        const full = buffer;
        buffer = new Uint8Array(blockSize); // the caller may keep the block it was given
        filled = 0;
        await emit(full);
      }
    }
  });
  if (filled > 0) await emit(buffer.slice(0, filled));
  const body: BodyCommitment = { size, blocks };
  const signature = await sign(options.from, prepared.header, body);
  return { version: ENVELOPE_VERSION, header: prepared.header, body, signature };
}
