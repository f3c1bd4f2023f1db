// The part of the memory and file stores they have in common: every secret sealed with AES-256-GCM
// under a key-encryption key (KEK), unsealed only for the length of one operation.
import { KeyStoreError } from './errors.js';
import { checkKeyType, checkLabel, checkLabelFree, findByRef, newKeyId } from './key-ref.js';
import type {
  CreateKeyOptions,
  KeyInfo,
  KeyRef,
  KeyStore,
  KeyType,
  RotateKekOptions,
  SignOptions,
} from './key-store.js';
import {
  aesGcmOpen,
  aesGcmSeal,
  decapsulateWithSecret,
  derivePublicKey,
  generateSecret,
  requireCapability,
  signWithSecret,
} from './software-key.js';

/** One stored key: metadata in the clear, secret sealed under the KEK. */
export interface SealedEntry {
  readonly id: string;
  readonly label: string;
  readonly type: KeyType;
  readonly publicKey?: Uint8Array;
  /** `nonce ‖ AES-256-GCM(secret) ‖ tag`, with the metadata bound as associated data. */
  readonly sealed: Uint8Array;
}

/** The entries of a store and the 32-byte KEK that opens them. */
export interface SealedState {
  readonly entries: readonly SealedEntry[];
  readonly kek: Uint8Array;
}

const ENTRY_AAD_PREFIX = 'milagro-keystore/1 entry\0';

// Binds id, label, type and public key to the sealed secret: swapping entries, relabelling one or
// changing its public key makes it fail to open instead of silently signing with the wrong key.
function entryAad(entry: Omit<SealedEntry, 'sealed'>): Uint8Array {
  const publicKey = entry.publicKey ? Buffer.from(entry.publicKey).toString('base64') : '';
  return Buffer.from(ENTRY_AAD_PREFIX + JSON.stringify([entry.id, entry.label, entry.type, publicKey]), 'utf8');
}

/** Seals `secret` for the entry described by `meta` under `kek`. */
export function sealEntry(meta: Omit<SealedEntry, 'sealed'>, secret: Uint8Array, kek: Uint8Array): SealedEntry {
  return { ...meta, sealed: aesGcmSeal(kek, secret, entryAad(meta)) };
}

/** Opens an entry's secret; `CORRUPTED` if it does not authenticate under `kek`. */
export function openEntry(entry: SealedEntry, kek: Uint8Array): Uint8Array {
  const secret = aesGcmOpen(kek, entry.sealed, entryAad(entry));
  if (!secret) throw new KeyStoreError('CORRUPTED', `key ${entry.id} failed its integrity check`);
  return secret;
}

/** Re-seals every entry from `oldKek` to `newKek` (fresh nonces). */
export function resealEntries(entries: readonly SealedEntry[], oldKek: Uint8Array, newKek: Uint8Array): SealedEntry[] {
  return entries.map((entry) => {
    const secret = openEntry(entry, oldKek);
    try {
      return sealEntry(entry, secret, newKek);
    } finally {
      secret.fill(0);
    }
  });
}

function infoOf(entry: SealedEntry): KeyInfo {
  const info: { -readonly [K in keyof KeyInfo]: KeyInfo[K] } = {
    id: entry.id,
    label: entry.label,
    type: entry.type,
    residency: 'software',
  };
  if (entry.publicKey) info.publicKey = entry.publicKey.slice();
  return info;
}

/**
 * A {@link KeyStore} over sealed entries. Subclasses say where the entries live (`load`) and how a
 * change is made durable (`commit`, which must read, change and persist as one atomic step).
 */
export abstract class SealedKeyStore implements KeyStore {
  #closed = false;

  /** The current entries and KEK. */
  protected abstract load(): Promise<SealedState>;
  /** Applies `change` to the freshest state and persists the result atomically. */
  protected abstract commit(change: (state: SealedState) => SealedEntry[]): Promise<void>;
  /** Backend-specific KEK rotation. */
  protected abstract rotate(options: RotateKekOptions): Promise<void>;
  /** Backend-specific cleanup for {@link SealedKeyStore.close}. */
  protected abstract release(): Promise<void>;

