/**
 * The owner's side of an identity: create, rotate and revoke it with keys that stay in a
 * `KeyStore`, publishing each document to a `DocumentStore`. docs/specs/identity-v1.md §6.
 *
 * The key store is the owner's durable state. Keys of generation g are labelled
 * `<prefix>/<g>/<type>`; once the document of generation g is published, its CID is recorded as
 * `<prefix>/<g>/document`. Every step is safe to repeat after a crash: keys that exist are reused,
 * and a step whose document was already recorded returns that document instead of signing a
 * second one (two signed successors of one document would be a fork).
 */
import { BLS_POP_CIPHERSUITE, compositeSignWith, hpkeOpen } from '@milagro/crypto';
import type { KeyStore, KeyType } from '@milagro/keystore';
import { CID } from 'multiformats/cid';
import { IDENTITY_VERSION, PREV_SIGNATURE_CONTEXT, SELF_SIGNATURE_CONTEXT } from './constants.js';
import { verifyInception, verifySuccessor } from './document-verification.js';
import { fetchDocument, type FetchOptions } from './document-fetch.js';
import type { DocumentStore } from './document-store.js';
import { PkiError } from './errors.js';
import {
  documentCid,
  encodeIdentityDocument,
  identityDocumentValue,
  signedBytes,
  type IdentityDocument,
  type IdentityKeys,
  type KeyDocument,
  type RevocationDocument,
} from './identity-document.js';
import { commitToKeys } from './key-commitment.js';

/** An identity whose keys this process holds, at its newest document. */
export interface OwnedIdentity {
  /** The identity: CID of its inception document. */
  readonly id: CID;
  /** CID of the newest document. */
  readonly head: CID;
  /** The newest document (verified). */
  readonly document: KeyDocument;
  /** Label prefix of its keys in the key store. */
  readonly labelPrefix: string;
}

/** Where an identity's keys and documents live. */
export interface IdentityControllerOptions extends FetchOptions {
  readonly keyStore: KeyStore;
  readonly store: DocumentStore;
  /** Clock for the informative `created` field (default `Date.now`). */
  readonly now?: () => number;
}

/** Options of {@link createIdentity}. */
export interface CreateIdentityOptions extends IdentityControllerOptions {
  /** Prefix of the key labels, e.g. `identity`. 1–64 characters of `A-Z a-z 0-9 . _ - /`. */
  readonly labelPrefix: string;
  /** Also hold a secp256k1 key (custody). Default false. */
  readonly secp256k1?: boolean;
}

/**
 * A key store's "no such key". Checked by name and code rather than with `isKeyStoreError`, so this
 * module imports only types from `@milagro/keystore` and the package stays free of Node built-ins.
 */
function isMissingKey(error: unknown): boolean {
  return error instanceof Error && error.name === 'KeyStoreError' && (error as { code?: unknown }).code === 'NOT_FOUND';
}

const LABEL_PREFIX = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

const KEY_TYPES = { ed25519: 'ed25519', mlDsa: 'ml-dsa-65', kem: 'x-wing', bls: 'bls12-381', secp256k1: 'secp256k1' } as const;

function keyLabel(prefix: string, generation: number, type: KeyType): string {
  return `${prefix}/${generation}/${type}`;
}

function documentLabel(prefix: string, generation: number): string {
  return `${prefix}/${generation}/document`;
}

function revocationLabel(prefix: string): string {
  return `${prefix}/revocation`;
}

async function keyStoreCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    throw new PkiError('KEY_STORE_FAILED', `key store: ${what} failed`, { cause });
  }
}

/** The public key under `label`, or undefined when there is no such key. */
async function existingPublicKey(keyStore: KeyStore, label: string, type: KeyType): Promise<Uint8Array | undefined> {
  try {
    const info = await keyStore.describe({ label });
    if (info.type !== type || info.publicKey === undefined) {
      throw new PkiError('KEY_STORE_FAILED', `key store: "${label}" holds a ${info.type} key, expected ${type}`);
    }
    return info.publicKey;
  } catch (error) {
    if (isMissingKey(error)) return undefined;
    if (error instanceof PkiError) throw error;
    throw new PkiError('KEY_STORE_FAILED', `key store: describing "${label}" failed`, { cause: error });
  }
}

/** Public key of a key that must exist (or is created when `create`). */
async function publicKeyOf(keyStore: KeyStore, label: string, type: KeyType, create: boolean): Promise<Uint8Array> {
  const existing = await existingPublicKey(keyStore, label, type);
  if (existing !== undefined) return existing;
  if (!create) throw new PkiError('KEY_STORE_FAILED', `key store: "${label}" is missing`);
  const info = await keyStoreCall(`generating "${label}"`, () => keyStore.generate(type, { label }));
  if (info.publicKey === undefined) throw new PkiError('KEY_STORE_FAILED', `key store: "${label}" has no public key`);
  return info.publicKey;
}

