/**
 * Access tokens: compact JWTs (RFC 7519) signed with EdDSA/Ed25519 (RFC 8037) by a dedicated
 * `ed25519` key in the service's key store, published as a JWKS. A dedicated key, not the Ed25519
 * half of the service's composite identity key: the token key rotates on its own schedule, and a
 * signature made for a JWT must never be usable as (half of) a signature on anything else.
 */
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { base64urlToBytes, bytesToBase64url, bytesToUtf8, sha256, utf8ToBytes } from '@milagro/crypto';
import type { KeyStore } from '@milagro/keystore';

/** Signs token bytes with one Ed25519 key (software, file or HSM key store). */
export interface AccessTokenSigner {
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** RFC 7638 JWK thumbprint of the public key. */
  readonly kid: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** A public key in a JWKS. */
export interface Ed25519Jwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

/** Label of the token key the service creates by default. */
export const DEFAULT_TOKEN_KEY_LABEL = 'mfa/token/0';

/**
 * The token signer over a key-store key: uses the `ed25519` key under `label`, generating it first
 * when the store has none (so a fresh deployment needs no key ceremony; an HSM store generates it
 * inside the token).
 */
export async function keyStoreTokenSigner(keyStore: KeyStore, label: string = DEFAULT_TOKEN_KEY_LABEL): Promise<AccessTokenSigner> {
  let publicKey: Uint8Array;
  try {
    const info = await keyStore.describe({ label });
    if (info.type !== 'ed25519' || info.publicKey === undefined) throw new Error(`key store: "${label}" is not an ed25519 key`);
    publicKey = info.publicKey;
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'NOT_FOUND') throw error;
    const info = await keyStore.generate('ed25519', { label });
    publicKey = info.publicKey as Uint8Array;
  }
  return { publicKey, kid: jwkThumbprint(publicKey), sign: (message) => keyStore.sign({ label }, message) };
}

/** RFC 7638 thumbprint of an Ed25519 public key: SHA-256 of its canonical JWK, base64url. */
export function jwkThumbprint(publicKey: Uint8Array): string {
  return bytesToBase64url(sha256(utf8ToBytes(`{"crv":"Ed25519","kty":"OKP","x":"${bytesToBase64url(publicKey)}"}`)));
}

/** The JWK of a signer's public key. */
export function publicJwk(signer: Pick<AccessTokenSigner, 'publicKey' | 'kid'>): Ed25519Jwk {
  return { kty: 'OKP', crv: 'Ed25519', x: bytesToBase64url(signer.publicKey), kid: signer.kid, alg: 'EdDSA', use: 'sig' };
}

const encodeJson = (value: unknown): string => bytesToBase64url(utf8ToBytes(JSON.stringify(value)));

/** Signs `claims` as a compact JWS with header `{ alg: 'EdDSA', typ, kid }`. */
export async function signJwt(signer: AccessTokenSigner, claims: Record<string, unknown>, typ = 'JWT'): Promise<string> {
  const signingInput = `${encodeJson({ alg: 'EdDSA', typ, kid: signer.kid })}.${encodeJson(claims)}`;
  const signature = await signer.sign(utf8ToBytes(signingInput));
  return `${signingInput}.${bytesToBase64url(signature)}`;
}

/** Claims of an access token the service issued. */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud?: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly amr: readonly string[];
}

/** Longest token accepted for verification (ours are ~400 characters). */
const MAX_TOKEN_LENGTH = 4096;

/**
 * Verifies a compact JWT against Ed25519 JWKs: the header must be `EdDSA` with a known `kid`, the
 * signature valid, `exp` in the future and `iss` (and `aud`, when given) as expected. Undefined for
 * every failure. Revocation (logout) is the service's business, not this function's.
 */
export function verifyJwt(
  token: string,
  keys: readonly Ed25519Jwk[],
  expected: { readonly issuer: string; readonly audience?: string | undefined; readonly nowSeconds: number; readonly typ?: string },
): AccessTokenClaims | undefined {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  try {
    const header = JSON.parse(bytesToUtf8(base64urlToBytes(headerPart))) as Record<string, unknown>;
    if (header.alg !== 'EdDSA' || header.typ !== (expected.typ ?? 'JWT') || typeof header.kid !== 'string') return undefined;
    const jwk = keys.find((key) => key.kid === header.kid);
    if (jwk === undefined) return undefined;
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
    const valid = verifySignature(null, utf8ToBytes(`${headerPart}.${payloadPart}`), publicKey, base64urlToBytes(signaturePart));
    if (!valid) return undefined;
    const claims = JSON.parse(bytesToUtf8(base64urlToBytes(payloadPart))) as Record<string, unknown>;
    if (claims.iss !== expected.issuer || typeof claims.sub !== 'string' || typeof claims.jti !== 'string') return undefined;
    if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || claims.exp <= expected.nowSeconds) return undefined;
    if (expected.audience !== undefined && claims.aud !== expected.audience) return undefined;
    return claims as unknown as AccessTokenClaims;
  } catch {
    return undefined;
  }
}
