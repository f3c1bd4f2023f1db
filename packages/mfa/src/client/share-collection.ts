/**
 * Collecting client-secret shares from the realm's D-TAs (docs/specs/dta.md §3): each grant is
 * presented to its D-TA with the activation's X-Wing public key in `sealTo`; the share comes back
 * sealed to that key and bound to realm, D-TA, identity, epoch and index. D-TAs that are down, slow,
 * refuse, or answer with something that does not open are skipped and others tried, until
 * `threshold` shares of one epoch are held. At most `threshold` requests run at once, so healthy
 * D-TAs issue no more shares than needed.
 */
import { base64urlToBytes, bytesToBase64url, type XWingDecapsulator } from '@milagro/crypto';
import { openSealedShare, type IndexedShare } from '@milagro/mpin';
import { HttpFailure, sendJson } from './json-http.js';
import type { RealmInfo } from './credential-store.js';

/** One grant as the service hands it out. */
export interface ShareGrant {
  /** The D-TA's identity (CID string). */
  readonly dta: string;
  readonly url: string;
  /** The grant token (base64url). */
  readonly token: string;
}

/** A share that opened, from one D-TA. */
export interface HeldShare extends IndexedShare {
  readonly epoch: number;
}

export interface ShareRequestContext {
  readonly fetch: typeof fetch;
  readonly realm: RealmInfo;
  readonly identity: Uint8Array;
  readonly identityHash: Uint8Array;
  /** The activation's X-Wing key: its public key goes out as `sealTo`. */
  readonly recipient: XWingDecapsulator;
  /** Validates an opened share (a G1 point of the realm's suite); throws when it is not one. */
  readonly checkShare: (share: Uint8Array) => void;
  readonly timeoutMs: number;
}

/** Why one D-TA gave no usable share (safe to show: no secret values). */
export interface ShareFailure {
  readonly dta: string;
  readonly reason: string;
}

/** `threshold` shares of one epoch (the newest complete one), or undefined. */
export function completeShares(held: ReadonlyMap<string, HeldShare>, threshold: number): HeldShare[] | undefined {
  const byEpoch = new Map<number, Map<bigint, HeldShare>>();
  for (const share of held.values()) {
    const group = byEpoch.get(share.epoch) ?? new Map<bigint, HeldShare>();
    if (!group.has(share.index)) group.set(share.index, share);
    byEpoch.set(share.epoch, group);
  }
  const epochs = [...byEpoch.keys()].sort((a, b) => b - a);
  for (const epoch of epochs) {
    const group = [...byEpoch.get(epoch)!.values()];
    if (group.length >= threshold) return group.slice(0, threshold);
  }
  return undefined;
}

/**
 * Asks the D-TAs of `grants` that hold no share in `held` yet, adding what opens to `held`: one
 * request per missing share, and another D-TA only in place of one that failed, until `threshold`
 * shares are there or the grants are used up. Failures go to `failures`.
 */
export async function collectShares(
  context: ShareRequestContext,
  grants: readonly ShareGrant[],
  held: Map<string, HeldShare>,
  failures: ShareFailure[],
): Promise<void> {
  const queue = grants.filter((grant) => !held.has(grant.dta));
  const slot = async (): Promise<void> => {
    for (let grant = queue.shift(); grant !== undefined; grant = queue.shift()) {
      try {
        held.set(grant.dta, await requestShare(context, grant));
        return;
      } catch (error) {
        failures.push({ dta: grant.dta, reason: error instanceof Error ? error.message : 'failed' });
      }
    }
  };
  const missing = context.realm.threshold - largestEpochGroup(held);
  await Promise.all(Array.from({ length: Math.max(0, missing) }, slot));
}

/** How many shares of distinct indices the best-represented epoch has. */
function largestEpochGroup(held: ReadonlyMap<string, HeldShare>): number {
  const byEpoch = new Map<number, Set<bigint>>();
  for (const share of held.values()) byEpoch.set(share.epoch, (byEpoch.get(share.epoch) ?? new Set<bigint>()).add(share.index));
  return Math.max(0, ...[...byEpoch.values()].map((indices) => indices.size));
}

/** One D-TA's share, opened and checked. @throws Error naming what went wrong. */
async function requestShare(context: ShareRequestContext, grant: ShareGrant): Promise<HeldShare> {
  const url = `${grant.url.replace(/\/+$/, '')}/v1/realms/${encodeURIComponent(context.realm.id)}/client-shares`;
  const answer = await sendJson(context.fetch, {
    method: 'POST',
    url,
    body: { grant: grant.token, identity: bytesToBase64url(context.identity), sealTo: bytesToBase64url(context.recipient.publicKey) },
    signal: AbortSignal.timeout(context.timeoutMs),
  }).catch(() => {
    throw new Error('no answer');
  });
  if (answer instanceof HttpFailure) throw new Error(`HTTP ${answer.status}${answer.code === undefined ? '' : ` ${answer.code}`}`);
  const { realmId, epoch, index, sealed } = answer as { realmId?: unknown; epoch?: unknown; index?: unknown; sealed?: { enc?: unknown; ciphertext?: unknown } };
  if (realmId !== context.realm.id) throw new Error('a share of another realm');
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) throw new Error('no epoch');
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 1 || index > 255) throw new Error('no index');
  if (typeof sealed?.enc !== 'string' || typeof sealed.ciphertext !== 'string') throw new Error('the share is not sealed');
  let share: Uint8Array;
  try {
    share = await openSealedShare(
      context.recipient,
      { enc: base64urlToBytes(sealed.enc), ciphertext: base64urlToBytes(sealed.ciphertext) },
      { realmId: context.realm.id, dta: grant.dta, identityHash: context.identityHash, epoch, index: BigInt(index) },
    );
    context.checkShare(share);
  } catch {
    throw new Error('the sealed share does not open to a valid share');
  }
  return { epoch, index: BigInt(index), share };
}
