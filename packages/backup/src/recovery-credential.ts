/**
 * The owner's recovery credential: a random secret kept offline (shown once), from which a
 * composite Ed25519 + ML-DSA-65 key is derived. Its public key goes into every backup manifest; to
 * restore, the owner signs a recovery proof naming the restoring node's identity and KEM key, and
 * each fiduciary checks that proof before releasing its share, sealed to that key.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { compositeKeyPairFromSeed, compositeSign, compositeVerify, hkdf, randomBytes, sha256 } from '@milagro/crypto';
import type { CID } from 'multiformats/cid';
import { RECOVERY_PROOF_CONTEXT } from './constants.js';
import { BackupError } from './errors.js';

const PREFIX = 'milagro-recovery-1-';
const SALT = new TextEncoder().encode('milagro/backup/recovery-key/v1');
const INFO = new TextEncoder().encode('composite seed');
const CONTEXT = new TextEncoder().encode(RECOVERY_PROOF_CONTEXT);

/** A recovery secret's public side, as manifests carry it. */
export interface RecoveryPublicKey {
  /** Composite public key: Ed25519 (32) ‖ ML-DSA-65 (1952). */
  readonly publicKey: Uint8Array;
}

/** A new recovery secret: 32 random bytes as text (`milagro-recovery-1-<base64url>`). Show it once. */
export function generateRecoverySecret(): string {
  return `${PREFIX}${Buffer.from(randomBytes(32)).toString('base64url')}`;
}

function seedOf(secret: string): Uint8Array {
  const text = typeof secret === 'string' ? secret.trim() : '';
  if (!text.startsWith(PREFIX)) throw new BackupError('INVALID_ARGUMENT', `a recovery secret starts with ${PREFIX}`);
  const raw = Buffer.from(text.slice(PREFIX.length), 'base64url');
  if (raw.length !== 32 || raw.toString('base64url') !== text.slice(PREFIX.length)) throw new BackupError('INVALID_ARGUMENT', 'a recovery secret holds 32 bytes in base64url');
  return hkdf('SHA-256', raw, SALT, INFO, 32);
}

/** The composite public key of a recovery secret (what manifests carry). */
export function recoveryPublicKey(secret: string): Uint8Array {
  return compositeKeyPairFromSeed(seedOf(secret)).publicKey;
}

/** What a recovery proof binds: one manifest, one requester identity and its KEM key, one moment. */
export interface RecoveryClaim {
  /** The manifest of the backup to restore. */
  readonly manifest: CID;
  /** The restoring node's (temporary) identity. */
  readonly requester: string;
  /** The requester's X-Wing public key: releases are sealed to it. */
  readonly requesterKem: Uint8Array;
  /** When the proof was made (ms since the epoch). */
  readonly issued: number;
}

function claimBytes(claim: RecoveryClaim): Uint8Array {
  return dagCbor.encode({
    type: 'milagro/backup/recovery-proof',
    manifest: claim.manifest,
    requester: claim.requester,
    kem: sha256(claim.requesterKem),
    issued: claim.issued,
  });
}

/** Signs `claim` with the key of the recovery secret: the recovery proof (3373 bytes). */
export function proveRecovery(secret: string, claim: RecoveryClaim): Uint8Array {
  const pair = compositeKeyPairFromSeed(seedOf(secret));
  return compositeSign(pair.secretKey, claimBytes(claim), CONTEXT);
}

/** True when `proof` is the recovery key's signature of exactly `claim`. */
export function verifyRecoveryProof(recoveryKey: Uint8Array, claim: RecoveryClaim, proof: Uint8Array): boolean {
  try {
    return compositeVerify(recoveryKey, claimBytes(claim), proof, CONTEXT);
  } catch {
    return false;
  }
}
