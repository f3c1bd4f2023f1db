/**
 * Grant-authorised issuance of M-Pin shares from this D-TA's share of a realm's master secret:
 * client-secret shares s_i·H(ID) (optionally sealed to a key the client supplies) and time-permit
 * shares s_i·H_permit(day, ID). Every issuance needs a grant of the realm's MFA service for this
 * D-TA, this identity and this purpose, used once. The service also handles the realm's
 * revocation messages and server-share requests (see {@link IssuanceService.handleMessage}).
 */
import { sha256 } from '@milagro/crypto';
import { issueClientShare, issueTimePermitShare, type MpinSuite } from '@milagro/mpin';
import { DtaError } from './errors.js';
import { grantCoversIdentity, isDay, verifyGrant, type Grant, type GrantPurpose, type SigningKeyResolver } from './grant.js';
import type { IssuanceRepository } from './issuance-repository.js';
import type { ActiveRealm, RealmDirectory } from './realm-directory.js';
import { REVOCATION_MESSAGE_TYPE, RevocationList, type IncomingMessage } from './revocation.js';
import { sealShare, type SealedShare } from './sealed-share.js';
import { isRealmId } from './wire.js';
import { SERVER_SHARE_REQUEST_TYPE, ServerShareDistributor, type SendMessage } from './server-share.js';

/** Longest M-Pin identity accepted, in bytes. */
export const MAX_IDENTITY_BYTES = 1024;
const DAY_MS = 86_400_000;
/** Used nonces are kept this long past their grant's expiry, for replicas whose clocks lag. */
const NONCE_RETENTION_SECONDS = 600;
/** At most one pruning of used nonces per this many ms. */
const PRUNE_INTERVAL_MS = 3_600_000;

/** Options of {@link IssuanceService}. */
export interface IssuanceServiceOptions {
  readonly realms: RealmDirectory;
  readonly repository: IssuanceRepository;
  /** Resolves the MFA service's current keys: an `IdentityResolver` of `@milagro/pki`. */
  readonly resolver: SigningKeyResolver;
  /** The M-Pin suite (`modern`; on the mcl backend for throughput). */
  readonly suite: MpinSuite;
  /** Sends messages (server-secret shares); required for {@link IssuanceService.distributeServerShare} and share requests. */
  readonly send?: SendMessage;
  /** Clock in ms; default `Date.now`. */
  readonly now?: () => number;
}

/** Where a share comes from: combine shares of one realm and epoch by `index`. */
export interface ShareOrigin {
  readonly realmId: string;
  readonly epoch: number;
  /** This D-TA's Shamir index. */
  readonly index: bigint;
}

/** A client-secret share, in clear or sealed to the client's key. */
export type ClientShareResult = ShareOrigin & ({ readonly share: Uint8Array } | { readonly sealed: SealedShare });

export interface TimePermitShareResult extends ShareOrigin {
  readonly day: number;
  readonly share: Uint8Array;
}

export interface ClientShareRequest {
  readonly realmId: string;
  /** The grant token (purpose `client-secret`). */
  readonly grant: Uint8Array;
  /** The M-Pin identity; its SHA-256 must be the grant's identity hash. */
  readonly identity: Uint8Array;
  /** An X-Wing public key (1216 bytes): return the share sealed to it. */
  readonly sealTo?: Uint8Array;
}

export interface TimePermitShareRequest {
  readonly realmId: string;
  /** The grant token (purpose `time-permit`, the same day). */
  readonly grant: Uint8Array;
  readonly identity: Uint8Array;
  /** Days since 1970-01-01 UTC; within [today − 1, today + the realm's horizon]. */
  readonly day: number;
}

export class IssuanceService {
  readonly #realms: RealmDirectory;
  readonly #repository: IssuanceRepository;
  readonly #resolver: SigningKeyResolver;
  readonly #suite: MpinSuite;
  readonly #now: () => number;
  readonly #revocations: RevocationList;
  readonly #serverShares: ServerShareDistributor | undefined;
  #lastPrune = 0;

  constructor(options: IssuanceServiceOptions) {
    this.#realms = options.realms;
    this.#repository = options.repository;
    this.#resolver = options.resolver;
    this.#suite = options.suite;
    this.#now = options.now ?? Date.now;
    this.#revocations = new RevocationList({ realms: options.realms, repository: options.repository });
    this.#serverShares =
      options.send === undefined ? undefined : new ServerShareDistributor({ realms: options.realms, suite: options.suite, send: options.send });
  }

