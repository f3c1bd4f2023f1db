/**
 * Helpers for the realm resharing tests: the M-Pin client secret s·H(ID) that a set of members'
 * current shares combine to (exactly as a client does with the shares issuance returns), and key
 * store checks.
 */
import { nobleBackend } from '@milagro/crypto';
import { isKeyStoreError } from '@milagro/keystore';
import { combineClientSecret, createSuite, issueClientShare } from '@milagro/mpin';
import { masterShareLabel } from '../../src/realm-service.js';
import type { Member } from './realm-network.js';

export const suite = createSuite({ suite: 'modern', backend: nobleBackend });
export const identity = new TextEncoder().encode('alice@example.org');

/** Each member's client-secret share at its current epoch and index, combined: s·H(ID) (hex), and the epoch used. */
export async function combinedClientSecret(realmId: string, members: readonly Member[]): Promise<{ secret: string; epoch: number }> {
  const masters = await Promise.all(members.map((m) => m.service.masterShare(realmId)));
  const epochs = new Set(masters.map((m) => m.epoch));
  if (epochs.size !== 1) throw new Error(`shares of several epochs: ${[...epochs].join(', ')}`);
  const shares = masters.map((m) => ({ index: m.index, share: issueClientShare(suite, m.share, identity) }));
  return { secret: Buffer.from(combineClientSecret(suite, shares)).toString('hex'), epoch: masters[0]!.epoch };
}

/** True when the member's key store holds the realm's share of `epoch`. */
export async function holdsShare(member: Member, realmId: string, epoch: number): Promise<boolean> {
  try {
    await member.keyStore.describe({ label: masterShareLabel(realmId, epoch) });
    return true;
  } catch (error) {
    if (isKeyStoreError(error, 'NOT_FOUND')) return false;
    throw error;
  }
}
