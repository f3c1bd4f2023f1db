/**
 * The node's side of talking to fiduciaries: depositing a new backup (each fiduciary pins it and
 * confirms), and, on a fresh machine, asking for the shares of a backup with a recovery proof.
 * Neither consumes inbox messages: a node's roles read its inbox later and see everything.
 */
import type { EnvelopeShare } from '@milagro/envelope';
import { CID } from 'multiformats/cid';
import type { BackupMessage, BackupMessenger, KeyResolver } from './backup-messenger.js';
import {
  decodeManifestNotice,
  decodeRefusal,
  decodeRelease,
  decodeRetiredNotice,
  encodeManifestNotice,
  encodeReleaseRequest,
  encodeRetireRequest,
  type Refusal,
} from './backup-messages.js';
import { readManifest, type BackupStore } from './backup-store.js';
import { MESSAGE_TYPES } from './constants.js';
import { BackupError } from './errors.js';
import { verifyManifest, type ManifestSigner, type SignedManifest } from './manifest.js';
import { nodeKeyAtBackup } from './node-key.js';
import { proveRecovery } from './recovery-credential.js';
import { signRetireClaim } from './retire-request.js';

/** Reads `messenger`'s inbox until `accept` returns true for the messages seen, or `timeoutMs` passes. */
async function readUntil(messenger: BackupMessenger, timeoutMs: number, accept: (message: BackupMessage) => boolean): Promise<boolean> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), timeoutMs);
  try {
    for await (const message of messenger.messages({ signal: stop.signal })) {
      if (accept(message)) return true;
    }
    return false;
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}

export interface DepositOptions {
  readonly messenger: BackupMessenger;
  readonly manifest: CID;
  readonly fiduciaries: readonly string[];
  /** Wait for this many confirmations (default all); fewer by the deadline is `TIMEOUT`. */
  readonly minimum?: number;
  readonly timeoutMs?: number;
}

export interface DepositOutcome {
  /** Fiduciaries that pinned the backup. */
  readonly pinned: readonly string[];
  readonly refused: ReadonlyArray<{ readonly fiduciary: string } & Refusal>;
  /** Fiduciaries that could not be messaged (their identity did not resolve: offline, unknown). */
  readonly unreachable: readonly string[];
}

/** Sends `message` to every fiduciary at once; returns those that could not be messaged (e.g. offline, so their identity does not resolve). */
async function sendToAll(messenger: BackupMessenger, fiduciaries: readonly string[], message: { type: string; body: Uint8Array }): Promise<string[]> {
  const unreachable: string[] = [];
  await Promise.all(fiduciaries.map((fiduciary) => messenger.send(fiduciary, message).catch(() => unreachable.push(fiduciary))));
  return unreachable;
}

/**
 * Sends the manifest to every fiduciary and waits until `minimum` of them confirm they pinned it
 * (they fetch the blocks from this node, so keep it running until then).
 * @throws BackupError `TIMEOUT` (fewer confirmations by the deadline), `QUOTA_EXCEEDED` (too many refused, one
 *   of them for its per-node quota), `NOT_AUTHORISED` (too many refused)
 */
export async function depositBackup(options: DepositOptions): Promise<DepositOutcome> {
  const { messenger, manifest, fiduciaries } = options;
  const minimum = options.minimum ?? fiduciaries.length;
  const pinned = new Set<string>();
  const refused: Array<{ fiduciary: string } & Refusal> = [];
  const unreachable = await sendToAll(messenger, fiduciaries, { type: MESSAGE_TYPES.deposit, body: encodeManifestNotice(manifest) });
  if (fiduciaries.length - unreachable.length < minimum) throw new BackupError('TIMEOUT', `${unreachable.length} fiduciaries cannot be messaged (${unreachable.join(', ')})`);
  const done = await readUntil(messenger, options.timeoutMs ?? 10 * 60_000, (message) => {
    if (!fiduciaries.includes(message.from)) return false;
    try {
      if (message.type === MESSAGE_TYPES.deposited && decodeManifestNotice(message.body).equals(manifest)) pinned.add(message.from);
      if (message.type === MESSAGE_TYPES.refusal) {
        const refusal = decodeRefusal(message.body);
        if (refusal.manifest?.equals(manifest) === true && !refused.some((r) => r.fiduciary === message.from)) refused.push({ fiduciary: message.from, ...refusal });
      }
    } catch {
      return false; // not ours to judge; ignore
    }
    if (fiduciaries.length - refused.length - unreachable.length < minimum) {
      const quota = refused.find((r) => r.code === 'QUOTA_EXCEEDED');
      if (quota !== undefined) throw new BackupError('QUOTA_EXCEEDED', `${refused.length} fiduciaries refused the backup, ${quota.fiduciary} for its per-node quota: ${quota.message}`);
      throw new BackupError('NOT_AUTHORISED', `${refused.length} fiduciaries refused the backup (${refused.map((r) => `${r.code}: ${r.message}`).join('; ')})`);
    }
    return pinned.size >= minimum;
  });
  if (!done) throw new BackupError('TIMEOUT', `only ${pinned.size} of ${minimum} fiduciaries confirmed the backup in time`);
  return { pinned: [...pinned], refused, unreachable };
}