/** The key set of one generation, generating what is missing when `create`. */
async function generationKeys(keyStore: KeyStore, prefix: string, generation: number, withSecp256k1: boolean, create: boolean): Promise<IdentityKeys> {
  const key = (type: KeyType): Promise<Uint8Array> => publicKeyOf(keyStore, keyLabel(prefix, generation, type), type, create);
  const ed = await key(KEY_TYPES.ed25519);
  const mlDsa = await key(KEY_TYPES.mlDsa);
  const sign = new Uint8Array(ed.length + mlDsa.length);
  sign.set(ed);
  sign.set(mlDsa, ed.length);
  const keys = { sign, kem: await key(KEY_TYPES.kem), bls: await key(KEY_TYPES.bls) };
  return withSecp256k1 ? { ...keys, secp256k1: await key(KEY_TYPES.secp256k1) } : keys;
}

/** Composite-signs with the Ed25519 and ML-DSA-65 keys of one generation; the secret halves stay in the store. */
function signWithGeneration(keyStore: KeyStore, prefix: string, generation: number, message: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
  return keyStoreCall(`signing with generation ${generation}`, () =>
    compositeSignWith(
      {
        signEd25519: (m) => keyStore.sign({ label: keyLabel(prefix, generation, KEY_TYPES.ed25519) }, m),
        signMlDsa65: (m, fipsContext) => keyStore.sign({ label: keyLabel(prefix, generation, KEY_TYPES.mlDsa) }, m, { context: fipsContext }),
      },
      message,
      context,
    ),
  );
}

/** BLS proof of possession: the generation's BLS key signs its own public key under the POP ciphersuite. */
function proveBlsPossession(keyStore: KeyStore, prefix: string, generation: number, publicKey: Uint8Array): Promise<Uint8Array> {
  return keyStoreCall(`BLS proof of possession for generation ${generation}`, () =>
    keyStore.sign({ label: keyLabel(prefix, generation, KEY_TYPES.bls) }, publicKey, { dst: BLS_POP_CIPHERSUITE }),
  );
}

/** The CID recorded under `label`, or undefined. */
async function recordedCid(keyStore: KeyStore, label: string): Promise<CID | undefined> {
  try {
    return CID.decode(await keyStore.exportSecret({ label }));
  } catch (error) {
    if (isMissingKey(error)) return undefined;
    throw new PkiError('KEY_STORE_FAILED', `key store: reading "${label}" failed`, { cause: error });
  }
}

async function recordCid(keyStore: KeyStore, label: string, cid: CID): Promise<void> {
  await keyStoreCall(`recording "${label}"`, () => keyStore.import('secret', cid.bytes, { label }));
}

/** Publishes a document and checks the store addressed it as we do. */
async function publish(store: DocumentStore, document: IdentityDocument, signal?: AbortSignal): Promise<CID> {
  const expected = await documentCid(encodeIdentityDocument(document));
  let cid: CID;
  try {
    cid = await store.putDag(identityDocumentValue(document), { pin: true, signal });
  } catch (cause) {
    throw new PkiError('NOT_FOUND', 'the identity document could not be stored', { cause });
  }
  if (cid.toString() !== expected.toString()) throw new PkiError('MALFORMED', `the store addressed the document as ${cid.toString()}, expected ${expected.toString()}`);
  return cid;
}

function checkPrefix(labelPrefix: string): void {
  if (typeof labelPrefix !== 'string' || labelPrefix.length === 0 || labelPrefix.length > 64 || !LABEL_PREFIX.test(labelPrefix)) {
    throw new PkiError('INVALID_ARGUMENT', 'labelPrefix must be 1–64 characters of A-Z a-z 0-9 . _ - / (no empty segments)');
  }
}

/**
 * Creates an identity: keys of generation 0 (current) and 1 (pre-rotated) in the key store, an
 * inception document signed by generation 0 and committing to generation 1, published and pinned.
 * @throws PkiError `INVALID_ARGUMENT` when an identity already exists under the prefix.
 */
