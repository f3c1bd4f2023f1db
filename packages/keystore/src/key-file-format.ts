// The on-disk encoding of an encrypted key file. Line one is a header with the SHA-256 of line two,
// the JSON body; a torn or bit-flipped file fails that digest and reads as CORRUPTED, so a wrong
// passphrase (the body is intact but its key-check entry fails to open) is told apart from damage.
import { createHash } from 'node:crypto';
import { KeyStoreError } from './errors.js';
import { isKeyId } from './key-ref.js';
import type { KeyType } from './key-store.js';
import { KEY_TYPES } from './key-store.js';
import { checkScryptParams, type ScryptParams } from './passphrase-kek.js';
import type { SealedEntry } from './sealed-key-store.js';

const MAGIC = 'milagro-keystore/1';

/** KDF parameters recorded in the file, so it opens on any machine with the passphrase alone. */
export interface KeyFileKdf extends ScryptParams {
  readonly name: 'scrypt';
  readonly salt: Uint8Array;
}

/** Decoded contents of a key file. */
export interface KeyFileDocument {
  readonly kdf: KeyFileKdf;
  /** A constant sealed under the KEK: opens if and only if the passphrase is right. */
  readonly check: Uint8Array;
  readonly entries: readonly SealedEntry[];
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

function corrupted(why: string): KeyStoreError {
  return new KeyStoreError('CORRUPTED', `key file is corrupted: ${why}`);
}

function fromB64(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw corrupted(`bad ${what}`);
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/** Serialises a document: header line with the body's SHA-256, then the body. */
export function encodeKeyFile(doc: KeyFileDocument): Uint8Array {
  const body = JSON.stringify({
    kdf: { name: doc.kdf.name, N: doc.kdf.N, r: doc.kdf.r, p: doc.kdf.p, salt: b64(doc.kdf.salt) },
    check: b64(doc.check),
    entries: doc.entries.map((e) => ({
      id: e.id,
      label: e.label,
      type: e.type,
      ...(e.publicKey ? { publicKey: b64(e.publicKey) } : {}),
      sealed: b64(e.sealed),
    })),
  });
  const digest = createHash('sha256').update(body, 'utf8').digest('hex');
  return new Uint8Array(Buffer.from(`${MAGIC} sha256=${digest}\n${body}\n`, 'utf8'));
}

/** Parses and integrity-checks a key file; throws `CORRUPTED` on any deviation. */
export function decodeKeyFile(bytes: Uint8Array): KeyFileDocument {
  const text = Buffer.from(bytes).toString('utf8');
  const newline = text.indexOf('\n');
  const header = /^milagro-keystore\/1 sha256=([0-9a-f]{64})$/.exec(newline < 0 ? '' : text.slice(0, newline));
  if (!header) throw corrupted('bad header');
  if (!text.endsWith('\n')) throw corrupted('truncated');
  const body = text.slice(newline + 1, -1);
  if (createHash('sha256').update(body, 'utf8').digest('hex') !== header[1]) throw corrupted('digest mismatch');
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw corrupted('body is not JSON');
  }
  const doc = raw as { kdf?: Record<string, unknown>; check?: unknown; entries?: unknown };
  const kdf = doc.kdf;
  if (!kdf || kdf.name !== 'scrypt') throw corrupted('unknown KDF');
  const params = { N: kdf.N as number, r: kdf.r as number, p: kdf.p as number };
  checkScryptParams(params, 'CORRUPTED');
  const salt = fromB64(kdf.salt, 'salt');
  if (salt.length < 16) throw corrupted('salt too short');
  if (!Array.isArray(doc.entries)) throw corrupted('entries missing');
  const ids = new Set<string>();
  const labels = new Set<string>();
  const entries = (doc.entries as unknown[]).map((value): SealedEntry => {
    if (typeof value !== 'object' || value === null) throw corrupted('bad entry');
    const item = value as Record<string, unknown>;
    const { id, label, type } = item;
    if (typeof id !== 'string' || !isKeyId(id) || ids.has(id)) throw corrupted('bad entry id');
    if (typeof label !== 'string' || labels.has(label)) throw corrupted('bad entry label');
    if (!KEY_TYPES.includes(type as KeyType)) throw corrupted('bad entry type');
    ids.add(id);
    labels.add(label);
    const sealed = fromB64(item.sealed, 'sealed secret');
    return item.publicKey === undefined
      ? { id, label, type: type as KeyType, sealed }
      : { id, label, type: type as KeyType, publicKey: fromB64(item.publicKey, 'public key'), sealed };
  });
  return { kdf: { name: 'scrypt', ...params, salt }, check: fromB64(doc.check, 'key check'), entries };
}

/** Associated data of the key-check entry: binds the KDF parameters too. */
export function kekCheckAad(kdf: KeyFileKdf): Uint8Array {
  return Buffer.from(`${MAGIC} kek-check\0${kdf.N}:${kdf.r}:${kdf.p}:${b64(kdf.salt)}`, 'utf8');
}

/** The plaintext of the key-check entry. */
export const KEK_CHECK_PLAINTEXT: Uint8Array = new Uint8Array(Buffer.from(`${MAGIC} passphrase ok`, 'utf8'));
