/**
 * Grants: what a realm's MFA service signs to authorise one issuance by one D-TA. A grant names
 * its purpose, realm, audience D-TA, the SHA-256 of the M-Pin identity, an expiry a few minutes
 * ahead and a random nonce; the D-TA accepts each nonce once. The token is deterministic DAG-CBOR
 * `{ grant, sig }`, `sig` a composite (Ed25519 + ML-DSA-65) signature by the MFA service over the
 * grant's own encoding, so neither a shared key (the Python D-TA's HMAC) nor a replay authorises
 * anything.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { COMPOSITE_SIGNATURE_LENGTHS, compositeVerify, constantTimeEqual, randomBytes, sha256 } from '@milagro/crypto';
import { isPkiError } from '@milagro/pki';
import { DtaError } from './errors.js';
import type { ActiveRealm } from './realm-directory.js';
import { asMap, decodeCanonicalMap, expectKeys, failWith, isIdentityId, isRealmId } from './wire.js';

/** What a grant authorises: a client-secret share or a time-permit share. */
export type GrantPurpose = 'client-secret' | 'time-permit';

/** The signed part of a grant token. */
export interface Grant {
  readonly v: 1;
  readonly purpose: GrantPurpose;
  readonly realm: string;
  /** The D-TA the grant is for (identity CID string). */
  readonly audience: string;
  /** SHA-256 of the M-Pin identity bytes (32 bytes). */
  readonly identityHash: Uint8Array;
  /** Time permits only: the permit's day (days since 1970-01-01 UTC). */
  readonly day?: number;
  /** Unix seconds. */
  readonly expires: number;
  /** 16 random bytes; accepted once per realm. */
  readonly nonce: Uint8Array;
  /** The signer: the realm's MFA service (identity CID string). */
  readonly issuer: string;
}

/** A decoded grant token: the grant and the issuer's composite signature over {@link grantSignedBytes}. */
export interface GrantToken {
  readonly grant: Grant;
  readonly sig: Uint8Array;
}

/** Signs as an identity: what `identitySigner(owned, keyStore)` of `@milagro/pki` returns. */
export interface GrantSigner {
  readonly id: string;
  sign(message: Uint8Array, context: Uint8Array): Promise<Uint8Array>;
}

/** Resolves an identity to its current signing key: an `IdentityResolver` of `@milagro/pki`. */
export interface SigningKeyResolver {
  resolve(id: string): Promise<{ readonly keys: { readonly sign: Uint8Array } }>;
}

/** Composite-signature context of grants. */
export const GRANT_SIGNATURE_CONTEXT = 'milagro/dta/grant/v1';
/** Largest grant token accepted (a token is ~3.6 KB, nearly all of it the ML-DSA-65 signature). */
export const MAX_GRANT_TOKEN_BYTES = 4096;
export const GRANT_NONCE_LENGTH = 16;
export const IDENTITY_HASH_LENGTH = 32;
/** Default lifetime of {@link createGrant}'s grants. */
export const DEFAULT_GRANT_LIFETIME_SECONDS = 300;

const CONTEXT_BYTES = new TextEncoder().encode(GRANT_SIGNATURE_CONTEXT);
const MAX_DAY = 0xffffffff;

