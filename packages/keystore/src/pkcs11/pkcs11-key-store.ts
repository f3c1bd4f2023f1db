import {
  KeyGenMechanism,
  KeyType as P11KeyType,
  ObjectClass,
  SessionFlag,
  UserType,
  AesGcm240Params,
  type ITemplate,
  type Key,
  type Module,
  type Session,
  type SessionObject,
  type Slot,
} from 'graphene-pk11';
import { randomBytes } from 'node:crypto';
import { KeyStoreError } from '../errors.js';
import { checkKeyType, checkLabel, describeRef, isKeyId, newKeyId } from '../key-ref.js';
import type { CreateKeyOptions, KeyInfo, KeyRef, KeyStore, KeyType, SignOptions } from '../key-store.js';
import {
  aesGcmOpen,
  aesGcmSeal,
  decapsulateWithSecret,
  derivePublicKey,
  ecdsaCurve,
  generateSecret,
  normaliseLowS,
  requireCapability,
  signingInput,
  signWithSecret,
  verifySignature,
} from '../software-key.js';
import { readPin, type PinSource } from './pin-source.js';
import { isConnectionLost, pkcs11ReturnValue, toKeyStoreError } from './pkcs11-errors.js';
import { acquireModule, initializeModule, releaseModule } from './pkcs11-module.js';
import { SessionPool, type PooledConnection } from './session-pool.js';
import {
  CKK_EC_EDWARDS,
  CKM_EC_EDWARDS_KEY_PAIR_GEN,
  CKM_EDDSA,
  decodeEcPoint,
  decodeWrappedKeyRecord,
  ecParams,
  encodeEcPoint,
  encodeWrappedKeyRecord,
  frameSecret,
  KEK_LABEL,
  keyTypeOf,
  publicKeyTemplate,
  residentKeyTemplate,
  unframeSecret,
  WRAPPED_KEY_APPLICATION,
  type WrappedKeyRecord,
} from './token-objects.js';

/** Key types kept inside the HSM by default, when the token has the mechanisms for them. */
export const DEFAULT_HSM_KEY_TYPES: readonly KeyType[] = ['ed25519', 'secp256k1', 'p-256', 'aes-256'];

/** Options of {@link Pkcs11KeyStore.open}. */
export interface Pkcs11KeyStoreOptions {
  /** Path of the PKCS#11 library, e.g. `/usr/lib/softhsm/libsofthsm2.so` or `/opt/cloudhsm/lib/libcloudhsm_pkcs11.so`. */
  readonly module: string;
  /** Token label to use (recommended: SoftHSM2 slot ids change when tokens are added). */
  readonly tokenLabel?: string;
  /** Otherwise the index among slots with a token present (default 0). */
  readonly slotIndex?: number;
  /** Where the user PIN comes from: `{ env: 'NAME' }` or `{ file: '/run/secrets/hsm-pin' }`. */
  readonly pin: PinSource;
  /** Sessions in the pool (default 4). */
  readonly sessions?: number;
  /**
   * Key types to generate and import as HSM-resident objects where the token supports them
   * (default {@link DEFAULT_HSM_KEY_TYPES}). Other types are software keys wrapped by the HSM KEK.
   */
  readonly hsmKeyTypes?: readonly KeyType[];
  /**
   * Mechanism that wraps software keys under the KEK (default `'AES_KEY_WRAP_PAD'`). Wrapped frames
   * are padded to 8 bytes, so RFC 3394 `'AES_KEY_WRAP'` or a vendor's no-padding key wrap (a CKM_*
   * number, e.g. AWS CloudHSM's) works too. Fixed for the life of a token's keys.
   */
  readonly wrapMechanism?: 'AES_KEY_WRAP_PAD' | 'AES_KEY_WRAP' | number;
}

const GCM_NONCE = 12;
const GCM_TAG = 16;

interface Connection extends PooledConnection<Session> {
  /** Key types this token can hold natively, intersected with the configured ones. */
  readonly native: ReadonlySet<KeyType>;
}

