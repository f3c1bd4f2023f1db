/**
 * The backup manifest: a small signed DAG-CBOR record per backup, naming the sealed envelope of
 * the snapshot, the fiduciaries and threshold, the owner's recovery public key, and the previous
 * manifest (`prev`), so every backup of a node is reachable from its newest one. Signed by the node's
 * identity (composite Ed25519 + ML-DSA-65); pinned recursively it keeps the envelope, every body block
 * and the node's identity document alive.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { compositeVerify, COMPOSITE_SIGNATURE_LENGTHS } from '@milagro/crypto';
import { CID } from 'multiformats/cid';
import { BACKUP_VERSION, MANIFEST_CONTEXT } from './constants.js';
import { BackupError } from './errors.js';

const CONTEXT = new TextEncoder().encode(MANIFEST_CONTEXT);

/** The signed content of a manifest. */
export interface BackupManifest {
  /** The node's identity (CID string). */
  readonly node: string;
  /** The node's identity document current when the backup was made. */
  readonly identity: CID;
  /** Creation time, ms since the epoch. */
  readonly created: number;
  /** The previous manifest of this node, if any. */
  readonly prev?: CID;
  /** The envelope sealing the snapshot archive (detached body: its blocks are linked from it). */
  readonly envelope: CID;
  /** Plaintext archive bytes. */
  readonly size: number;
  /** Files in the archive. */
  readonly files: number;
  /** k: fiduciaries that must release their shares. */
  readonly threshold: number;
  /** The fiduciaries' identities, in share order (member i holds share i + 1). */
  readonly fiduciaries: readonly string[];
  /** The owner's recovery public key (composite, 1984 bytes). */
  readonly recovery: Uint8Array;
}

/** A manifest with its signature. */
export interface SignedManifest extends BackupManifest {
  readonly signature: Uint8Array;
}

/** What signs a manifest: the node's identity (shaped as `@milagro/envelope`'s `EnvelopeSigner`). */
export interface ManifestSigner {
  readonly id: string;
  sign(message: Uint8Array, context: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

type CborMap = Record<string, unknown>;

function contentMap(manifest: BackupManifest): CborMap {
  const map: CborMap = {
    v: BACKUP_VERSION,
    node: manifest.node,
    identity: manifest.identity,
    created: manifest.created,
    envelope: manifest.envelope,
    size: manifest.size,
    files: manifest.files,
    threshold: manifest.threshold,
    fiduciaries: [...manifest.fiduciaries],
    recovery: manifest.recovery,
  };
  if (manifest.prev !== undefined) map['prev'] = manifest.prev;
  return map;
}

/** The DAG-CBOR value of a signed manifest (store it with `putDag`). */
export function manifestValue(manifest: SignedManifest): CborMap {
  return { ...contentMap(manifest), sig: manifest.signature };
}

/** Signs `manifest` as `signer` (which must be `manifest.node`). */
export async function signManifest(manifest: BackupManifest, signer: ManifestSigner): Promise<SignedManifest> {
  if (signer.id !== manifest.node) throw new BackupError('INVALID_ARGUMENT', 'a manifest is signed by the node it backs up');
  const signature = await signer.sign(dagCbor.encode(contentMap(manifest)), CONTEXT);
  return { ...manifest, signature };
}

function malformed(message: string): never {
  throw new BackupError('MALFORMED', `manifest: ${message}`);
}

const FIELDS = ['v', 'node', 'identity', 'created', 'envelope', 'size', 'files', 'threshold', 'fiduciaries', 'recovery', 'sig'];

function uint(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) malformed(`${name} must be an unsigned integer`);
  return value;
}

function link(value: unknown, name: string): CID {
  const cid = CID.asCID(value);
  if (cid === null) malformed(`${name} must be a link`);
  return cid;
}

/** Decodes a manifest value (from `getDag`) strictly; does not check the signature. */
export function decodeManifest(value: unknown): SignedManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) malformed('not a map');
  const map = value as CborMap;
  for (const key of Object.keys(map)) if (!FIELDS.includes(key) && key !== 'prev') malformed(`unknown field ${key}`);
  if (map['v'] !== BACKUP_VERSION) malformed(`version ${String(map['v'])} is not supported`);
  const node = map['node'];
  if (typeof node !== 'string' || node.length === 0 || node.length > 256) malformed('node must be an identity id');
  const fiduciaries = map['fiduciaries'];
  if (!Array.isArray(fiduciaries) || fiduciaries.length === 0 || fiduciaries.length > 255 || !fiduciaries.every((f) => typeof f === 'string' && f.length > 0 && f.length <= 256)) {
    malformed('fiduciaries must be 1..255 identity ids');
  }
  if (new Set(fiduciaries).size !== fiduciaries.length) malformed('a fiduciary is listed twice');
  const threshold = uint(map['threshold'], 'threshold');
  if (threshold < 1 || threshold > fiduciaries.length) malformed('threshold must be 1..len(fiduciaries)');
  const recovery = map['recovery'];
  if (!(recovery instanceof Uint8Array) || recovery.length !== COMPOSITE_SIGNATURE_LENGTHS.publicKey) malformed('recovery must be a composite public key');
  const sig = map['sig'];
  if (!(sig instanceof Uint8Array) || sig.length !== COMPOSITE_SIGNATURE_LENGTHS.signature) malformed('sig must be a composite signature');
  const manifest: SignedManifest = {
    node,
    identity: link(map['identity'], 'identity'),
    created: uint(map['created'], 'created'),
    envelope: link(map['envelope'], 'envelope'),
    size: uint(map['size'], 'size'),
    files: uint(map['files'], 'files'),
    threshold,
    fiduciaries: fiduciaries as string[],
    recovery,
    signature: sig,
    ...(map['prev'] === undefined ? {} : { prev: link(map['prev'], 'prev') }),
  };
  return manifest;
}

/**
 * Checks that the node's composite key signed `manifest`. The key must come from the node's
 * identity document (the PKI), never from the manifest.
 * @throws BackupError `MALFORMED` when the signature does not verify
 */
export function verifyManifest(manifest: SignedManifest, nodeSigningKey: Uint8Array): SignedManifest {
  let ok: boolean;
  try {
    ok = compositeVerify(nodeSigningKey, dagCbor.encode(contentMap(manifest)), manifest.signature, CONTEXT);
  } catch {
    ok = false;
  }
  if (!ok) throw new BackupError('MALFORMED', 'manifest: the signature does not verify under the node key');
  return manifest;
}
