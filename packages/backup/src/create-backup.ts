/**
 * Making a backup: the snapshot archive streams through the envelope's STREAM seal straight into
 * 1 MiB IPFS blocks (constant memory whatever the size), sealed to a k-of-n group of fiduciaries;
 * then the envelope and a signed manifest linking the previous one are stored and pinned.
 */
import { encodeEnvelope, envelopeCid, sealEnvelopeBlocks, type EnvelopeSigner, type RecipientPublicKey } from '@milagro/envelope';
import type { CID } from 'multiformats/cid';
import { packArchive, type ArchiveFile } from './archive.js';
import { putEnvelopeBytes, type BackupStore } from './backup-store.js';
import { BLOCK_SIZE, CHUNK_SIZE, SNAPSHOT_TYPE } from './constants.js';

/** Block writes that may run while the next block is sealed. */
const PUTS_IN_FLIGHT = 3;
import { BackupError } from './errors.js';
import { manifestValue, signManifest, type SignedManifest } from './manifest.js';
import { snapshotFiles, type SnapshotSource } from './snapshot.js';

export interface CreateBackupOptions {
  /** What to back up: a data directory (and config file), or any archive files. */
  readonly source: SnapshotSource | { readonly files: AsyncIterable<ArchiveFile> | Iterable<ArchiveFile> };
  /** The node's signing capability (its identity id is the manifest's `node`). */
  readonly signer: EnvelopeSigner;
  /** The node's current identity document. */
  readonly identity: CID;
  readonly store: BackupStore;
  /** The fiduciaries and their X-Wing keys (from the PKI), in share order. */
  readonly fiduciaries: readonly RecipientPublicKey[];
  /** k of `fiduciaries.length`; at least 2 when there are 2 or more, so no single fiduciary reads the backup. */
  readonly threshold: number;
  /** The owner's recovery public key (`recoveryPublicKey(secret)`). */
  readonly recovery: Uint8Array;
  /** The node's previous manifest, if any. */
  readonly prev?: CID;
  readonly now?: () => number;
}

export interface CreatedBackup {
  /** The manifest's CID: what `list`, `verify` and `restore` start from. */
  readonly cid: CID;
  readonly manifest: SignedManifest;
  /** Body blocks stored. */
  readonly blocks: number;
}

/** Counts the plaintext and the files that pass through. */
async function* counted(source: AsyncIterable<Uint8Array>, totals: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const piece of source) {
    totals.bytes += piece.length;
    yield piece;
  }
}

async function* countFiles(files: AsyncIterable<ArchiveFile> | Iterable<ArchiveFile>, totals: { files: number }): AsyncGenerator<ArchiveFile> {
  for await (const file of files) {
    totals.files++;
    yield file;
  }
}

/**
 * Backs up: snapshot → archive → sealed envelope (detached, k-of-n) → blocks on IPFS → signed manifest,
 * pinned recursively. Never holds more than a block and a chunk of the body in memory.
 * @throws BackupError `INVALID_ARGUMENT` for a bad threshold or fiduciary list; store errors pass through.
 */
export async function createBackup(options: CreateBackupOptions): Promise<CreatedBackup> {
  const n = options.fiduciaries.length;
  if (n === 0 || n > 255) throw new BackupError('INVALID_ARGUMENT', 'a backup needs 1..255 fiduciaries');
  if (!Number.isSafeInteger(options.threshold) || options.threshold < 1 || options.threshold > n) throw new BackupError('INVALID_ARGUMENT', `threshold must be 1..${n}`);
  if (n > 1 && options.threshold < 2) throw new BackupError('INVALID_ARGUMENT', 'with several fiduciaries the threshold must be at least 2: no one of them may read the backup alone');
  const now = options.now ?? Date.now;
  const totals = { bytes: 0, files: 0 };
  const files = 'files' in options.source ? options.source.files : snapshotFiles(options.source);
  let blocks = 0;
  const writes: Array<Promise<void>> = [];
  const envelope = await sealEnvelopeBlocks(
    {
      from: options.signer,
      groups: [{ threshold: options.threshold, members: options.fiduciaries }],
      type: SNAPSHOT_TYPE,
      body: counted(packArchive(countFiles(files, totals)), totals),
      blockSize: BLOCK_SIZE,
      chunkSize: CHUNK_SIZE,
    },
    async (block) => {
      // A few puts in flight while the next block is sealed; a failed put fails the backup.
      const put = options.store.put(block.bytes).then((cid) => {
        if (!cid.equals(block.cid)) throw new BackupError('INVALID_ARGUMENT', 'the content store addressed a block differently (expected CIDv1 raw sha2-256)');
      });
      put.catch(() => undefined);
      writes.push(put);
      blocks++;
      if (writes.length >= PUTS_IN_FLIGHT) await writes.shift();
    },
  );
  for (const put of writes.splice(0)) await put;
  const envelopeAddress = await putEnvelopeBytes(options.store, encodeEnvelope(envelope));
  if (!envelopeAddress.equals(envelopeCid(envelope))) throw new BackupError('INVALID_ARGUMENT', 'the content store addressed the envelope differently');
  const manifest = await signManifest(
    {
      node: options.signer.id,
      identity: options.identity,
      created: now(),
      envelope: envelopeAddress,
      size: totals.bytes,
      files: totals.files,
      threshold: options.threshold,
      fiduciaries: options.fiduciaries.map((f) => f.id),
      recovery: options.recovery,
      ...(options.prev === undefined ? {} : { prev: options.prev }),
    },
    options.signer,
  );
  // The envelope and its body blocks (all local) recursively, the manifest alone: a recursive pin of
  // the manifest would fetch every earlier backup through `prev` onto this store. The fiduciaries
  // pin the manifest recursively (the whole chain).
  await options.store.pin(envelopeAddress, { recursive: true });
  const cid = await options.store.putDag(manifestValue(manifest), { pin: true, recursive: false });
  return { cid, manifest, blocks };
}
