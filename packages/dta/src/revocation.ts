/**
 * A realm's revocation list, kept from `milagro/dta/revocation` messages of the realm's MFA
 * service. Messaging authenticates `from` (the envelope's signature, checked against the PKI), so
 * only the realm's MFA service can change its list. Updates carry a sequence number per realm:
 * an update is applied once, atomically, and only when newer than the last one applied, so
 * redelivery and reordering never resurrect an old state.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { bytesToHex } from '@milagro/crypto';
import { DtaError } from './errors.js';
import { IDENTITY_HASH_LENGTH } from './grant.js';
import { decodeCanonicalMap, expectKeys, failWith, isRealmId } from './wire.js';
import type { IssuanceRepository, RevocationUpdate } from './issuance-repository.js';
import type { RealmDirectory } from './realm-directory.js';

export type { RevocationUpdate } from './issuance-repository.js';

/** Message type of revocation-list updates. */
export const REVOCATION_MESSAGE_TYPE = 'milagro/dta/revocation';
/** Most identity hashes (revoke + reinstate) in one update. */
export const MAX_REVOCATION_ENTRIES = 10_000;
const MAX_REVOCATION_BYTES = 16 + MAX_REVOCATION_ENTRIES * (IDENTITY_HASH_LENGTH + 2) + 256;

/** A message as the messenger delivers it: `from` is authenticated. */
export interface IncomingMessage {
  readonly from: string;
  readonly type: string;
  readonly body: Uint8Array;
}

/**
 * The MFA service's side: the body of a `milagro/dta/revocation` message.
 * @throws DtaError `INVALID_REQUEST` for an update {@link decodeRevocation} would refuse.
 */
export function encodeRevocation(update: RevocationUpdate): Uint8Array {
  const bytes = dagCbor.encode({ v: 1, realm: update.realm, seq: update.seq, revoke: [...update.revoke], reinstate: [...update.reinstate] });
  decodeRevocation(bytes);
  return bytes;
}

/**
 * Decodes an update strictly: canonical DAG-CBOR, exactly `{ v, realm, seq, revoke, reinstate }`,
 * 32-byte hashes, no hash twice, at most {@link MAX_REVOCATION_ENTRIES}.
 * @throws DtaError `INVALID_REQUEST` for anything else.
 */
export function decodeRevocation(bytes: Uint8Array): RevocationUpdate {
  const fail = failWith('INVALID_REQUEST', 'revocation');
  const map = decodeCanonicalMap(bytes, MAX_REVOCATION_BYTES, fail);
  expectKeys(map, ['realm', 'reinstate', 'revoke', 'seq', 'v'], fail);
  if (map['v'] !== 1) throw fail('unsupported version');
  if (!isRealmId(map['realm'])) throw fail('realm must be a realm id');
  const seq = map['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw fail('seq must be a non-negative integer');
  const revoke = hashList(map['revoke'], 'revoke', fail);
  const reinstate = hashList(map['reinstate'], 'reinstate', fail);
  if (revoke.length + reinstate.length > MAX_REVOCATION_ENTRIES) throw fail(`more than ${MAX_REVOCATION_ENTRIES} entries`);
  const seen = new Set<string>();
  for (const hash of [...revoke, ...reinstate]) {
    const key = bytesToHex(hash);
    if (seen.has(key)) throw fail('an identity hash appears twice');
    seen.add(key);
  }
  return { realm: map['realm'], seq, revoke, reinstate };
}

function hashList(value: unknown, field: string, fail: (message: string) => DtaError): Uint8Array[] {
  if (!Array.isArray(value)) throw fail(`${field} must be a list`);
  for (const hash of value) {
    if (!(hash instanceof Uint8Array) || hash.length !== IDENTITY_HASH_LENGTH) throw fail(`${field} must hold ${IDENTITY_HASH_LENGTH}-byte hashes`);
  }
  return value as Uint8Array[];
}

/** Options of {@link RevocationList}. */
export interface RevocationListOptions {
  readonly realms: RealmDirectory;
  readonly repository: IssuanceRepository;
}

/** Applies revocation messages and answers `isRevoked`. */
export class RevocationList {
  readonly #realms: RealmDirectory;
  readonly #repository: IssuanceRepository;

  constructor(options: RevocationListOptions) {
    this.#realms = options.realms;
    this.#repository = options.repository;
  }

  /**
   * Applies a `milagro/dta/revocation` message. An update not newer than the last applied is
   * ignored (redelivery is harmless).
   * @returns whether the update changed the list.
   * @throws DtaError `INVALID_REQUEST` (another type, malformed), `NOT_AUTHORISED` (not from the
   *   realm's MFA service: the caller should report it), `NOT_FOUND` / `REALM_NOT_READY` (realm).
   */
  async handleMessage(message: IncomingMessage): Promise<boolean> {
    if (message.type !== REVOCATION_MESSAGE_TYPE) throw new DtaError('INVALID_REQUEST', `not a ${REVOCATION_MESSAGE_TYPE} message`);
    const update = decodeRevocation(message.body);
    const realm = await this.#realms.activeRealm(update.realm);
    if (message.from !== realm.mfaService) {
      throw new DtaError('NOT_AUTHORISED', `revocation for realm ${update.realm} from ${message.from}, not from its MFA service`);
    }
    return this.#repository.applyRevocation(update);
  }

  /** True when the identity hash is on the realm's revocation list. */
  isRevoked(realmId: string, identityHash: Uint8Array): Promise<boolean> {
    return this.#repository.isRevoked(realmId, identityHash);
  }
}