/** One key as found on the token. */
type Located =
  | {
      readonly residency: 'hsm';
      readonly info: KeyInfo;
      /** The private key (ECDSA/EdDSA) or secret key (AES). */
      readonly key: SessionObject;
      readonly objects: readonly SessionObject[];
    }
  | {
      readonly residency: 'software';
      readonly info: KeyInfo;
      readonly record: WrappedKeyRecord;
      readonly objects: readonly SessionObject[];
    };

const idBytes = (id: string) => Buffer.from(id, 'hex');

function asKey(object: SessionObject): Key {
  return object.toType<Key>();
}

/**
 * A {@link KeyStore} on a PKCS#11 token, through graphene-pk11.
 *
 * - `ed25519`, `secp256k1`, `p-256` and `aes-256` keys are HSM-resident (non-extractable token
 *   objects) where the token has the mechanisms; signing and AES-GCM run inside the token. Every
 *   ECDSA signature is normalised to low S, and every HSM signature is verified in software against
 *   the public key before it is released (`SIGNATURE_FAILED` otherwise).
 * - All other keys are software keys: wrapped with AES-KEY-WRAP-PAD under a non-extractable AES-256
 *   KEK that never leaves the HSM, stored on the token as data objects, unwrapped per operation.
 * - Sessions are pooled; the PIN comes from an environment variable or a file, at each login.
 * - If the module is finalised or the token vanishes, operations fail with `TOKEN_UNAVAILABLE` and
 *   the next operation reconnects.
 *
 * PKCS#11 calls are synchronous (graphene's blocking API), so each operation holds the event loop
 * for the duration of the token call.
 */
export class Pkcs11KeyStore implements KeyStore {
  readonly #options: Pkcs11KeyStoreOptions;
  readonly #pool: SessionPool<Session>;
  #module: Module | undefined;
  #native: ReadonlySet<KeyType> = new Set();
  readonly #wrapMechanism: number;
  #closed = false;

  private constructor(options: Pkcs11KeyStoreOptions) {
    this.#options = options;
    const wrap = options.wrapMechanism ?? 'AES_KEY_WRAP_PAD';
    this.#wrapMechanism = typeof wrap === 'number' ? wrap : MECHANISMS[wrap];
    this.#pool = new SessionPool(() => this.#connect());
  }

  /** Loads the module, logs in to the token and finishes any KEK rotation a crash interrupted. */
  static async open(options: Pkcs11KeyStoreOptions): Promise<Pkcs11KeyStore> {
    const sessions = options.sessions ?? 4;
    if (!Number.isInteger(sessions) || sessions < 1 || sessions > 64) {
      throw new KeyStoreError('INVALID_ARGUMENT', 'sessions must be an integer in 1..64');
    }
    for (const type of options.hsmKeyTypes ?? []) checkKeyType(type);
    const store = new Pkcs11KeyStore(options);
    store.#module = acquireModule(options.module);
    try {
      store.#pool.connect();
      await store.#run('finish KEK rotation', (session) => store.#finishRotation(session), 'CORRUPTED');
    } catch (err) {
      store.#pool.close();
      releaseModule(options.module);
      throw toKeyStoreError(err, 'cannot open the PKCS#11 key store', 'TOKEN_UNAVAILABLE');
    }
    return store;
  }

