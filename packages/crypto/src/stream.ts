/**
 * Chunked authenticated encryption of byte streams: the STREAM construction of Hoang,
 * Reyhanitabar, Rogaway and Vizár, "Online Authenticated-Encryption and its Nonce-Reuse
 * Misuse-Resistance" (CRYPTO 2015), over AES-256-GCM. Memory use is constant (one chunk), every
 * chunk is authenticated before any of its plaintext is released, and truncation, reordering,
 * duplication and appended data are all detected.
 *
 * ## Byte format (version 1)
 *
 * A sealed stream is a 16-byte header followed by one or more sealed chunks:
 *
 * ```text
 * header  = magic ‖ version ‖ aead ‖ chunk_size ‖ nonce_prefix                      (16 bytes)
 *   magic        3 bytes  0x6d 0x73 0x74 ("mst")
 *   version      1 byte   0x01
 *   aead         1 byte   0x01 = AES-256-GCM (the only value defined)
 *   chunk_size   4 bytes  unsigned big-endian plaintext bytes per chunk, 1024 ..= 16777216
 *   nonce_prefix 7 bytes  fresh random bytes for every stream
 *
 * subkey  = HKDF-SHA-256(IKM = key, salt = header, info = "milagro/stream/v1 AES-256-GCM", L = 32)
 *
 * chunk i (i = 0, 1, ..., n−1; n ≥ 1):
 *   nonce_i    = nonce_prefix ‖ uint32_be(i) ‖ last_i                               (12 bytes)
 *     last_i   = 0x01 for i = n−1, 0x00 otherwise
 *   aad_i      = associated_data (the caller's bytes, e.g. the envelope header; identical for
 *                every chunk, empty if none)
 *   sealed_i   = AES-256-GCM(subkey, nonce_i, plaintext_i, aad_i) = ciphertext_i ‖ tag_i (16 bytes)
 *
 * plaintext = plaintext_0 ‖ ... ‖ plaintext_{n−1}, where every chunk but the last holds exactly
 * chunk_size bytes and the last holds 1 ..= chunk_size bytes, or 0 bytes only when the whole
 * plaintext is empty (n = 1). So len(sealed stream) = 16 + len(plaintext) + 16·n with
 * n = max(1, ceil(len(plaintext) / chunk_size)).
 * ```
 *
 * Why this shape: the counter in the nonce fixes each chunk's position (no reordering, dropping
 * or duplication), and the last-chunk flag makes truncation at a chunk boundary detectable. The
 * per-stream subkey lets one content key seal several streams: two streams share a subkey (and
 * so their nonce sequence) only if their whole headers are equal, i.e. only on a collision of
 * the 56-bit random prefix (probability about q²/2^57 for q streams under one key; keep q far
 * below 2^20). Salting with the whole header also binds the chunk size and version, so an edited
 * header fails authentication. At most 2^32 chunks per stream.
 *
 * ## Decoder behaviour
 *
 * - The input may arrive in slices of any size; chunk boundaries are found from `chunk_size`.
 * - A full-size chunk followed by more input must open as a non-final chunk. If it opens only
 *   as a final chunk, the stream carried data after its end: `STREAM_TRAILING_DATA`.
 * - At end of input the remaining bytes must open as the final chunk. If they are a full-size
 *   chunk that opens only as non-final, or if no chunk (or less than a tag) remains, the stream
 *   was cut short: `STREAM_TRUNCATED`. A cut inside a chunk cannot be told apart from tampering
 *   and is reported as `DECRYPTION_FAILED`, as are a wrong key or associated data and any
 *   modified, reordered or duplicated chunk.
 * - An empty final chunk after non-empty chunks is non-canonical and rejected (`INVALID_ENCODING`).
 */
import { AES_GCM_KEY_LENGTH, AES_GCM_TAG_LENGTH, importAesGcmKey, type AesGcmBackend, type AesGcmKey } from './aead.js';
import { CryptoError } from './errors.js';
import { hkdf } from './hash.js';
import { randomBytes } from './random.js';

