/**
 * What issuance needs to know about a realm, and nothing more. Implemented by the realm service
 * (realm-service.ts), which runs the DKG and resharing and keeps this D-TA's master-secret share in
 * the key store.
 */

/** The public, agreed definition of a realm: identical at every member D-TA. */
export interface RealmDefinition {
  /** 1–63 characters of `[a-z0-9-]`, starting with a letter or digit. */
  readonly realmId: string;
  /** The member D-TAs' identities (CID strings). Shamir index of `members[i]` is `i + 1`. */
  readonly members: readonly string[];
  /** t: any t members issue; 1 <= t <= members.length. */
  readonly threshold: number;
  /** The realm's MFA service identity (CID string): the only signer of grants and revocations, the only receiver of server-secret shares. */
  readonly mfaService: string;
  /** Time permits are issued for days in [today - 1, today + permitHorizonDays]. */
  readonly permitHorizonDays: number;
  /** Longest grant lifetime accepted (expires - now), in minutes. */
  readonly grantMaxLifetimeMinutes: number;
}

/** A realm whose DKG (or latest resharing) completed at this D-TA. */
export interface ActiveRealm extends RealmDefinition {
  /** 0 after the DKG, +1 per resharing. */
  readonly epoch: number;
  /** This D-TA's Shamir index in the current epoch. */
  readonly index: bigint;
  /** s·G1, compressed (48 bytes). Public: it does not reveal the server secret s·Q. */
  readonly groupPublicKey: Uint8Array;
}

/** This D-TA's share of a realm's master secret. Secret: never log, never return over HTTP. */
export interface MasterShare {
  readonly epoch: number;
  readonly index: bigint;
  /** s_i as a 32-byte big-endian scalar (the `modern` M-Pin suite's encoding). */
  readonly share: Uint8Array;
}

export interface RealmDirectory {
  /** This D-TA's identity (CID string): the audience grants must name. */
  readonly self: string;
  /** The realm, if active here. Rejects `NOT_FOUND` (unknown) or `REALM_NOT_READY` (not active). */
  activeRealm(realmId: string): Promise<ActiveRealm>;
  /** This D-TA's current master-secret share of an active realm (same errors). */
  masterShare(realmId: string): Promise<MasterShare>;
}