export interface RequestSharesOptions {
  /** The restoring node's messenger: its identity is what the recovery proof names. */
  readonly messenger: BackupMessenger;
  /** The restoring identity's X-Wing public key (the shares come sealed to it). */
  readonly requesterKem: Uint8Array;
  readonly store: Pick<BackupStore, 'getDag' | 'get'>;
  readonly resolver: KeyResolver;
  readonly manifest: CID | string;
  /** The owner's recovery secret. */
  readonly recoverySecret: string;
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

export interface CollectedShares {
  readonly manifest: SignedManifest;
  readonly manifestCid: CID;
  /** The node's composite signing key when the backup was made, from its identity document. */
  readonly nodeSigningKey: Uint8Array;
  readonly shares: readonly EnvelopeShare[];
  /** Fiduciary → audit entry of its release. */
  readonly releasedBy: ReadonlyArray<{ readonly fiduciary: string; readonly audit: string }>;
  readonly refused: ReadonlyArray<{ readonly fiduciary: string } & Refusal>;
  /** Fiduciaries that could not be messaged. */
  readonly unreachable: readonly string[];
}

/**
 * Proves control of the recovery credential to every fiduciary of the backup and collects k shares.
 * Fiduciaries that are offline simply never answer; it is enough that k do.
 * @throws BackupError `RETIRED` (its node retired it: the fiduciaries no longer keep its body),
 *   `NOT_AUTHORISED` (more than n − k refused: wrong secret), `RATE_LIMITED` (refused for too
 *   many recent releases, with when the next is possible), `TIMEOUT`, `MALFORMED` / `NOT_FOUND` (manifest)
 */
export async function requestShares(options: RequestSharesOptions): Promise<CollectedShares> {
  const manifestCid = typeof options.manifest === 'string' ? CID.parse(options.manifest) : options.manifest;
  const unverified = await readManifest(options.store, manifestCid, { timeoutMs: options.timeoutMs ?? 60_000 });
  const nodeSigningKey = await nodeKeyAtBackup(options.resolver, options.store, unverified, { timeoutMs: options.timeoutMs ?? 60_000 });
  const manifest = verifyManifest(unverified, nodeSigningKey);
  const issued = (options.now ?? Date.now)();
  const proof = proveRecovery(options.recoverySecret, { manifest: manifestCid, requester: options.messenger.id, requesterKem: options.requesterKem, issued });
  const body = encodeReleaseRequest({ manifest: manifestCid, issued, proof });
  const unreachable = await sendToAll(options.messenger, manifest.fiduciaries, { type: MESSAGE_TYPES.releaseRequest, body });
  if (manifest.fiduciaries.length - unreachable.length < manifest.threshold) {
    throw new BackupError('NOT_ENOUGH_SHARES', `only ${manifest.fiduciaries.length - unreachable.length} of the ${manifest.threshold} fiduciaries needed can be messaged`);
  }

  const shares = new Map<string, EnvelopeShare>();
  const releasedBy: Array<{ fiduciary: string; audit: string }> = [];
  const refused: Array<{ fiduciary: string } & Refusal> = [];
  const k = manifest.threshold;
  const n = manifest.fiduciaries.length;
  const done = await readUntil(options.messenger, options.timeoutMs ?? 10 * 60_000, (message) => {
    const index = manifest.fiduciaries.indexOf(message.from);
    if (index < 0 || shares.has(message.from)) return false;
    try {
      if (message.type === MESSAGE_TYPES.release) {
        const release = decodeRelease(message.body);
        if (release.manifest.equals(manifestCid) && release.share.index === index + 1) {
          shares.set(message.from, release.share);
          releasedBy.push({ fiduciary: message.from, audit: release.audit.toString() });
        }
      } else if (message.type === MESSAGE_TYPES.refusal) {
        const refusal = decodeRefusal(message.body);
        if (refusal.manifest?.equals(manifestCid) === true && !refused.some((r) => r.fiduciary === message.from)) refused.push({ fiduciary: message.from, ...refusal });
      }
    } catch {
      return false;
    }
    if (n - refused.length - unreachable.length < k) {
      const retired = refused.find((r) => r.code === 'RETIRED');
      if (retired !== undefined) throw new BackupError('RETIRED', `backup ${manifestCid.toString()} is RETIRED (${refused.filter((r) => r.code === 'RETIRED').length} of ${n} fiduciaries no longer keep it): ${retired.message}`);
      const limited = refused.find((r) => r.code === 'RATE_LIMITED');
      if (limited !== undefined) {
        throw new BackupError('RATE_LIMITED', `${refused.length} of ${n} fiduciaries refused the release, ${refused.filter((r) => r.code === 'RATE_LIMITED').length} for too many recent releases of this node's backups: ${limited.message}`);
      }
      throw new BackupError('NOT_AUTHORISED', `${refused.length} of ${n} fiduciaries refused the release (${[...new Set(refused.map((r) => r.code))].join(', ')}): ${refused[0]?.message ?? ''}`);
    }
    return shares.size >= k;
  });
  if (!done) throw new BackupError('TIMEOUT', `only ${shares.size} of the ${k} shares needed arrived in time (${refused.length} refused)`);
  return { manifest, manifestCid, nodeSigningKey, shares: [...shares.values()], releasedBy, refused, unreachable };
}

export interface RetireOptions {
  readonly messenger: BackupMessenger;
  /** The node's identity (signs each request; must be the node the backups are of). */
  readonly signer: ManifestSigner;
  /** Per fiduciary, the manifests it should stop keeping. */
  readonly requests: ReadonlyMap<string, readonly CID[]>;
  /** How long to wait for the answers (default 2 min); those missing are simply not confirmed. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

export interface RetireOutcome {
  /** Fiduciaries that confirmed they released every manifest asked of them. */
  readonly retiredBy: readonly string[];
  readonly refused: ReadonlyArray<{ readonly fiduciary: string } & Refusal>;
  /** Fiduciaries that could not be messaged, or did not answer in time. */
  readonly unanswered: readonly string[];
}

/**
 * Asks each fiduciary, in a request signed by the node, to stop keeping the named backups, and
 * waits for their answers. Never throws for a missing or refusing fiduciary: the outcome says who
 * confirmed (retiring is idempotent, so the caller asks the others again later).
 */
export async function retireBackups(options: RetireOptions): Promise<RetireOutcome> {
  const { messenger, signer } = options;
  const issued = (options.now ?? Date.now)();
  const waiting = new Map<string, readonly CID[]>();
  const unanswered: string[] = [];
  await Promise.all(
    [...options.requests].map(async ([fiduciary, manifests]) => {
      if (manifests.length === 0) return;
      const signature = await signRetireClaim(signer, { node: signer.id, fiduciary, manifests, issued });
      try {
        await messenger.send(fiduciary, { type: MESSAGE_TYPES.retire, body: encodeRetireRequest({ manifests, issued, signature }) });
        waiting.set(fiduciary, manifests);
      } catch {
        unanswered.push(fiduciary);
      }
    }),
  );
  const retiredBy: string[] = [];
  const refused: Array<{ fiduciary: string } & Refusal> = [];
  if (waiting.size > 0) {
    await readUntil(messenger, options.timeoutMs ?? 120_000, (message) => {
      const manifests = waiting.get(message.from);
      if (manifests === undefined) return false;
      try {
        if (message.type === MESSAGE_TYPES.retired) {
          const released = decodeRetiredNotice(message.body).map((cid) => cid.toString());
          if (manifests.every((cid) => released.includes(cid.toString()))) {
            retiredBy.push(message.from);
            waiting.delete(message.from);
          }
        } else if (message.type === MESSAGE_TYPES.refusal) {
          const refusal = decodeRefusal(message.body);
          if (refusal.manifest !== undefined && manifests.some((cid) => cid.equals(refusal.manifest))) {
            refused.push({ fiduciary: message.from, ...refusal });
            waiting.delete(message.from);
          }
        }
      } catch {
        return false;
      }
      return waiting.size === 0;
    });
  }
  return { retiredBy, refused, unanswered: [...unanswered, ...waiting.keys()] };
}