/** Length of the stream header in bytes. */
export const STREAM_HEADER_LENGTH = 16;
/** Smallest accepted plaintext chunk size (1 KiB). */
export const STREAM_MIN_CHUNK_SIZE = 1024;
/** Largest accepted plaintext chunk size (16 MiB); also bounds a decoder's memory. */
export const STREAM_MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** Default plaintext chunk size (64 KiB). */
export const STREAM_DEFAULT_CHUNK_SIZE = 64 * 1024;

const MAGIC = [0x6d, 0x73, 0x74] as const; // "mst"
const VERSION = 0x01;
const AEAD_AES_256_GCM = 0x01;
const NONCE_PREFIX_LENGTH = 7;
const MAX_CHUNKS = 2 ** 32;
const SUBKEY_INFO = new TextEncoder().encode('milagro/stream/v1 AES-256-GCM');
const EMPTY = new Uint8Array(0);

/** Options of {@link encryptStream} and {@link createEncryptStream}. */
export interface EncryptStreamOptions {
  /** Bytes bound into every chunk (e.g. the envelope header); decryption must supply the same. */
  associatedData?: Uint8Array;
  /** Plaintext bytes per chunk, {@link STREAM_MIN_CHUNK_SIZE}..{@link STREAM_MAX_CHUNK_SIZE}. */
  chunkSize?: number;
  /** Force an AES-GCM implementation; by default `node:crypto` on Node, WebCrypto elsewhere. */
  backend?: AesGcmBackend;
}

/** Options of {@link decryptStream} and {@link createDecryptStream}. */
export interface DecryptStreamOptions {
  /** The associated data the stream was sealed with. */
  associatedData?: Uint8Array;
  /** Force an AES-GCM implementation; by default `node:crypto` on Node, WebCrypto elsewhere. */
  backend?: AesGcmBackend;
}

/** A source of bytes in slices of any size. Slices are read, never kept or modified. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== AES_GCM_KEY_LENGTH) {
    throw new CryptoError('INVALID_LENGTH', `stream key must be ${AES_GCM_KEY_LENGTH} bytes`);
  }
}

function checkChunkSize(chunkSize: number): void {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < STREAM_MIN_CHUNK_SIZE || chunkSize > STREAM_MAX_CHUNK_SIZE) {
    throw new CryptoError('INVALID_ARGUMENT', `chunk size must be an integer in ${STREAM_MIN_CHUNK_SIZE}..${STREAM_MAX_CHUNK_SIZE}`);
  }
}

function associatedDataOf(options: { associatedData?: Uint8Array }): Uint8Array {
  const aad = options.associatedData;
  if (aad === undefined) return EMPTY;
  if (!(aad instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', 'associatedData must be a Uint8Array');
  return aad.slice(); // the caller may reuse its buffer while the stream is running
}

function checkPiece(piece: unknown): asserts piece is Uint8Array {
  if (!(piece instanceof Uint8Array)) throw new CryptoError('INVALID_ARGUMENT', 'stream sources must yield Uint8Array slices');
}

function chunkNonce(prefix: Uint8Array, counter: number, last: boolean): Uint8Array {
  const nonce = new Uint8Array(12);
  nonce.set(prefix);
  nonce[7] = counter >>> 24;
  nonce[8] = (counter >>> 16) & 0xff;
  nonce[9] = (counter >>> 8) & 0xff;
  nonce[10] = counter & 0xff;
  nonce[11] = last ? 0x01 : 0x00;
  return nonce;
}

async function streamKey(key: Uint8Array, header: Uint8Array, backend: AesGcmBackend | undefined): Promise<AesGcmKey> {
  const subkey = hkdf('SHA-256', key, header, SUBKEY_INFO, AES_GCM_KEY_LENGTH);
  try {
    return await importAesGcmKey(subkey, backend);
  } finally {
    subkey.fill(0); // both backends hold their own copy
  }
}

/**
 * Cuts a byte stream arriving in arbitrary slices into frames of exactly `size` bytes, releasing a
 * frame only once more input is known to follow it (so the last frame can be treated differently).
 * Holds at most one frame; copies only the bytes of frames that straddle slices.
 */