  /** Throws `CLOSED` after {@link SealedKeyStore.close}. */
  protected checkOpen(): void {
    if (this.#closed) throw new KeyStoreError('CLOSED', 'the key store is closed');
  }

  async generate(type: KeyType, options: CreateKeyOptions): Promise<KeyInfo> {
    checkKeyType(type);
    const secret = generateSecret(type);
    try {
      return await this.import(type, secret, options);
    } finally {
      secret.fill(0);
    }
  }

  async import(type: KeyType, secret: Uint8Array, options: CreateKeyOptions): Promise<KeyInfo> {
    this.checkOpen();
    checkKeyType(type);
    checkLabel(options?.label);
    if (!(secret instanceof Uint8Array)) throw new KeyStoreError('INVALID_KEY', 'a secret must be a Uint8Array');
    const publicKey = derivePublicKey(type, secret);
    const meta: Omit<SealedEntry, 'sealed'> = publicKey
      ? { id: newKeyId(), label: options.label, type, publicKey }
      : { id: newKeyId(), label: options.label, type };
    let created: SealedEntry | undefined;
    await this.commit(({ entries, kek }) => {
      checkLabelFree(entries, options.label);
      created = sealEntry(meta, secret, kek);
      return [...entries, created];
    });
    return infoOf(created!);
  }

  async describe(ref: KeyRef): Promise<KeyInfo> {
    this.checkOpen();
    return infoOf(findByRef((await this.load()).entries, ref));
  }

  async list(): Promise<KeyInfo[]> {
    this.checkOpen();
    const { entries } = await this.load();
    return entries.map(infoOf).sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  }

  async publicKey(ref: KeyRef): Promise<Uint8Array> {
    const info = await this.describe(ref);
    if (!info.publicKey) throw new KeyStoreError('UNSUPPORTED', `${info.type} keys have no public key`);
    return info.publicKey;
  }

  /** Runs `use` with the key's secret and wipes the secret afterwards. */
  async #withSecret<T>(ref: KeyRef, use: (entry: SealedEntry, secret: Uint8Array) => T, before?: (e: SealedEntry) => void): Promise<T> {
    this.checkOpen();
    const { entries, kek } = await this.load();
    const entry = findByRef(entries, ref);
    before?.(entry);
    const secret = openEntry(entry, kek);
    try {
      return use(entry, secret);
    } finally {
      secret.fill(0);
    }
  }

  sign(ref: KeyRef, message: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    return this.#withSecret(
      ref,
      (entry, secret) => signWithSecret(entry.type, secret, message, options),
      (entry) => requireCapability(entry.type, 'sign'),
    );
  }

  async decapsulate(ref: KeyRef, cipherText: Uint8Array): Promise<Uint8Array> {
    return await this.#withSecret(
      ref,
      (entry, secret) => decapsulateWithSecret(entry.type, secret, cipherText),
      (entry) => requireCapability(entry.type, 'decapsulate'),
    );
  }

  encrypt(ref: KeyRef, plaintext: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array> {
    return this.#withSecret(
      ref,
      (_entry, secret) => aesGcmSeal(secret, plaintext, associatedData),
      (entry) => requireCapability(entry.type, 'encrypt'),
    );
  }

  decrypt(ref: KeyRef, sealed: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array> {
    return this.#withSecret(
      ref,
      (_entry, secret) => {
        const plaintext = aesGcmOpen(secret, sealed, associatedData);
        if (!plaintext) throw new KeyStoreError('DECRYPTION_FAILED', 'ciphertext did not authenticate');
        return plaintext;
      },
      (entry) => requireCapability(entry.type, 'decrypt'),
    );
  }

  exportSecret(ref: KeyRef): Promise<Uint8Array> {
    return this.#withSecret(ref, (_entry, secret) => secret.slice());
  }

  async delete(ref: KeyRef): Promise<void> {
    this.checkOpen();
    await this.commit(({ entries }) => {
      const victim = findByRef(entries, ref);
      return entries.filter((e) => e !== victim);
    });
  }

  async rotateKek(options: RotateKekOptions = {}): Promise<void> {
    this.checkOpen();
    await this.rotate(options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.release();
  }
}
