/**
 * The bodies of the backup messages (DAG-CBOR maps, sealed and signed by `@milagro/messaging`):
 *
 * | type | from → to | body |
 * |---|---|---|
 * | `milagro/backup/deposit` | node → fiduciary | `{ v, manifest }` |
 * | `milagro/backup/deposited` | fiduciary → node | `{ v, manifest }` (pinned) |
 * | `milagro/backup/release-request` | restoring node → fiduciary | `{ v, manifest, issued, proof }` |
 * | `milagro/backup/release` | fiduciary → restoring node | `{ v, manifest, group, index, header, value, audit }` |
 * | `milagro/backup/refusal` | fiduciary → either | `{ v, manifest, code, message }` |
 * | `milagro/backup/retire` | node → fiduciary | `{ v, manifests, issued, sig }` (signed by the node, retire-request.ts) |
 * | `milagro/backup/retired` | fiduciary → node | `{ v, manifests }` (released) |
 */
import * as dagCbor from '@ipld/dag-cbor';
import { COMPOSITE_SIGNATURE_LENGTHS } from '@milagro/crypto';
import type { EnvelopeShare } from '@milagro/envelope';
import { CID } from 'multiformats/cid';
import { BACKUP_VERSION, MAX_RETIRE_MANIFESTS, MESSAGE_TYPES } from './constants.js';
import { BackupError } from './errors.js';

/** True for the message types a backup fiduciary handles (for `NodeInbox.claim`). */
export function isFiduciaryMessageType(type: string): boolean {
  return type === MESSAGE_TYPES.deposit || type === MESSAGE_TYPES.releaseRequest || type === MESSAGE_TYPES.retire;
}

/** True for the message types a node making or restoring a backup reads. */
export function isBackupReplyType(type: string): boolean {
  return type === MESSAGE_TYPES.deposited || type === MESSAGE_TYPES.release || type === MESSAGE_TYPES.refusal || type === MESSAGE_TYPES.retired;
}

export interface ReleaseRequest {
  readonly manifest: CID;
  readonly issued: number;
  readonly proof: Uint8Array;
}

/** A node's signed request that a fiduciary stop keeping some of its backups. */
export interface RetireRequest {
  readonly manifests: readonly CID[];
  readonly issued: number;
  /** The node's composite signature over the retire claim (retire-request.ts). */
  readonly signature: Uint8Array;
}

export interface Release {
  readonly manifest: CID;
  readonly share: EnvelopeShare;
  /** The fiduciary's audit-chain entry recording this release. */
  readonly audit: CID;
}

export interface Refusal {
  readonly manifest: CID | undefined;
  readonly code: string;
  readonly message: string;
}

type Map = Record<string, unknown>;

function malformed(what: string): never {
  throw new BackupError('MALFORMED', what);
}

function decodeMap(bytes: Uint8Array, fields: readonly string[], what: string): Map {
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch (cause) {
    throw new BackupError('MALFORMED', `${what} does not decode`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) malformed(`${what} is not a map`);
  const map = value as Map;
  const keys = Object.keys(map);
  if (keys.length !== fields.length || !fields.every((f) => keys.includes(f))) malformed(`${what} must have exactly the fields ${fields.join(', ')}`);
  if (map['v'] !== BACKUP_VERSION) malformed(`${what}: unsupported version`);
  return map;
}

function link(value: unknown, what: string): CID {
  const cid = CID.asCID(value);
  if (cid === null) malformed(`${what}: manifest must be a link`);
  return cid;
}

function bytesOf(value: unknown, length: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) malformed(`${what} must be ${length} bytes`);
  return value;
}

function uint(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) malformed(`${what} must be an unsigned integer`);
  return value;
}

export function encodeManifestNotice(manifest: CID): Uint8Array {
  return dagCbor.encode({ v: BACKUP_VERSION, manifest });
}

export function decodeManifestNotice(bytes: Uint8Array): CID {
  return link(decodeMap(bytes, ['v', 'manifest'], 'deposit')['manifest'], 'deposit');
}

export function encodeReleaseRequest(request: ReleaseRequest): Uint8Array {
  return dagCbor.encode({ v: BACKUP_VERSION, manifest: request.manifest, issued: request.issued, proof: request.proof });
}

export function decodeReleaseRequest(bytes: Uint8Array): ReleaseRequest {
  const map = decodeMap(bytes, ['v', 'manifest', 'issued', 'proof'], 'release request');
  return {
    manifest: link(map['manifest'], 'release request'),
    issued: uint(map['issued'], 'release request: issued'),
    proof: bytesOf(map['proof'], COMPOSITE_SIGNATURE_LENGTHS.signature, 'release request: proof'),
  };
}

export function encodeRelease(release: Release): Uint8Array {
  const { share } = release;
  return dagCbor.encode({ v: BACKUP_VERSION, manifest: release.manifest, group: share.group, index: share.index, header: share.header, value: share.value, audit: release.audit });
}

export function decodeRelease(bytes: Uint8Array): Release {
  const map = decodeMap(bytes, ['v', 'manifest', 'group', 'index', 'header', 'value', 'audit'], 'release');
  return {
    manifest: link(map['manifest'], 'release'),
    share: {
      group: uint(map['group'], 'release: group'),
      index: uint(map['index'], 'release: index'),
      header: bytesOf(map['header'], 32, 'release: header'),
      value: bytesOf(map['value'], 32, 'release: value'),
    },
    audit: link(map['audit'], 'release: audit'),
  };
}

export function encodeRefusal(refusal: Refusal): Uint8Array {
  return dagCbor.encode({ v: BACKUP_VERSION, manifest: refusal.manifest ?? null, code: refusal.code.slice(0, 64), message: refusal.message.slice(0, 512) });
}

export function decodeRefusal(bytes: Uint8Array): Refusal {
  const map = decodeMap(bytes, ['v', 'manifest', 'code', 'message'], 'refusal');
  const code = map['code'];
  const message = map['message'];
  if (typeof code !== 'string' || typeof message !== 'string') malformed('refusal: code and message must be text');
  return { manifest: map['manifest'] === null ? undefined : link(map['manifest'], 'refusal'), code, message };
}

function links(value: unknown, what: string): CID[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RETIRE_MANIFESTS) malformed(`${what}: manifests must be 1..${MAX_RETIRE_MANIFESTS} links`);
  const out = value.map((item) => link(item, what));
  if (new Set(out.map((cid) => cid.toString())).size !== out.length) malformed(`${what}: a manifest is named twice`);
  return out;
}

export function encodeRetireRequest(request: RetireRequest): Uint8Array {
  return dagCbor.encode({ v: BACKUP_VERSION, manifests: [...request.manifests], issued: request.issued, sig: request.signature });
}

export function decodeRetireRequest(bytes: Uint8Array): RetireRequest {
  const map = decodeMap(bytes, ['v', 'manifests', 'issued', 'sig'], 'retire request');
  return {
    manifests: links(map['manifests'], 'retire request'),
    issued: uint(map['issued'], 'retire request: issued'),
    signature: bytesOf(map['sig'], COMPOSITE_SIGNATURE_LENGTHS.signature, 'retire request: sig'),
  };
}

export function encodeRetiredNotice(manifests: readonly CID[]): Uint8Array {
  return dagCbor.encode({ v: BACKUP_VERSION, manifests: [...manifests] });
}

export function decodeRetiredNotice(bytes: Uint8Array): CID[] {
  return links(decodeMap(bytes, ['v', 'manifests'], 'retired')['manifests'], 'retired');
}