class Reframer {
  private buffer: Uint8Array | undefined;
  private length = 0;

  constructor(private readonly size: number) {}

  /** Frames followed by more input. Each view is valid only until the generator resumes. */
  *push(piece: Uint8Array): Generator<Uint8Array> {
    let offset = 0;
    if (this.length > 0) {
      const buffer = this.buffer as Uint8Array;
      const take = Math.min(this.size - this.length, piece.length);
      buffer.set(piece.subarray(0, take), this.length);
      this.length += take;
      offset = take;
      if (offset === piece.length) return;
      yield buffer;
      this.length = 0;
    }
    while (piece.length - offset > this.size) {
      yield piece.subarray(offset, offset + this.size);
      offset += this.size;
    }
    if (offset < piece.length) {
      this.buffer ??= new Uint8Array(this.size);
      this.buffer.set(piece.subarray(offset));
      this.length = piece.length - offset;
    }
  }

  /** The final frame at end of input: 0..size bytes. */
  rest(): Uint8Array {
    return this.buffer === undefined ? EMPTY : this.buffer.subarray(0, this.length);
  }
}

/** Push-driven STREAM encryptor shared by the async-iterable and TransformStream front ends. */
class StreamSealer {
  private counter = 0;
  private readonly frames: Reframer;

  private constructor(
    readonly header: Uint8Array,
    private readonly aes: AesGcmKey,
    private readonly prefix: Uint8Array,
    chunkSize: number,
    private readonly aad: Uint8Array,
  ) {
    this.frames = new Reframer(chunkSize);
  }

  static async create(key: Uint8Array, chunkSize: number, aad: Uint8Array, backend?: AesGcmBackend): Promise<StreamSealer> {
    const prefix = randomBytes(NONCE_PREFIX_LENGTH);
    const header = new Uint8Array(STREAM_HEADER_LENGTH);
    header.set(MAGIC, 0);
    header[3] = VERSION;
    header[4] = AEAD_AES_256_GCM;
    new DataView(header.buffer).setUint32(5, chunkSize);
    header.set(prefix, 9);
    return new StreamSealer(header, await streamKey(key, header, backend), prefix, chunkSize, aad);
  }

  async *write(piece: Uint8Array): AsyncGenerator<Uint8Array> {
    for (const frame of this.frames.push(piece)) yield* await this.seal(frame, false);
  }

  async *end(): AsyncGenerator<Uint8Array> {
    yield* await this.seal(this.frames.rest(), true);
  }

  private async seal(plaintext: Uint8Array, last: boolean): Promise<Uint8Array[]> {
    if (this.counter >= MAX_CHUNKS) throw new CryptoError('INVALID_ARGUMENT', 'stream exceeds 2^32 chunks');
    const nonce = chunkNonce(this.prefix, this.counter++, last);
    return this.aes.seal(nonce, plaintext, this.aad);
  }
}

/** Push-driven STREAM decryptor shared by the async-iterable and TransformStream front ends. */
class StreamOpener {
  private readonly header = new Uint8Array(STREAM_HEADER_LENGTH);
  private headerLength = 0;
  private aes: AesGcmKey | undefined;
  private prefix: Uint8Array = EMPTY;
  private sealedChunkSize = 0;
  private frames: Reframer | undefined;
  private counter = 0;

  constructor(
    private readonly key: Uint8Array,
    private readonly aad: Uint8Array,
    private readonly backend: AesGcmBackend | undefined,
  ) {}

  async *write(piece: Uint8Array): AsyncGenerator<Uint8Array> {
    let body = piece;
    if (this.frames === undefined) {
      const take = Math.min(STREAM_HEADER_LENGTH - this.headerLength, piece.length);
      this.header.set(piece.subarray(0, take), this.headerLength);
      this.headerLength += take;
      if (this.headerLength < STREAM_HEADER_LENGTH) return;
      await this.readHeader();
      body = piece.subarray(take);
    }
    for (const frame of (this.frames as Reframer).push(body)) {
      const plaintext = await this.open(frame, false);
      if (plaintext !== undefined) {
        this.counter++;
        yield plaintext;
        continue;
      }
      // A chunk that authenticates only as the final one, yet has input after it.
      if ((await this.open(frame, true)) !== undefined) {
        throw new CryptoError('STREAM_TRAILING_DATA', 'data follows the final chunk of the stream');
      }
      throw new CryptoError('DECRYPTION_FAILED', 'stream chunk failed authentication');
    }
  }