  /**
   * Issues this D-TA's share of `identity`'s client secret.
   * @throws DtaError `INVALID_REQUEST` (malformed identity or `sealTo`), `NOT_FOUND` /
   *   `REALM_NOT_READY` (realm), the grant errors of {@link verifyGrant}, `GRANT_INVALID` (purpose,
   *   identity), `IDENTITY_REVOKED`, `GRANT_REPLAYED`.
   */
  async issueClientShare(request: ClientShareRequest): Promise<ClientShareResult> {
    checkIdentity(request.identity);
    const { realm, grant } = await this.#authorise(request, 'client-secret');
    const master = await this.#realms.masterShare(realm.realmId);
    const share = issueClientShare(this.#suite, master.share, request.identity);
    const origin = { realmId: realm.realmId, epoch: master.epoch, index: master.index };
    if (request.sealTo === undefined) return { ...origin, share };
    const sealed = await sealShare(request.sealTo, share, { ...origin, dta: this.#realms.self, identityHash: grant.identityHash });
    return { ...origin, sealed };
  }

  /**
   * Issues this D-TA's share of `identity`'s time permit for `day`.
   * @throws DtaError as {@link issueClientShare}, and `PERMIT_BEYOND_HORIZON` for a day outside
   *   [today − 1, today + the realm's `permitHorizonDays`].
   */
  async issueTimePermitShare(request: TimePermitShareRequest): Promise<TimePermitShareResult> {
    checkIdentity(request.identity);
    if (!isDay(request.day)) throw new DtaError('INVALID_REQUEST', 'day must be an integer in [1, 2^32)');
    const { realm } = await this.#authorise(request, 'time-permit');
    const master = await this.#realms.masterShare(realm.realmId);
    const share = issueTimePermitShare(this.#suite, master.share, request.day, request.identity);
    return { realmId: realm.realmId, epoch: master.epoch, index: master.index, day: request.day, share };
  }

  /** Sends this D-TA's server-secret share of an active realm to its MFA service. */
  async distributeServerShare(realmId: string): Promise<void> {
    await this.#distributor().distribute(realmId);
  }

  /**
   * Handles `milagro/dta/revocation` and `milagro/dta/server-share-request` messages. Idempotent.
   * @throws DtaError `NOT_AUTHORISED` for a message not from the realm's MFA service (report it),
   *   `INVALID_REQUEST` for a malformed message or another type, realm errors.
   */
  async handleMessage(message: IncomingMessage): Promise<void> {
    if (message.type === REVOCATION_MESSAGE_TYPE) await this.#revocations.handleMessage(message);
    else if (message.type === SERVER_SHARE_REQUEST_TYPE) await this.#distributor().handleMessage(message);
    else throw new DtaError('INVALID_REQUEST', `issuance does not handle ${message.type} messages`);
  }

  /** True when the identity hash is on the realm's revocation list. */
  isRevoked(realmId: string, identityHash: Uint8Array): Promise<boolean> {
    return this.#revocations.isRevoked(realmId, identityHash);
  }

  /** Forgets used nonces of grants long expired (also done at most hourly during issuance). */
  async pruneUsedGrants(): Promise<number> {
    this.#lastPrune = this.#now();
    return this.#repository.pruneGrantNonces(Math.floor(this.#lastPrune / 1000) - NONCE_RETENTION_SECONDS);
  }

  #distributor(): ServerShareDistributor {
    if (this.#serverShares === undefined) throw new DtaError('INVALID_REQUEST', 'this issuance service was built without `send`');
    return this.#serverShares;
  }

  /**
   * Everything a share needs before it is computed: the grant verifies, is for this purpose and
   * identity (and day), the identity is not revoked, and then (last, so a refused request does not
   * burn the grant) its nonce is consumed.
   */
  async #authorise(
    request: { realmId: string; grant: Uint8Array; identity: Uint8Array; day?: number },
    purpose: GrantPurpose,
  ): Promise<{ realm: ActiveRealm; grant: Grant }> {
    if (!isRealmId(request.realmId)) throw new DtaError('INVALID_REQUEST', 'realm must be a realm id');
    if (!(request.grant instanceof Uint8Array)) throw new DtaError('INVALID_REQUEST', 'grant must be bytes');
    const realm = await this.#realms.activeRealm(request.realmId);
    const now = this.#now();
    const { grant } = await verifyGrant(request.grant, { realm, self: this.#realms.self, resolver: this.#resolver, now });
    if (grant.purpose !== purpose) throw new DtaError('GRANT_INVALID', `grant is for a ${grant.purpose}, not a ${purpose}`);
    if (!grantCoversIdentity(grant, request.identity)) throw new DtaError('GRANT_INVALID', 'grant is for another identity');
    if (purpose === 'time-permit') {
      if (grant.day !== request.day) throw new DtaError('GRANT_INVALID', 'grant is for another day');
      const today = Math.floor(now / DAY_MS);
      if (request.day! < today - 1 || request.day! > today + realm.permitHorizonDays) {
        throw new DtaError('PERMIT_BEYOND_HORIZON', `time permits are issued for days ${today - 1} to ${today + realm.permitHorizonDays}`);
      }
    }
    if (await this.#repository.isRevoked(realm.realmId, grant.identityHash)) throw new DtaError('IDENTITY_REVOKED', 'identity is revoked in this realm');
    if (now - this.#lastPrune >= PRUNE_INTERVAL_MS) await this.pruneUsedGrants();
    if (!(await this.#repository.consumeGrantNonce(realm.realmId, grant.nonce, grant.expires))) {
      throw new DtaError('GRANT_REPLAYED', 'grant was already used');
    }
    return { realm, grant };
  }
}

function checkIdentity(identity: Uint8Array): void {
  if (!(identity instanceof Uint8Array) || identity.length === 0 || identity.length > MAX_IDENTITY_BYTES) {
    throw new DtaError('INVALID_REQUEST', `identity must be 1 to ${MAX_IDENTITY_BYTES} bytes`);
  }
}

/** SHA-256 of an M-Pin identity: what grants and revocation lists name. */
export function identityHash(identity: Uint8Array): Uint8Array {
  return sha256(identity);
}
