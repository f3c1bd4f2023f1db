/**
 * FROST signing for one operator and for the coordinator (RFC 9591 §5 over `schnorr_FROST`):
 * nonce commitments, signature shares, per-share verification (so a cheater is named) and
 * aggregation into BIP-340 signatures under the vault's Taproot output key.
 */
import { schnorr, schnorr_FROST as frost } from '@noble/curves/secp256k1.js';
import { operatorIdentifier } from './frost-dkg.js';

/** A vault's public FROST package as stored (tweaked). */
export interface FrostPublicPackage {
  readonly threshold: number;
  readonly operators: number;
  readonly commitments: readonly Uint8Array[];
  readonly verifyingShares: Readonly<Record<string, Uint8Array>>;
}

/** One operator's nonce commitment for one message (public). */
export interface NonceCommitment {
  readonly hiding: Uint8Array;
  readonly binding: Uint8Array;
}

/** Secret nonces of one operator for one signing attempt: used once, never stored. */
export type SecretNonces = ReturnType<typeof frost.commit>['nonces'];

function toPublic(pkg: FrostPublicPackage) {
  return { signers: { min: pkg.threshold, max: pkg.operators }, commitments: [...pkg.commitments], verifyingShares: { ...pkg.verifyingShares } };
}

function commitmentList(list: ReadonlyMap<number, NonceCommitment>) {
  return [...list].map(([index, c]) => ({ identifier: operatorIdentifier(index), hiding: c.hiding, binding: c.binding }));
}

/** Fresh nonces and their commitments, one pair per message. */
export function commitNonces(index: number, signingShare: Uint8Array, count: number): { nonces: SecretNonces[]; commitments: NonceCommitment[] } {
  const secret = { identifier: operatorIdentifier(index), signingShare };
  const nonces: SecretNonces[] = [];
  const commitments: NonceCommitment[] = [];
  for (let i = 0; i < count; i++) {
    const generated = frost.commit(secret);
    nonces.push(generated.nonces);
    commitments.push({ hiding: generated.commitments.hiding, binding: generated.commitments.binding });
  }
  return { nonces, commitments };
}

/** This operator's signature share for each message (consumes the nonces). */
export function signShares(
  index: number,
  signingShare: Uint8Array,
  pkg: FrostPublicPackage,
  nonces: readonly SecretNonces[],
  lists: readonly ReadonlyMap<number, NonceCommitment>[],
  messages: readonly Uint8Array[],
): Uint8Array[] {
  const secret = { identifier: operatorIdentifier(index), signingShare };
  return messages.map((message, i) => frost.signShare(secret, toPublic(pkg), nonces[i] as SecretNonces, commitmentList(lists[i] as ReadonlyMap<number, NonceCommitment>), message));
}

/** True when `share` is operator `index`'s valid share for message `i`. */
export function verifySignatureShare(pkg: FrostPublicPackage, list: ReadonlyMap<number, NonceCommitment>, message: Uint8Array, index: number, share: Uint8Array): boolean {
  try {
    return frost.verifyShare(toPublic(pkg), commitmentList(list), message, operatorIdentifier(index), share);
  } catch {
    return false;
  }
}

/** The BIP-340 signature from verified shares; checked against the output key before it is returned. */
export function aggregateSignature(pkg: FrostPublicPackage, list: ReadonlyMap<number, NonceCommitment>, message: Uint8Array, shares: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const byId = Object.fromEntries([...shares].map(([index, share]) => [operatorIdentifier(index), share]));
  const signature = frost.aggregate(toPublic(pkg), commitmentList(list), message, byId);
  const outputKey = (pkg.commitments[0] as Uint8Array).slice(1);
  if (!schnorr.verify(signature, message, outputKey)) throw new Error('the aggregated signature does not verify');
  return signature;
}