  async *end(): AsyncGenerator<Uint8Array> {
    if (this.frames === undefined) throw new CryptoError('STREAM_TRUNCATED', 'stream ended inside its header');
    const rest = this.frames.rest();
    if (rest.length < AES_GCM_TAG_LENGTH) throw new CryptoError('STREAM_TRUNCATED', 'stream ended before its final chunk');
    const plaintext = await this.open(rest, true);
    if (plaintext !== undefined) {
      if (plaintext.length === 0 && this.counter > 0) {
        throw new CryptoError('INVALID_ENCODING', 'empty final chunk after data is not a canonical stream');
      }
      this.counter++;
      yield plaintext;
      return;
    }
    if (rest.length === this.sealedChunkSize && (await this.open(rest, false)) !== undefined) {
      throw new CryptoError('STREAM_TRUNCATED', 'stream ended before its final chunk');
    }
    throw new CryptoError('DECRYPTION_FAILED', 'final stream chunk failed authentication (tampered, wrong key, or cut inside a chunk)');
  }

  private async readHeader(): Promise<void> {
    const h = this.header;
    if (h[0] !== MAGIC[0] || h[1] !== MAGIC[1] || h[2] !== MAGIC[2] || h[3] !== VERSION || h[4] !== AEAD_AES_256_GCM) {
      throw new CryptoError('INVALID_ENCODING', 'not a version 1 AES-256-GCM stream header');
    }
    const chunkSize = new DataView(h.buffer).getUint32(5);
    if (chunkSize < STREAM_MIN_CHUNK_SIZE || chunkSize > STREAM_MAX_CHUNK_SIZE) {
      throw new CryptoError('INVALID_ENCODING', 'stream header declares an unsupported chunk size');
    }
    this.prefix = h.slice(9, 16);
    this.aes = await streamKey(this.key, h, this.backend);
    this.sealedChunkSize = chunkSize + AES_GCM_TAG_LENGTH;
    this.frames = new Reframer(this.sealedChunkSize);
  }

  private open(sealed: Uint8Array, last: boolean): Promise<Uint8Array | undefined> {
    if (this.counter >= MAX_CHUNKS) throw new CryptoError('DECRYPTION_FAILED', 'stream exceeds 2^32 chunks');
    return (this.aes as AesGcmKey).open(chunkNonce(this.prefix, this.counter, last), sealed, this.aad);
  }
}

/**
 * Encrypts a byte stream in constant memory. Yields the 16-byte header, then the sealed chunks
 * (each chunk's ciphertext and tag may come as separate arrays; treat the output as one byte
 * stream). See the format above.
 *
 * @param key - 32-byte content key; a fresh per-stream subkey is derived from it
 * @param source - plaintext in slices of any size (slices are read, never kept or modified)
 * @throws CryptoError `INVALID_LENGTH` for a key ≠ 32 bytes; `INVALID_ARGUMENT` for a bad chunk
 *   size or a source slice that is not a Uint8Array
 */
export function encryptStream(key: Uint8Array, source: ByteSource, options: EncryptStreamOptions = {}): AsyncIterable<Uint8Array> {
  checkKey(key);
  const chunkSize = options.chunkSize ?? STREAM_DEFAULT_CHUNK_SIZE;
  checkChunkSize(chunkSize);
  const aad = associatedDataOf(options);
  return (async function* () {
    const sealer = await StreamSealer.create(key, chunkSize, aad, options.backend);
    yield sealer.header;
    for await (const piece of source) {
      checkPiece(piece);
      yield* sealer.write(piece);
    }
    yield* sealer.end();
  })();
}