export async function createIdentity(options: CreateIdentityOptions): Promise<OwnedIdentity> {
  const { keyStore, store, labelPrefix } = options;
  checkPrefix(labelPrefix);
  if ((await recordedCid(keyStore, documentLabel(labelPrefix, 0))) !== undefined) {
    throw new PkiError('INVALID_ARGUMENT', `an identity already exists under "${labelPrefix}"; load it with loadIdentity`);
  }
  const withSecp256k1 = options.secp256k1 === true;
  const keys = await generationKeys(keyStore, labelPrefix, 0, withSecp256k1, true);
  const nextKeys = await generationKeys(keyStore, labelPrefix, 1, withSecp256k1, true);
  const unsigned = {
    v: IDENTITY_VERSION,
    type: 'inception',
    seq: 0,
    created: (options.now ?? Date.now)(),
    keys,
    next: commitToKeys(nextKeys),
    pop: await proveBlsPossession(keyStore, labelPrefix, 0, keys.bls),
  } as const;
  const document = { ...unsigned, sigs: { self: await signWithGeneration(keyStore, labelPrefix, 0, signedBytes(unsigned), SELF_SIGNATURE_CONTEXT) } };
  verifyInception(document);
  const id = await publish(store, document, options.signal);
  await recordCid(keyStore, documentLabel(labelPrefix, 0), id);
  return { id, head: id, document, labelPrefix };
}

/**
 * Rotates to the pre-rotated keys: a rotation document signed by the current generation (and by the
 * new one), carrying generation n+1's keys and committing to a fresh generation n+2. The retired
 * generation's signing keys are then deleted from the key store; its X-Wing, BLS and secp256k1
 * keys are kept, so envelopes and shares issued to it still open.
 * @throws PkiError `REVOKED` for a revoked identity, `KEY_STORE_FAILED` when the pre-rotated keys are gone.
 */
export async function rotateIdentity(owned: OwnedIdentity, options: IdentityControllerOptions): Promise<OwnedIdentity> {
  const { keyStore, store } = options;
  const { labelPrefix: prefix, document: current } = owned;
  await refuseRevoked(keyStore, prefix);
  const generation = current.seq + 1;
  const recorded = await recordedCid(keyStore, documentLabel(prefix, generation));
  if (recorded !== undefined) {
    // Already published (a repeated call, or a crash after publishing): finish the step, sign nothing new.
    const successor = await successorOf(owned, recorded, options);
    await retireSigningKeys(keyStore, prefix, current.seq);
    return successor;
  }

  const withSecp256k1 = current.keys.secp256k1 !== undefined;
  const keys = await generationKeys(keyStore, prefix, generation, withSecp256k1, false);
  if (!commitToKeys(keys).every((byte, i) => byte === current.next[i])) {
    throw new PkiError('BROKEN_CHAIN', `the key store's generation ${generation} keys do not match the commitment of the current document`);
  }
  const nextKeys = await generationKeys(keyStore, prefix, generation + 1, withSecp256k1, true);
  const unsigned = {
    v: IDENTITY_VERSION,
    type: 'rotation',
    id: owned.id,
    prev: owned.head,
    seq: generation,
    created: (options.now ?? Date.now)(),
    keys,
    next: commitToKeys(nextKeys),
    pop: await proveBlsPossession(keyStore, prefix, generation, keys.bls),
  } as const;
  const payload = signedBytes(unsigned);
  const document = {
    ...unsigned,
    sigs: {
      self: await signWithGeneration(keyStore, prefix, generation, payload, SELF_SIGNATURE_CONTEXT),
      prev: await signWithGeneration(keyStore, prefix, current.seq, payload, PREV_SIGNATURE_CONTEXT),
    },
  };
  verifySuccessor(owned.id, current, owned.head, document);
  const head = await publish(store, document, options.signal);
  await recordCid(keyStore, documentLabel(prefix, generation), head);
  await retireSigningKeys(keyStore, prefix, current.seq);
  return { id: owned.id, head, document, labelPrefix: prefix };
}

/**
 * Revokes the identity for good: a revocation document signed by the current keys. Resolvers that
 * see it refuse the identity from then on. Repeating the call returns the same revocation.
 */
export async function revokeIdentity(
  owned: OwnedIdentity,
  options: IdentityControllerOptions,
): Promise<{ readonly cid: CID; readonly document: RevocationDocument }> {
  const { keyStore, store } = options;
  const label = revocationLabel(owned.labelPrefix);
  const recorded = await recordedCid(keyStore, label);
  if (recorded !== undefined) {
    const document = await fetchDocument(store, recorded, options);
    if (document.type !== 'revocation') throw new PkiError('BROKEN_CHAIN', `"${label}" does not name a revocation`);
    return { cid: recorded, document };
  }
  const unsigned = {
    v: IDENTITY_VERSION,
    type: 'revocation',
    id: owned.id,
    prev: owned.head,
    seq: owned.document.seq + 1,
    created: (options.now ?? Date.now)(),
  } as const;
  const document = {
    ...unsigned,
    sigs: { prev: await signWithGeneration(keyStore, owned.labelPrefix, owned.document.seq, signedBytes(unsigned), PREV_SIGNATURE_CONTEXT) },
  };
  verifySuccessor(owned.id, owned.document, owned.head, document);
  const cid = await publish(store, document, options.signal);
  await recordCid(keyStore, label, cid);
  return { cid, document };
}