  #connect(): Connection {
    const module = this.#module!;
    initializeModule(module, this.#options.module);
    const slot = this.#findSlot(module);
    const native = this.#nativeTypes(slot);
    const sessions: Session[] = [];
    const close = () => {
      for (const s of sessions) {
        try {
          s.close();
        } catch {
          // already gone
        }
      }
    };
    try {
      for (let i = 0; i < (this.#options.sessions ?? 4); i++) {
        sessions.push(slot.open(SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION));
      }
      const pin = readPin(this.#options.pin);
      try {
        // Login is per application: one session logs in all of them.
        sessions[0]!.login(pin, UserType.USER);
      } catch (err) {
        if (pkcs11ReturnValue(err) !== 'CKR_USER_ALREADY_LOGGED_IN') throw err;
      }
    } catch (err) {
      close();
      throw toKeyStoreError(err, 'cannot log in to the token', 'TOKEN_UNAVAILABLE');
    }
    this.#native = native;
    return { sessions, native, close };
  }

  #findSlot(module: Module): Slot {
    let slots;
    try {
      slots = module.getSlots(true);
    } catch (err) {
      throw toKeyStoreError(err, 'cannot list PKCS#11 slots', 'TOKEN_UNAVAILABLE');
    }
    const { tokenLabel, slotIndex = 0 } = this.#options;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots.items(i);
      if (tokenLabel === undefined ? i === slotIndex : slot.getToken().label.trim() === tokenLabel) return slot;
    }
    throw new KeyStoreError(
      'TOKEN_UNAVAILABLE',
      tokenLabel === undefined ? `no token in slot index ${slotIndex}` : `no token labelled ${JSON.stringify(tokenLabel)}`,
    );
  }

  #nativeTypes(slot: Slot): Set<KeyType> {
    const mechanisms = new Set<number>();
    const list = slot.getMechanisms();
    for (let i = 0; i < list.length; i++) mechanisms.add(list.items(i).type);
    const wanted = new Set(this.#options.hsmKeyTypes ?? DEFAULT_HSM_KEY_TYPES);
    const has = (...names: (keyof typeof MECHANISMS | number)[]) =>
      names.every((n) => mechanisms.has(typeof n === 'number' ? n : MECHANISMS[n]));
    const native = new Set<KeyType>();
    if (wanted.has('ed25519') && has(CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA)) native.add('ed25519');
    if (wanted.has('secp256k1') && has('EC_KEY_PAIR_GEN', 'ECDSA')) native.add('secp256k1');
    if (wanted.has('p-256') && has('EC_KEY_PAIR_GEN', 'ECDSA')) native.add('p-256');
    if (wanted.has('aes-256') && has('AES_KEY_GEN', 'AES_GCM')) native.add('aes-256');
    if (!has('AES_KEY_GEN', this.#wrapMechanism)) {
      throw new KeyStoreError('UNSUPPORTED', 'the token lacks AES key generation or the key-wrap mechanism for software keys');
    }
    return native;
  }

  /** Runs a token operation on a pooled session, mapping PKCS#11 errors to typed ones. */
  async #run<T>(what: string, operation: (session: Session) => T, fallback: KeyStoreError['code'] = 'UNSUPPORTED'): Promise<T> {
    if (this.#closed) throw new KeyStoreError('CLOSED', 'the key store is closed');
    try {
      return await this.#pool.use(operation, isConnectionLost);
    } catch (err) {
      throw toKeyStoreError(err, what, fallback);
    }
  }

  // ---- finding keys -------------------------------------------------------------------------

  #find(session: Session, template: ITemplate): SessionObject[] {
    const found = session.find(template);
    const objects: SessionObject[] = [];
    for (let i = 0; i < found.length; i++) objects.push(found.items(i));
    return objects;
  }