/**
 * Decrypts a stream made by {@link encryptStream}, in constant memory. Accepts the ciphertext in
 * slices of any size and yields plaintext chunk by chunk, each only after it has authenticated.
 * A consumer that needs all-or-nothing semantics must still wait for the iteration to finish
 * without error before acting on the data: a later chunk may fail.
 *
 * @throws CryptoError `DECRYPTION_FAILED` (wrong key or associated data, modified, reordered or
 *   duplicated chunk), `STREAM_TRUNCATED`, `STREAM_TRAILING_DATA`, `INVALID_ENCODING` (bad header)
 */
export function decryptStream(key: Uint8Array, source: ByteSource, options: DecryptStreamOptions = {}): AsyncIterable<Uint8Array> {
  checkKey(key);
  const aad = associatedDataOf(options);
  return (async function* () {
    const opener = new StreamOpener(key, aad, options.backend);
    for await (const piece of source) {
      checkPiece(piece);
      yield* opener.write(piece);
    }
    yield* opener.end();
  })();
}

/**
 * A WHATWG `TransformStream` that encrypts like {@link encryptStream}: pipe plaintext in, sealed
 * stream out. Works in browsers and on Node (`Readable.toWeb`, `fetch` bodies, ...).
 */
export function createEncryptStream(key: Uint8Array, options: EncryptStreamOptions = {}): TransformStream<Uint8Array, Uint8Array> {
  checkKey(key);
  const chunkSize = options.chunkSize ?? STREAM_DEFAULT_CHUNK_SIZE;
  checkChunkSize(chunkSize);
  const aad = associatedDataOf(options);
  let sealer: StreamSealer;
  return new TransformStream<Uint8Array, Uint8Array>({
    async start(controller) {
      sealer = await StreamSealer.create(key, chunkSize, aad, options.backend);
      controller.enqueue(sealer.header);
    },
    async transform(piece, controller) {
      checkPiece(piece);
      for await (const out of sealer.write(piece)) controller.enqueue(out);
    },
    async flush(controller) {
      for await (const out of sealer.end()) controller.enqueue(out);
    },
  });
}

/**
 * A WHATWG `TransformStream` that decrypts like {@link decryptStream}; the readable side errors
 * with a {@link CryptoError} on any authentication or framing failure.
 */
export function createDecryptStream(key: Uint8Array, options: DecryptStreamOptions = {}): TransformStream<Uint8Array, Uint8Array> {
  checkKey(key);
  const opener = new StreamOpener(key, associatedDataOf(options), options.backend);
  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(piece, controller) {
      checkPiece(piece);
      for await (const out of opener.write(piece)) controller.enqueue(out);
    },
    async flush(controller) {
      for await (const out of opener.end()) controller.enqueue(out);
    },
  });
}

/** Exact length of the sealed stream for a plaintext of `plaintextLength` bytes. */
export function sealedStreamLength(plaintextLength: number, chunkSize: number = STREAM_DEFAULT_CHUNK_SIZE): number {
  checkChunkSize(chunkSize);
  const chunks = Math.max(1, Math.ceil(plaintextLength / chunkSize));
  return STREAM_HEADER_LENGTH + plaintextLength + chunks * AES_GCM_TAG_LENGTH;
}

async function collect(pieces: AsyncIterable<Uint8Array>, expectedLength?: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const part of pieces) {
    parts.push(part);
    length += part.length;
  }
  const out = new Uint8Array(expectedLength ?? length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** One-shot {@link encryptStream} for a body already in memory: returns the whole sealed stream. */
export async function encryptChunks(key: Uint8Array, plaintext: Uint8Array, options: EncryptStreamOptions = {}): Promise<Uint8Array> {
  checkPiece(plaintext);
  const length = sealedStreamLength(plaintext.length, options.chunkSize ?? STREAM_DEFAULT_CHUNK_SIZE);
  return collect(encryptStream(key, [plaintext], options), length);
}

/** One-shot {@link decryptStream} for a sealed stream already in memory: returns the plaintext. */
export async function decryptChunks(key: Uint8Array, sealed: Uint8Array, options: DecryptStreamOptions = {}): Promise<Uint8Array> {
  checkPiece(sealed);
  return collect(decryptStream(key, [sealed], options));
}