/** Options of {@link createGrant}. */
export interface CreateGrantOptions {
  /** The realm's MFA service: `identitySigner(owned, keyStore)`. */
  readonly signer: GrantSigner;
  readonly purpose: GrantPurpose;
  readonly realm: string;
  /** The D-TA that will honour the grant (identity CID string). */
  readonly audience: string;
  /** The M-Pin identity (hashed into the grant). */
  readonly identity: Uint8Array;
  /** Required for (and only for) `time-permit`. */
  readonly day?: number;
  /** Seconds until expiry; default {@link DEFAULT_GRANT_LIFETIME_SECONDS}. Must not exceed the realm's `grantMaxLifetimeMinutes`. */
  readonly lifetimeSeconds?: number;
  /** Clock in ms; default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The MFA service's side: a signed grant token, ready to hand to the client (one per D-TA: the
 * audience differs).
 * @throws DtaError `INVALID_REQUEST` for malformed options.
 */
export async function createGrant(options: CreateGrantOptions): Promise<Uint8Array> {
  const now = (options.now ?? Date.now)();
  const lifetime = options.lifetimeSeconds ?? DEFAULT_GRANT_LIFETIME_SECONDS;
  if (!Number.isSafeInteger(lifetime) || lifetime < 1) throw new DtaError('INVALID_REQUEST', 'lifetimeSeconds must be a positive integer');
  if (!(options.identity instanceof Uint8Array)) throw new DtaError('INVALID_REQUEST', 'identity must be bytes');
  const grant: Grant = {
    v: 1,
    purpose: options.purpose,
    realm: options.realm,
    audience: options.audience,
    identityHash: sha256(options.identity),
    ...(options.day === undefined ? {} : { day: options.day }),
    expires: Math.floor(now / 1000) + lifetime,
    nonce: randomBytes(GRANT_NONCE_LENGTH),
    issuer: options.signer.id,
  };
  checkGrant(grant, (message) => new DtaError('INVALID_REQUEST', message));
  const sig = await options.signer.sign(grantSignedBytes(grant), CONTEXT_BYTES);
  return encodeGrantToken({ grant, sig });
}

/** The bytes the issuer signs: the grant's deterministic DAG-CBOR encoding. */
export function grantSignedBytes(grant: Grant): Uint8Array {
  return dagCbor.encode(grantValue(grant));
}

/** Deterministic DAG-CBOR of a token. */
export function encodeGrantToken(token: GrantToken): Uint8Array {
  return dagCbor.encode({ grant: grantValue(token.grant), sig: token.sig });
}

/**
 * Decodes a token strictly: at most {@link MAX_GRANT_TOKEN_BYTES}, canonical DAG-CBOR, exactly the
 * fields of its purpose with their types and lengths. Verifies nothing; see {@link verifyGrant}.
 * @throws DtaError `GRANT_INVALID` for anything else.
 */
export function decodeGrantToken(bytes: Uint8Array): GrantToken {
  const fail = failWith('GRANT_INVALID', 'grant token');
  const token = decodeCanonicalMap(bytes, MAX_GRANT_TOKEN_BYTES, fail);
  expectKeys(token, ['grant', 'sig'], fail);
  const sig = token['sig'];
  if (!(sig instanceof Uint8Array) || sig.length !== COMPOSITE_SIGNATURE_LENGTHS.signature) throw fail('sig must be a composite signature');
  const map = asMap(token['grant'], fail);
  expectKeys(map, map['purpose'] === 'time-permit' ? TIME_PERMIT_KEYS : CLIENT_SECRET_KEYS, fail);
  const grant = map as unknown as Grant;
  checkGrant(grant, fail);
  return { grant: { ...grant }, sig };
}

/** What {@link verifyGrant} checks a grant against. */
export interface VerifyGrantOptions {
  /** The realm the request names. */
  readonly realm: ActiveRealm;
  /** This D-TA's identity (CID string). */
  readonly self: string;
  readonly resolver: SigningKeyResolver;
  /** Now, in ms since the epoch. */
  readonly now: number;
}

/**
 * Verifies a grant token, in this order: decode; realm; issuer is the realm's MFA service;
 * audience is this D-TA; expiry in the future and not further ahead than the realm allows; the
 * issuer's signature under its current keys. Does not consume the nonce: the caller does, after
 * this succeeds, so forged grants cannot burn nonces.
 * @throws DtaError `GRANT_INVALID` (malformed, another realm or issuer, lifetime too long, bad
 *   signature, issuer revoked, forked or with a broken chain), `GRANT_WRONG_AUDIENCE`, `GRANT_EXPIRED`,
 *   `DEPENDENCY_UNAVAILABLE` (the issuer's documents could not be fetched now).
 */
export async function verifyGrant(token: Uint8Array, options: VerifyGrantOptions): Promise<GrantToken> {
  const decoded = decodeGrantToken(token);
  const { grant } = decoded;
  const { realm } = options;
  if (grant.realm !== realm.realmId) throw new DtaError('GRANT_INVALID', 'grant names another realm');
  if (grant.issuer !== realm.mfaService) throw new DtaError('GRANT_INVALID', "grant is not issued by the realm's MFA service");
  if (grant.audience !== options.self) throw new DtaError('GRANT_WRONG_AUDIENCE', 'grant is addressed to another D-TA');
  const nowSeconds = options.now / 1000;
  if (grant.expires <= nowSeconds) throw new DtaError('GRANT_EXPIRED', 'grant has expired');
  if (grant.expires - nowSeconds > realm.grantMaxLifetimeMinutes * 60) {
    throw new DtaError('GRANT_INVALID', `grant lives longer than the realm's ${realm.grantMaxLifetimeMinutes} minutes`);
  }
  let signingKey: Uint8Array;
  try {
    signingKey = (await options.resolver.resolve(grant.issuer)).keys.sign;
  } catch (cause) {
    // A document that could not be fetched (IPFS slow or down) says nothing about the grant: the
    // client may retry, and the nonce is untouched. Revoked, forked or broken chains are final.
    if (!isPkiError(cause) || cause.code === 'NOT_FOUND') {
      throw new DtaError('DEPENDENCY_UNAVAILABLE', "the grant issuer's identity documents could not be fetched; retry later", { cause });
    }
    throw new DtaError('GRANT_INVALID', 'grant issuer does not resolve to current keys', { cause });
  }
  let valid: boolean;
  try {
    valid = compositeVerify(signingKey, grantSignedBytes(grant), decoded.sig, CONTEXT_BYTES);
  } catch (cause) {
    throw new DtaError('GRANT_INVALID', 'grant signature does not verify', { cause });
  }
  if (!valid) throw new DtaError('GRANT_INVALID', 'grant signature does not verify');
  return decoded;
}

/** True when `identity` hashes to the grant's identity hash (constant time). */
export function grantCoversIdentity(grant: Grant, identity: Uint8Array): boolean {
  return constantTimeEqual(sha256(identity), grant.identityHash);
}

const CLIENT_SECRET_KEYS = ['audience', 'expires', 'identityHash', 'issuer', 'nonce', 'purpose', 'realm', 'v'];
const TIME_PERMIT_KEYS = ['audience', 'day', 'expires', 'identityHash', 'issuer', 'nonce', 'purpose', 'realm', 'v'];

function grantValue(grant: Grant): Record<string, unknown> {
  return {
    v: grant.v,
    purpose: grant.purpose,
    realm: grant.realm,
    audience: grant.audience,
    identityHash: grant.identityHash,
    ...(grant.day === undefined ? {} : { day: grant.day }),
    expires: grant.expires,
    nonce: grant.nonce,
    issuer: grant.issuer,
  };
}

function checkGrant(grant: Grant, fail: (message: string) => DtaError): void {
  if (grant.v !== 1) throw fail('unsupported version');
  if (grant.purpose !== 'client-secret' && grant.purpose !== 'time-permit') throw fail('unknown purpose');
  if (!isRealmId(grant.realm)) throw fail('realm must be a realm id');
  if (!isIdentityId(grant.audience)) throw fail('audience must be an identity CID string');
  if (!isIdentityId(grant.issuer)) throw fail('issuer must be an identity CID string');
  if (!isBytes(grant.identityHash, IDENTITY_HASH_LENGTH)) throw fail(`identityHash must be ${IDENTITY_HASH_LENGTH} bytes`);
  if (!isBytes(grant.nonce, GRANT_NONCE_LENGTH)) throw fail(`nonce must be ${GRANT_NONCE_LENGTH} bytes`);
  if (!Number.isSafeInteger(grant.expires) || grant.expires < 1) throw fail('expires must be a positive integer (unix seconds)');
  if (grant.purpose === 'time-permit') {
    if (!isDay(grant.day)) throw fail('a time-permit grant needs a day in [1, 2^32)');
  } else if (grant.day !== undefined) {
    throw fail('only time-permit grants name a day');
  }
}

/** True for a day number both M-Pin codecs accept. */
export function isDay(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= MAX_DAY;
}

function isBytes(value: unknown, length: number): value is Uint8Array {
  return value instanceof Uint8Array && value.length === length;
}
