/**
 * What a device keeps, and where. A store holds one {@link StoredCredential} (one device of one user):
 * the pending registration until a PIN is set, then the device's M-Pin identity and token. Never the
 * PIN, never the client secret: the token alone proves nothing without the PIN, and the PIN alone
 * nothing without the token. Byte strings are unpadded base64url so that every store keeps plain JSON.
 */
import { MfaClientError } from './client-errors.js';

/** The realm as the service describes it at activation. */
export interface RealmInfo {
  readonly id: string;
  readonly threshold: number;
  /** The M-Pin codec: `modern` or `milagro-v3`. */
  readonly suite: 'modern' | 'milagro-v3';
  readonly pinDigits: number;
}

/** A registration between `register` and `setPin`. */
export interface PendingRegistration {
  readonly userId: string;
  readonly deviceName: string;
  /** The device's registration secret (activation and grant re-issue need it); dropped once the PIN is set. */
  readonly secret: string;
  readonly reference: string;
  /** Unix seconds. */
  readonly expiresAt: number;
  readonly activation: 'code' | 'approval';
  /** Set once activated: the M-Pin identity (base64url) and realm, waiting for a PIN. */
  readonly identity?: string;
  readonly realm?: RealmInfo;
  /** The service accepted the activation (grants may still be missing). */
  readonly activated?: boolean;
}

/** A device ready to log in. */
export interface DeviceCredential {
  readonly userId: string;
  readonly deviceName: string;
  /** The M-Pin identity (base64url), opaque. */
  readonly identity: string;
  /** token = CS − PIN·H(ID) (base64url G1 point). */
  readonly token: string;
  readonly realm: RealmInfo;
  /** Unix seconds. */
  readonly activatedAt: number;
}

/** Everything one store keeps (format version 1). */
export interface StoredCredential {
  readonly v: 1;
  /** The device that logs in now, if any. */
  readonly device?: DeviceCredential;
  /** A registration in progress (re-registration keeps `device` working until it completes). */
  readonly registration?: PendingRegistration;
}

/** Where a client keeps its credential: IndexedDB in a browser, a 0600 file on Node, memory in tests. */
export interface CredentialStore {
  /** The stored credential, or `undefined` when there is none. */
  load(): Promise<StoredCredential | undefined>;
  /** Replaces the stored credential atomically (all or nothing). */
  save(credential: StoredCredential): Promise<void>;
  /** Removes it. */
  clear(): Promise<void>;
}

/** A store in memory: for tests and for applications that keep nothing between runs. */
export class MemoryCredentialStore implements CredentialStore {
  #json: string | undefined;

  async load(): Promise<StoredCredential | undefined> {
    return this.#json === undefined ? undefined : parseCredential(this.#json);
  }

  async save(credential: StoredCredential): Promise<void> {
    this.#json = serializeCredential(credential);
  }

  async clear(): Promise<void> {
    this.#json = undefined;
  }
}

/** The credential as JSON text (what file stores write). */
export function serializeCredential(credential: StoredCredential): string {
  return JSON.stringify(checkCredential(credential));
}

/**
 * Reads JSON text written by {@link serializeCredential}.
 * @throws MfaClientError `CREDENTIAL_UNREADABLE` for anything else.
 */
export function parseCredential(text: string): StoredCredential {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw unreadable();
  }
  return checkCredential(value);
}

function unreadable(): MfaClientError {
  return new MfaClientError('CREDENTIAL_UNREADABLE', 'the stored credential is not a version-1 MFA credential');
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** @internal A realm description as the service sends it, or undefined. */
export function realmInfo(value: unknown): RealmInfo | undefined {
  if (!isRecord(value) || !isText(value.id) || !isCount(value.threshold) || value.threshold < 1 || !isCount(value.pinDigits)) return undefined;
  if (value.suite !== 'modern' && value.suite !== 'milagro-v3') return undefined;
  return { id: value.id, threshold: value.threshold, suite: value.suite, pinDigits: value.pinDigits };
}

/**
 * Structural check of a credential (whatever a store returns goes through it).
 * @throws MfaClientError `CREDENTIAL_UNREADABLE`.
 */
export function checkCredential(value: unknown): StoredCredential {
  if (!isRecord(value) || value.v !== 1) throw unreadable();
  const { device, registration } = value;
  if (device !== undefined) {
    if (!isRecord(device) || !isText(device.userId) || !isText(device.deviceName) || !isText(device.identity) || !isText(device.token)) throw unreadable();
    if (realmInfo(device.realm) === undefined || !isCount(device.activatedAt)) throw unreadable();
  }
  if (registration !== undefined) {
    const r = registration;
    if (!isRecord(r) || !isText(r.userId) || !isText(r.deviceName) || !isText(r.secret) || !isText(r.reference) || !isCount(r.expiresAt)) throw unreadable();
    if (r.activation !== 'code' && r.activation !== 'approval') throw unreadable();
    if (r.identity !== undefined && !isText(r.identity)) throw unreadable();
    if (r.realm !== undefined && realmInfo(r.realm) === undefined) throw unreadable();
    if (r.activated !== undefined && typeof r.activated !== 'boolean') throw unreadable();
  }
  return value as unknown as StoredCredential;
}
