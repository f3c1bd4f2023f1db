// Key naming shared by every backend: ids, labels and how a KeyRef finds an entry.
import { randomBytes } from 'node:crypto';
import { KeyStoreError } from './errors.js';
import type { KeyRef, KeyType } from './key-store.js';
import { KEY_TYPES } from './key-store.js';

const MAX_LABEL_BYTES = 128;
const ID_PATTERN = /^[0-9a-f]{32}$/;

/** A fresh key id: 16 random bytes as lowercase hex. */
export function newKeyId(): string {
  return randomBytes(16).toString('hex');
}

/** True when `id` has the shape of a key id. */
export function isKeyId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Throws `INVALID_ARGUMENT` unless `label` is 1–128 UTF-8 bytes without control characters. */
export function checkLabel(label: unknown): asserts label is string {
  if (typeof label !== 'string' || label.length === 0) {
    throw new KeyStoreError('INVALID_ARGUMENT', 'a key label must be a non-empty string');
  }
  // eslint-disable-next-line no-control-regex
  if (Buffer.byteLength(label, 'utf8') > MAX_LABEL_BYTES || /[\u0000-\u001f\u007f]/.test(label)) {
    throw new KeyStoreError('INVALID_ARGUMENT', `a key label is at most ${MAX_LABEL_BYTES} bytes without control characters`);
  }
}

/** Throws `INVALID_ARGUMENT` unless `type` is a {@link KeyType}. */
export function checkKeyType(type: unknown): asserts type is KeyType {
  if (!KEY_TYPES.includes(type as KeyType)) {
    throw new KeyStoreError('INVALID_ARGUMENT', `unknown key type ${JSON.stringify(type)}`);
  }
}

/** A readable description of a ref for error messages (labels and ids are not secret). */
export function describeRef(ref: KeyRef): string {
  return 'id' in ref ? `id ${ref.id}` : `label ${JSON.stringify(ref.label)}`;
}

/** The entry `ref` names, or `NOT_FOUND`. */
export function findByRef<T extends { readonly id: string; readonly label: string }>(
  entries: readonly T[],
  ref: KeyRef,
): T {
  const found = 'id' in ref ? entries.find((e) => e.id === ref.id) : entries.find((e) => e.label === ref.label);
  if (!found) throw new KeyStoreError('NOT_FOUND', `no key with ${describeRef(ref)}`);
  return found;
}

/** Throws `ALREADY_EXISTS` when `label` is taken. */
export function checkLabelFree(entries: readonly { readonly label: string }[], label: string): void {
  if (entries.some((e) => e.label === label)) {
    throw new KeyStoreError('ALREADY_EXISTS', `a key labelled ${JSON.stringify(label)} already exists`);
  }
}