/**
 * Loads the identity held under `labelPrefix`: follows the recorded documents from generation 0,
 * fetching and verifying each. Use it on start-up, and after a crash.
 * @throws PkiError `NOT_FOUND` when no identity is recorded, `REVOKED` when it was revoked.
 */
export async function loadIdentity(options: IdentityControllerOptions & { readonly labelPrefix: string }): Promise<OwnedIdentity> {
  const { keyStore, store, labelPrefix } = options;
  checkPrefix(labelPrefix);
  await refuseRevoked(keyStore, labelPrefix);
  const id = await recordedCid(keyStore, documentLabel(labelPrefix, 0));
  if (id === undefined) throw new PkiError('NOT_FOUND', `no identity is recorded under "${labelPrefix}"`);
  const inception = await fetchDocument(store, id, options);
  verifyInception(inception);
  let owned: OwnedIdentity = { id, head: id, document: inception, labelPrefix };
  for (;;) {
    const next = await recordedCid(keyStore, documentLabel(labelPrefix, owned.document.seq + 1));
    if (next === undefined) return owned;
    owned = await successorOf(owned, next, options);
  }
}

async function successorOf(owned: OwnedIdentity, cid: CID, options: FetchOptions & { readonly store: DocumentStore }): Promise<OwnedIdentity> {
  const document = await fetchDocument(options.store, cid, options);
  verifySuccessor(owned.id, owned.document, owned.head, document);
  if (document.type === 'revocation') throw new PkiError('REVOKED', 'the identity was revoked');
  return { ...owned, head: cid, document };
}

async function refuseRevoked(keyStore: KeyStore, prefix: string): Promise<void> {
  if ((await recordedCid(keyStore, revocationLabel(prefix))) !== undefined) throw new PkiError('REVOKED', `the identity under "${prefix}" was revoked`);
}

async function retireSigningKeys(keyStore: KeyStore, prefix: string, generation: number): Promise<void> {
  for (const type of [KEY_TYPES.ed25519, KEY_TYPES.mlDsa]) {
    try {
      await keyStore.delete({ label: keyLabel(prefix, generation, type) });
    } catch (error) {
      if (!isMissingKey(error)) throw new PkiError('KEY_STORE_FAILED', `key store: retiring generation ${generation} failed`, { cause: error });
    }
  }
}

/**
 * The identity's signing capability, shaped as `@milagro/envelope`'s `EnvelopeSigner`: composite
 * signatures by the current generation's keys, made inside the key store.
 */
export function identitySigner(owned: OwnedIdentity, keyStore: KeyStore): { readonly id: string; sign(message: Uint8Array, context: Uint8Array): Promise<Uint8Array> } {
  return {
    id: owned.id.toString(),
    sign: (message, context) => signWithGeneration(keyStore, owned.labelPrefix, owned.document.seq, message, context),
  };
}

/**
 * The identity's decryption capability, shaped as `@milagro/envelope`'s `EnvelopeRecipientKey`:
 * HPKE opens whose X-Wing decapsulation happens inside the key store, so the secret key never
 * leaves it. `generation` defaults to the current one; pass an older one to open envelopes sealed
 * to keys that were current before a rotation (their X-Wing keys are kept).
 * @throws PkiError `INVALID_ARGUMENT` for a generation the identity has not reached,
 *   `KEY_STORE_FAILED` when the key store no longer holds that generation's X-Wing key.
 */
export async function identityRecipientKey(
  owned: OwnedIdentity,
  keyStore: KeyStore,
  generation: number = owned.document.seq,
): Promise<{
  readonly id: string;
  readonly publicKey: Uint8Array;
  unwrap(enc: Uint8Array, ciphertext: Uint8Array, info: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
}> {
  if (!Number.isSafeInteger(generation) || generation < 0 || generation > owned.document.seq) {
    throw new PkiError('INVALID_ARGUMENT', `generation must be an integer from 0 to ${owned.document.seq}`);
  }
  const label = keyLabel(owned.labelPrefix, generation, KEY_TYPES.kem);
  const publicKey = await publicKeyOf(keyStore, label, KEY_TYPES.kem, false);
  const decapsulator = { publicKey, decapsulate: (cipherText: Uint8Array) => keyStore.decapsulate({ label }, cipherText) };
  return {
    id: owned.id.toString(),
    publicKey,
    unwrap: (enc, ciphertext, info, aad) => hpkeOpen(decapsulator, enc, ciphertext, { info, aad }),
  };
}