  #keks(session: Session): { generation: number; key: SessionObject }[] {
    return this.#find(session, { class: ObjectClass.SECRET_KEY, label: KEK_LABEL })
      .map((key) => {
        const id = key.getAttribute({ id: null }).id as Buffer;
        return { generation: id.length === 8 ? Number(id.readBigUInt64BE(0)) : -1, key };
      })
      .filter((k) => k.generation >= 0)
      .sort((a, b) => a.generation - b.generation);
  }

  #currentKek(session: Session): { generation: number; key: SessionObject } {
    const keks = this.#keks(session);
    const newest = keks[keks.length - 1];
    if (newest) return newest;
    return this.#createKek(session, 1);
  }

  #createKek(session: Session, generation: number): { generation: number; key: SessionObject } {
    const id = Buffer.alloc(8);
    id.writeBigUInt64BE(BigInt(generation));
    const key = session.generateKey(KeyGenMechanism.AES, {
      class: ObjectClass.SECRET_KEY,
      keyType: P11KeyType.AES,
      valueLen: 32,
      ...residentKeyTemplate(id, KEK_LABEL),
      wrap: true,
      unwrap: true,
      encrypt: false,
      decrypt: false,
      sign: false,
      verify: false,
      derive: false,
    });
    return { generation, key };
  }

  #publicKeyOf(session: Session, id: Buffer): Uint8Array | undefined {
    const [pub] = this.#find(session, { class: ObjectClass.PUBLIC_KEY, id });
    if (!pub) return undefined;
    return decodeEcPoint(pub.getAttribute({ pointEC: null }).pointEC as Buffer);
  }

  /**
   * The managed keys on the token, all of them or those `ref` names (searched by attribute, so a
   * lookup does not read every object). Duplicate wrapped records (an interrupted rotation) resolve
   * to the newest KEK.
   */
  #inventory(session: Session, ref?: KeyRef): Located[] {
    const byRef: ITemplate = !ref ? {} : 'label' in ref ? { label: ref.label } : { id: idBytes(ref.id) };
    const located = new Map<string, Located>();
    for (const key of [
      ...this.#find(session, { class: ObjectClass.PRIVATE_KEY, ...byRef }),
      ...this.#find(session, { class: ObjectClass.SECRET_KEY, keyType: P11KeyType.AES, ...byRef }),
    ]) {
      const found = this.#describeResident(session, key);
      if (found) located.set(found.info.id, found);
    }
    // Data objects carry no CKA_ID: an id lookup reads the records.
    const dataTemplate: ITemplate = { class: ObjectClass.DATA, application: WRAPPED_KEY_APPLICATION };
    if (ref && 'label' in ref) dataTemplate.label = ref.label;
    for (const object of this.#find(session, dataTemplate)) {
      const record = decodeWrappedKeyRecord(object.getAttribute({ value: null }).value as Buffer);
      if (ref && 'id' in ref && record.id !== ref.id) continue;
      const previous = located.get(record.id);
      if (previous?.residency === 'software' && previous.record.kek >= record.kek) continue;
      located.set(record.id, { residency: 'software', info: infoOfRecord(record), record, objects: [object] });
    }
    return [...located.values()];
  }

  #describeResident(session: Session, key: SessionObject): Located | undefined {
    const attrs = key.getAttribute({ id: null, label: null, keyType: null, class: null });
    const id = attrs.id as Buffer;
    if (id.length !== 16 || attrs.label === KEK_LABEL) return undefined;
    const params = attrs.class === ObjectClass.PRIVATE_KEY ? (key.getAttribute({ paramsECDSA: null }).paramsECDSA as Buffer) : undefined;
    const type = keyTypeOf(attrs.keyType as number, params);
    if (!type) return undefined;
    const hexId = id.toString('hex');
    let publicKey: Uint8Array | undefined;
    const objects = [key];
    if (type !== 'aes-256') {
      const point = this.#publicKeyOf(session, id);
      if (!point) return undefined;
      publicKey = type === 'ed25519' ? point : ecdsaCurve(type)!.Point.fromBytes(point).toBytes(true);
      objects.push(...this.#find(session, { class: ObjectClass.PUBLIC_KEY, id }));
    }
    const info: KeyInfo = publicKey
      ? { id: hexId, label: attrs.label as string, type, publicKey, residency: 'hsm' }
      : { id: hexId, label: attrs.label as string, type, residency: 'hsm' };
    return { residency: 'hsm', info, key, objects };
  }

  #locate(session: Session, ref: KeyRef): Located {
    if ('id' in ref && !isKeyId(ref.id)) throw new KeyStoreError('NOT_FOUND', `no key with ${describeRef(ref)}`);
    const found = this.#inventory(session, ref)[0];
    if (!found) throw new KeyStoreError('NOT_FOUND', `no key with ${describeRef(ref)}`);
    return found;
  }

  // ---- wrapping -----------------------------------------------------------------------------

  #wrap(session: Session, kek: SessionObject, meta: Omit<WrappedKeyRecord, 'wrapped' | 'kek'>, secret: Uint8Array): Uint8Array {
    const frame = frameSecret(meta, secret);
    // C_WrapKey wraps key objects only: the frame rides in a short-lived session object.
    const carrier = session.create({
      class: ObjectClass.SECRET_KEY,
      keyType: P11KeyType.GENERIC_SECRET,
      token: false,
      sensitive: false,
      extractable: true,
      value: frame,
    });
    try {
      return new Uint8Array(session.wrapKey({ name: this.#wrapMechanism, params: null }, asKey(kek), asKey(carrier)));
    } finally {
      frame.fill(0);
      session.destroy(carrier);
    }
  }

  #unwrap(session: Session, record: WrappedKeyRecord): Uint8Array {
    const kek = this.#keks(session).find((k) => k.generation === record.kek);
    if (!kek) throw new KeyStoreError('CORRUPTED', `the KEK that wrapped key ${record.id} is missing from the token`);
    let carrier: Key;
    try {
      carrier = session.unwrapKey({ name: this.#wrapMechanism, params: null }, asKey(kek.key), Buffer.from(record.wrapped), {
        class: ObjectClass.SECRET_KEY,
        keyType: P11KeyType.GENERIC_SECRET,
        token: false,
        sensitive: false,
        extractable: true,
      });
    } catch (err) {
      if (isConnectionLost(err)) throw err;
      throw new KeyStoreError('CORRUPTED', `wrapped key ${record.id} failed to unwrap`, { cause: err });
    }
    try {
      const frame = carrier.getAttribute({ value: null }).value as Buffer;
      try {
        return unframeSecret(record, frame);
      } finally {
        frame.fill(0);
      }
    } finally {
      session.destroy(carrier);
    }
  }

  /** Stores `secret` wrapped under `kek` (the current KEK unless given) as a token data object. */
  #storeWrapped(
    session: Session,
    meta: Omit<WrappedKeyRecord, 'wrapped' | 'kek'>,
    secret: Uint8Array,
    kek: { generation: number; key: SessionObject } = this.#currentKek(session),
  ): void {
    const record: WrappedKeyRecord = { ...meta, kek: kek.generation, wrapped: this.#wrap(session, kek.key, meta, secret) };
    session.create({
      class: ObjectClass.DATA,
      token: true,
      private: true,
      application: WRAPPED_KEY_APPLICATION,
      label: meta.label,
      value: encodeWrappedKeyRecord(record),
    });
  }

  /** Re-wraps every record not under the newest KEK, then destroys the older KEKs. Idempotent. */
  #finishRotation(session: Session): void {
    const keks = this.#keks(session);
    const newest = keks[keks.length - 1];
    if (!newest) return;
    const stored = this.#find(session, { class: ObjectClass.DATA, application: WRAPPED_KEY_APPLICATION }).map((object) => ({
      object,
      record: decodeWrappedKeyRecord(object.getAttribute({ value: null }).value as Buffer),
    }));
    const current = new Set(stored.filter(({ record }) => record.kek === newest.generation).map(({ record }) => record.id));
    for (const { object, record } of stored) {
      if (record.kek === newest.generation) continue;
      // Write the new copy before destroying the old one: a crash in between leaves a duplicate,
      // which the inventory resolves to the newer KEK and the next run removes.
      if (!current.has(record.id)) {
        const secret = this.#unwrap(session, record);
        try {
          const { wrapped: _w, kek: _k, ...meta } = record;
          this.#storeWrapped(session, meta, secret, newest);
          current.add(record.id);
        } finally {
          secret.fill(0);
        }
      }
      session.destroy(object);
    }
    for (const old of keks.slice(0, -1)) session.destroy(old.key);
  }

  // ---- KeyStore -----------------------------------------------------------------------------

  async generate(type: KeyType, options: CreateKeyOptions): Promise<KeyInfo> {
    checkKeyType(type);
    checkLabel(options?.label);
    return this.#run(`generate ${type} key`, (session) => {
      this.#requireLabelFree(session, options.label);
      const id = newKeyId();
      if (this.#native.has(type)) {
        try {
          return this.#generateResident(session, type, id, options.label);
        } catch (err) {
          if (isConnectionLost(err)) throw err;
          // Token refused this key type after all: fall back to a wrapped software key.
        }
      }
      const secret = generateSecret(type);
      try {
        return this.#importWrapped(session, type, id, options.label, secret);
      } finally {
        secret.fill(0);
      }
    });
  }

  async import(type: KeyType, secret: Uint8Array, options: CreateKeyOptions): Promise<KeyInfo> {
    checkKeyType(type);
    checkLabel(options?.label);
    if (!(secret instanceof Uint8Array)) throw new KeyStoreError('INVALID_KEY', 'a secret must be a Uint8Array');
    const publicKey = derivePublicKey(type, secret);
    return this.#run(`import ${type} key`, (session) => {
      this.#requireLabelFree(session, options.label);
      const id = newKeyId();
      if (this.#native.has(type)) {
        try {
          return this.#importResident(session, type, id, options.label, secret, publicKey);
        } catch (err) {
          if (isConnectionLost(err)) throw err;
          // e.g. SoftHSM 2.6 cannot C_CreateObject an EdDSA private key: keep it wrapped instead.
        }
      }
      return this.#importWrapped(session, type, id, options.label, secret);
    });
  }

  #requireLabelFree(session: Session, label: string): void {
    if (this.#inventory(session, { label }).length > 0) {
      throw new KeyStoreError('ALREADY_EXISTS', `a key labelled ${JSON.stringify(label)} already exists`);
    }
  }

  #importWrapped(session: Session, type: KeyType, id: string, label: string, secret: Uint8Array): KeyInfo {
    const publicKey = derivePublicKey(type, secret);
    const meta = publicKey ? { id, label, type, publicKey } : { id, label, type };
    this.#storeWrapped(session, meta, secret);
    return infoOfRecord(meta);
  }

  #generateResident(session: Session, type: KeyType, id: string, label: string): KeyInfo {
    const cka = idBytes(id);
    if (type === 'aes-256') {
      session.generateKey(KeyGenMechanism.AES, {
        class: ObjectClass.SECRET_KEY,
        keyType: P11KeyType.AES,
        valueLen: 32,
        ...residentKeyTemplate(cka, label),
        encrypt: true,
        decrypt: true,
      });
      return { id, label, type, residency: 'hsm' };
    }
    const mechanism = type === 'ed25519' ? { name: CKM_EC_EDWARDS_KEY_PAIR_GEN, params: null } : KeyGenMechanism.EC;
    const keyType = type === 'ed25519' ? CKK_EC_EDWARDS : P11KeyType.EC;
    const pair = session.generateKeyPair(mechanism, publicKeyTemplate(type, cka, label), {
      class: ObjectClass.PRIVATE_KEY,
      keyType,
      ...residentKeyTemplate(cka, label),
      sign: true,
      derive: false,
    });
    const point = decodeEcPoint(pair.publicKey.getAttribute({ pointEC: null }).pointEC as Buffer);
    const publicKey = type === 'ed25519' ? point : ecdsaCurve(type)!.Point.fromBytes(point).toBytes(true);
    return { id, label, type, publicKey, residency: 'hsm' };
  }

  #importResident(
    session: Session,
    type: KeyType,
    id: string,
    label: string,
    secret: Uint8Array,
    publicKey: Uint8Array | undefined,
  ): KeyInfo {
    const cka = idBytes(id);
    if (type === 'aes-256') {
      session.create({
        class: ObjectClass.SECRET_KEY,
        keyType: P11KeyType.AES,
        ...residentKeyTemplate(cka, label),
        encrypt: true,
        decrypt: true,
        value: Buffer.from(secret),
      });
      return { id, label, type, residency: 'hsm' };
    }
    const privateKey = session.create({
      class: ObjectClass.PRIVATE_KEY,
      keyType: type === 'ed25519' ? CKK_EC_EDWARDS : P11KeyType.EC,
      ...residentKeyTemplate(cka, label),
      paramsECDSA: ecParams(type),
      sign: true,
      derive: false,
      value: Buffer.from(secret),
    });
    const point = type === 'ed25519' ? publicKey! : ecdsaCurve(type)!.Point.fromBytes(publicKey!).toBytes(false);
    try {
      session.create({ ...publicKeyTemplate(type, cka, label), pointEC: encodeEcPoint(point) });
    } catch (err) {
      session.destroy(privateKey);
      throw err;
    }
    return { id, label, type, publicKey: publicKey!, residency: 'hsm' };
  }

  async describe(ref: KeyRef): Promise<KeyInfo> {
    return this.#run('describe key', (session) => copyInfo(this.#locate(session, ref).info));
  }

  async list(): Promise<KeyInfo[]> {
    return this.#run('list keys', (session) =>
      this.#inventory(session)
        .map((l) => copyInfo(l.info))
        .sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)),
    );
  }

  async publicKey(ref: KeyRef): Promise<Uint8Array> {
    const info = await this.describe(ref);
    if (!info.publicKey) throw new KeyStoreError('UNSUPPORTED', `${info.type} keys have no public key`);
    return info.publicKey;
  }

  /** Runs `use` on the unwrapped secret of a software key, wiping it afterwards. */
  #withSecret<T>(session: Session, located: Located & { residency: 'software' }, use: (secret: Uint8Array) => T): T {
    const secret = this.#unwrap(session, located.record);
    try {
      return use(secret);
    } finally {
      secret.fill(0);
    }
  }

  async sign(ref: KeyRef, message: Uint8Array, options: SignOptions = {}): Promise<Uint8Array> {
    return this.#run('sign', (session) => {
      const located = this.#locate(session, ref);
      const { type, publicKey } = located.info;
      requireCapability(type, 'sign');
      if (located.residency === 'software') {
        return this.#withSecret(session, located, (secret) => signWithSecret(type, secret, message, options));
      }
      const input = signingInput(type, message, options);
      const mechanism = type === 'ed25519' ? { name: CKM_EDDSA, params: null } : 'ECDSA';
      const raw = new Uint8Array(session.createSign(mechanism, asKey(located.key)).once(Buffer.from(input)));
      let signature: Uint8Array;
      try {
        signature = normaliseLowS(type, raw);
      } catch (cause) {
        throw new KeyStoreError('SIGNATURE_FAILED', 'the HSM returned a malformed signature', { cause });
      }
      // Never release an HSM signature that does not verify (faulty token, wrong key object).
      if (!verifySignature(type, publicKey!, message, signature, options)) {
        throw new KeyStoreError('SIGNATURE_FAILED', 'the HSM signature did not verify; it was withheld');
      }
      return signature;
    });
  }

  async decapsulate(ref: KeyRef, cipherText: Uint8Array): Promise<Uint8Array> {
    return this.#run('decapsulate', (session) => {
      const located = this.#locate(session, ref);
      requireCapability(located.info.type, 'decapsulate');
      if (located.residency !== 'software') throw new KeyStoreError('UNSUPPORTED', 'X-Wing keys are never HSM-resident');
      return this.#withSecret(session, located, (secret) => decapsulateWithSecret(located.info.type, secret, cipherText));
    });
  }

  async encrypt(ref: KeyRef, plaintext: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array> {
    return this.#run('encrypt', (session) => {
      const located = this.#locate(session, ref);
      requireCapability(located.info.type, 'encrypt');
      if (located.residency === 'software') {
        return this.#withSecret(session, located, (secret) => aesGcmSeal(secret, plaintext, associatedData));
      }
      const nonce = randomBytes(GCM_NONCE);
      const params = new AesGcm240Params(nonce, Buffer.from(associatedData ?? new Uint8Array()), GCM_TAG * 8);
      const cipher = session.createCipher({ name: 'AES_GCM', params }, asKey(located.key));
      const body = cipher.once(Buffer.from(plaintext), Buffer.alloc(plaintext.length + GCM_TAG + 16));
      return new Uint8Array(Buffer.concat([nonce, body]));
    });
  }

  async decrypt(ref: KeyRef, sealed: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array> {
    return this.#run('decrypt', (session) => {
      const located = this.#locate(session, ref);
      requireCapability(located.info.type, 'decrypt');
      if (located.residency === 'software') {
        const plaintext = this.#withSecret(session, located, (secret) => aesGcmOpen(secret, sealed, associatedData));
        if (!plaintext) throw new KeyStoreError('DECRYPTION_FAILED', 'ciphertext did not authenticate');
        return plaintext;
      }
      if (sealed.length < GCM_NONCE + GCM_TAG) throw new KeyStoreError('DECRYPTION_FAILED', 'ciphertext too short');
      const params = new AesGcm240Params(
        Buffer.from(sealed.subarray(0, GCM_NONCE)),
        Buffer.from(associatedData ?? new Uint8Array()),
        GCM_TAG * 8,
      );
      try {
        const decipher = session.createDecipher({ name: 'AES_GCM', params }, asKey(located.key));
        return new Uint8Array(decipher.once(Buffer.from(sealed.subarray(GCM_NONCE)), Buffer.alloc(sealed.length)));
      } catch (err) {
        if (isConnectionLost(err)) throw err;
        throw new KeyStoreError('DECRYPTION_FAILED', 'ciphertext did not authenticate', { cause: err });
      }
    });
  }

  async exportSecret(ref: KeyRef): Promise<Uint8Array> {
    return this.#run('export secret', (session) => {
      const located = this.#locate(session, ref);
      if (located.residency === 'hsm') {
        throw new KeyStoreError('NOT_EXTRACTABLE', `key ${located.info.id} lives in the HSM and cannot be exported`);
      }
      return this.#unwrap(session, located.record);
    });
  }

  async delete(ref: KeyRef): Promise<void> {
    await this.#run('delete key', (session) => {
      const located = this.#locate(session, ref);
      // Remove every copy, including a duplicate left by an interrupted rotation.
      const objects =
        located.residency === 'software'
          ? this.#find(session, { class: ObjectClass.DATA, application: WRAPPED_KEY_APPLICATION }).filter(
              (o) => decodeWrappedKeyRecord(o.getAttribute({ value: null }).value as Buffer).id === located.info.id,
            )
          : located.objects;
      for (const object of objects) session.destroy(object);
    });
  }

  /**
   * Creates a new HSM KEK, re-wraps every software key under it, then destroys the old KEK.
   * HSM-resident keys are not wrapped and stay as they are.
   */
  async rotateKek(): Promise<void> {
    await this.#run(
      'rotate KEK',
      (session) => {
        const current = this.#currentKek(session);
        this.#createKek(session, current.generation + 1);
        this.#finishRotation(session);
      },
      'WRITE_FAILED',
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#pool.close();
    releaseModule(this.#options.module);
  }
}

// CKM_* values (PKCS#11 v2.40 §5) used to read the token's mechanism list.
const MECHANISMS = {
  EC_KEY_PAIR_GEN: 0x1040,
  ECDSA: 0x1041,
  AES_KEY_GEN: 0x1080,
  AES_GCM: 0x1087,
  AES_KEY_WRAP: 0x2109,
  AES_KEY_WRAP_PAD: 0x210a,
} as const;

function infoOfRecord(record: Omit<WrappedKeyRecord, 'wrapped' | 'kek'>): KeyInfo {
  return record.publicKey
    ? { id: record.id, label: record.label, type: record.type, publicKey: record.publicKey.slice(), residency: 'software' }
    : { id: record.id, label: record.label, type: record.type, residency: 'software' };
}

function copyInfo(info: KeyInfo): KeyInfo {
  return info.publicKey ? { ...info, publicKey: info.publicKey.slice() } : { ...info };
}
