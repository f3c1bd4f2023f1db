/**
 * Server-secret shares s_i·Q go to one party only: the realm's MFA service, as a message over
 * `@milagro/messaging` (an envelope sealed to its identity and signed by this D-TA). The MFA service
 * combines t of them into s·Q. It may ask again with a `milagro/dta/server-share-request`, which
 * is honoured only when messaging authenticated it as coming from that same MFA service.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { issueServerShare, type MpinSuite } from '@milagro/mpin';
import { DtaError } from './errors.js';
import { decodeCanonicalMap, expectKeys, failWith, isRealmId } from './wire.js';
import type { RealmDirectory } from './realm-directory.js';
import type { IncomingMessage } from './revocation.js';

/** Message type of a server-secret share (D-TA → MFA service). */
export const SERVER_SHARE_MESSAGE_TYPE = 'milagro/dta/server-share';
/** Message type of a request to send it again (MFA service → D-TA). */
export const SERVER_SHARE_REQUEST_TYPE = 'milagro/dta/server-share-request';
/** Length of a compressed G2 point (the `modern` suite's encoding of s_i·Q). */
export const SERVER_SHARE_LENGTH = 96;

const MAX_MESSAGE_BYTES = 512;

/** One D-TA's server-secret share of a realm, for one epoch. */
export interface ServerShareMessage {
  readonly realm: string;
  readonly epoch: number;
  /** The D-TA's Shamir index in `epoch`. */
  readonly index: bigint;
  /** s_i·Q, compressed G2. */
  readonly share: Uint8Array;
}

/** Sends a message to an identity: `Messenger.send` of `@milagro/messaging`. */
export type SendMessage = (peer: string, message: { type: string; body: Uint8Array }) => Promise<unknown>;

export function encodeServerShareMessage(message: ServerShareMessage): Uint8Array {
  return dagCbor.encode({ v: 1, realm: message.realm, epoch: message.epoch, index: Number(message.index), share: message.share });
}

/**
 * The MFA service's side: decodes a server-share message body strictly. The point itself is
 * validated (curve, subgroup) when the shares are combined with `combineServerSecret`.
 * @throws DtaError `INVALID_REQUEST` for anything malformed.
 */
export function decodeServerShareMessage(bytes: Uint8Array): ServerShareMessage {
  const fail = failWith('INVALID_REQUEST', 'server share');
  const map = decodeCanonicalMap(bytes, MAX_MESSAGE_BYTES, fail);
  expectKeys(map, ['epoch', 'index', 'realm', 'share', 'v'], fail);
  if (map['v'] !== 1) throw fail('unsupported version');
  if (!isRealmId(map['realm'])) throw fail('realm must be a realm id');
  const { epoch, index, share } = map;
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) throw fail('epoch must be a non-negative integer');
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 1) throw fail('index must be a positive integer');
  if (!(share instanceof Uint8Array) || share.length !== SERVER_SHARE_LENGTH) throw fail(`share must be ${SERVER_SHARE_LENGTH} bytes`);
  return { realm: map['realm'], epoch, index: BigInt(index), share };
}

/** The MFA service's side: the body of a `milagro/dta/server-share-request`. */
export function encodeServerShareRequest(realmId: string): Uint8Array {
  if (!isRealmId(realmId)) throw new DtaError('INVALID_REQUEST', 'realm must be a realm id');
  return dagCbor.encode({ v: 1, realm: realmId });
}

/** @throws DtaError `INVALID_REQUEST` for anything but `{ v: 1, realm }`. */
export function decodeServerShareRequest(bytes: Uint8Array): { readonly realm: string } {
  const fail = failWith('INVALID_REQUEST', 'server share request');
  const map = decodeCanonicalMap(bytes, MAX_MESSAGE_BYTES, fail);
  expectKeys(map, ['realm', 'v'], fail);
  if (map['v'] !== 1) throw fail('unsupported version');
  if (!isRealmId(map['realm'])) throw fail('realm must be a realm id');
  return { realm: map['realm'] };
}

/** Options of {@link ServerShareDistributor}. */
export interface ServerShareDistributorOptions {
  readonly realms: RealmDirectory;
  readonly suite: MpinSuite;
  readonly send: SendMessage;
}

/** Sends this D-TA's server-secret shares to realms' MFA services, and again on their request. */
export class ServerShareDistributor {
  readonly #realms: RealmDirectory;
  readonly #suite: MpinSuite;
  readonly #send: SendMessage;

  constructor(options: ServerShareDistributorOptions) {
    this.#realms = options.realms;
    this.#suite = options.suite;
    this.#send = options.send;
  }

  /**
   * Sends this D-TA's current server-secret share of `realmId` to the realm's MFA service (call it
   * when the realm becomes active, and after each resharing).
   * @throws DtaError `NOT_FOUND` / `REALM_NOT_READY`; whatever `send` rejects with.
   */
  async distribute(realmId: string): Promise<void> {
    const realm = await this.#realms.activeRealm(realmId);
    const master = await this.#realms.masterShare(realmId);
    const body = encodeServerShareMessage({
      realm: realmId,
      epoch: master.epoch,
      index: master.index,
      share: issueServerShare(this.#suite, master.share),
    });
    await this.#send(realm.mfaService, { type: SERVER_SHARE_MESSAGE_TYPE, body });
  }

  /**
   * Handles a `milagro/dta/server-share-request`: sends the share again when the request comes from
   * the realm's MFA service.
   * @throws DtaError `INVALID_REQUEST` (type, body), `NOT_AUTHORISED` (from anyone else: report it),
   *   `NOT_FOUND` / `REALM_NOT_READY`.
   */
  async handleMessage(message: IncomingMessage): Promise<void> {
    if (message.type !== SERVER_SHARE_REQUEST_TYPE) throw new DtaError('INVALID_REQUEST', `not a ${SERVER_SHARE_REQUEST_TYPE} message`);
    const { realm: realmId } = decodeServerShareRequest(message.body);
    const realm = await this.#realms.activeRealm(realmId);
    if (message.from !== realm.mfaService) {
      throw new DtaError('NOT_AUTHORISED', `server-share request for realm ${realmId} from ${message.from}, not from its MFA service`);
    }
    await this.distribute(realmId);
  }
}
