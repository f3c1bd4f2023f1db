/**
 * The port through which the service authorises share issuance for a freshly activated identity.
 * `@milagro/mfa` cannot import `@milagro/dta` (same layer): the app implements it with the D-TA
 * package's `createGrant`, one grant per D-TA of the realm, signed by the service's identity.
 */

/** One grant: which D-TA honours it, where to reach it, and the token to present. */
export interface IssuedGrant {
  /** The D-TA's identity (CID string). */
  readonly dta: string;
  /** The D-TA's base URL. */
  readonly url: string;
  /** The grant token (DAG-CBOR bytes of `@milagro/dta`'s grant). */
  readonly token: Uint8Array;
}

export interface GrantIssuer {
  /** Grants for every D-TA of the realm for this M-Pin identity (client-secret purpose). */
  issue(identity: Uint8Array): Promise<readonly IssuedGrant[]>;
  /** Seconds the issued grants stay valid (reported to the client). */
  readonly lifetimeSeconds: number;
}
