/**
 * Scheduled backups of a running node: its `backup` config section (docs/specs/backup.md §9). Every
 * `every`, the node takes an online snapshot of its data dir and config (journals first, databases
 * as `VACUUM INTO` copies, then the rest), seals it k-of-n to its fiduciaries, deposits it over its
 * own messenger, waits until `confirmations` of them pinned it, and records it as the head of its
 * manifest chain. One run at a time; a failed run is logged (code and message, never a secret),
 * counted, and tried again at the next tick.
 *
 * The backup's blocks are served by a temporary IPFS node (fresh peer ID, temporary directory) that
 * dials the config's `ipfs.peers`, as `milagro backup create` does: they never enter the node's own
 * blockstore, so the data dir does not grow by a backup per run and no snapshot holds earlier ones.
 * With Kubo (`ipfs.kubo`, whose repository is outside the data dir) the daemon serves them and they
 * are unpinned there once deposited.
 *
 * Retention (`keep`, default 7): once a run's backup has all its required confirmations (at least k
 * and `confirmations`), the node asks the fiduciaries, in requests it signs, to release the backups
 * beyond the newest `keep` (docs/specs/backup.md §10). Never before: an unconfirmed backup never
 * costs an older one its place. Fiduciaries that do not confirm are asked again after the next run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BackupError,
  createBackup,
  DEFAULT_KEEP,
  pruneBackups,
  readRetentionRecord,
  withBackup,
  writeRetentionRecord,
  decodeManifestNotice,
  depositBackup,
  isBackupError,
  isBackupReplyType,
  MESSAGE_TYPES,
  readBackupHead,
  readRecoveryPublicKey,
  writeBackupHead,
  type BackupMessage,
  type BackupMessenger,
  type BackupStore,
  type PruneOutcome,
} from '@milagro/backup';
import { createEmbeddedNode } from '@milagro/ipfs';
import type { Messenger } from '@milagro/messaging';
import { identitySigner } from '@milagro/pki';
import { Counter, Gauge } from 'prom-client';
import { z } from 'zod';
import type { NodeInfrastructure } from './bootstrap.js';
import { durationSchema, readSecret, type NodeConfig } from './config.js';
import type { RoleContext, RoleRuntime } from './role.js';

/** The `backup` section: scheduled backups of this node to its fiduciaries. */
export const backupSectionSchema = z
  .object({
    /** The fiduciaries' identities (from their `GET /v1/node`), in share order; 1..255, no repeats. */
    fiduciaries: z
      .array(z.string().min(1))
      .min(1)
      .max(255)
      .refine((ids) => new Set(ids).size === ids.length, { message: 'a fiduciary is listed twice' }),
    /** k: fiduciaries needed to restore; at least 2 when there are 2 or more, so none reads a backup alone. */
    threshold: z.number().int().min(1),
    /** Fiduciaries that must confirm they pinned a backup before it counts (default: threshold). */
    confirmations: z.number().int().min(1).optional(),
    /** How often: '30s', '15m', '24h', '7d', or a whole number of minutes. */
    every: durationSchema,
    /** Also back up right after start (default: the first backup is one interval after start). */
    onStart: z.boolean().default(false),
    /** How long a run waits for the confirmations (default '10m'). */
    timeout: durationSchema.prefault(10),
    /**
     * Backups kept at the fiduciaries (default 7): after a backup is confirmed, older ones beyond the
     * newest `keep` are retired (their bodies released). At least 1: the newest is never retired.
     */
    keep: z
      .number({ message: 'expected a whole number of backups to keep (at least 1)' })
      .int({ message: 'expected a whole number of backups to keep (at least 1)' })
      .min(1, { message: 'expected at least 1: the newest backup is never retired' })
      .max(100_000)
      .default(DEFAULT_KEEP),
  })
  .strict()
  .superRefine((section, context) => {
    const n = section.fiduciaries.length;
    if (section.threshold > n) context.addIssue({ code: 'custom', path: ['threshold'], message: `expected at most the number of fiduciaries (${n}), found ${section.threshold}` });
    if (n > 1 && section.threshold < 2) context.addIssue({ code: 'custom', path: ['threshold'], message: 'expected at least 2 with several fiduciaries: no one of them may read a backup alone' });
    if (section.confirmations !== undefined && section.confirmations > n) {
      context.addIssue({ code: 'custom', path: ['confirmations'], message: `expected at most the number of fiduciaries (${n}), found ${section.confirmations}` });
    }
  });

export type BackupSection = z.infer<typeof backupSectionSchema>;

/** A CID, as @milagro/backup hands them out. */
type Cid = ReturnType<typeof decodeManifestNotice>;

/** What the schedule backs up, besides its section. */
export interface BackupScheduleConfig {
  readonly section: BackupSection;
  /** The node's configuration: data dir, key store and database kinds, IPFS peers and swarm key. */
  readonly node: Pick<NodeConfig, 'dataDir' | 'keyStore' | 'database' | 'ipfs'>;
  /** The configuration file, archived beside the data dir. */
  readonly configFile?: string;
  /** Data-dir paths (relative, `/`-separated) to leave out, e.g. the run file of a live process. */
  readonly exclude?: (path: string) => boolean;
}

/** What a scheduled run reports (also logged). */
export interface ScheduledBackup {
  readonly manifest: string;
  readonly prev: string | null;
  readonly files: number;
  readonly bytes: number;
  readonly blocks: number;
  readonly pinnedBy: readonly string[];
  /** Older backups every fiduciary confirmed retiring after this one (retention). */
  readonly retired: readonly string[];
  /** Older backups whose retirement some fiduciaries have not confirmed yet (asked again next run). */
  readonly retirePending: readonly string[];
}

/** How long a run keeps serving the backup for fiduciaries still pinning it after `confirmations` came in. */
const LINGER_MS = 60_000;

/**
 * The backup replies (`deposited`, `refusal`) claimed from the node's inbox, consumed as they come,
 * and handed to whichever run listens. A run's session sees every reply from its opening on.
 */
class BackupReplies {
  readonly #claimed: Messenger;
  readonly #sessions = new Set<{ readonly seen: BackupMessage[]; wake(): void }>();
  readonly #stop = new AbortController();
  #reading: Promise<void> | undefined;

  constructor(claimed: Messenger) {
    this.#claimed = claimed;
  }

  start(): void {
    this.#reading ??= (async () => {
      for await (const message of this.#claimed.messages({ signal: this.#stop.signal })) {
        for (const session of this.#sessions) {
          session.seen.push(message);
          session.wake();
        }
        await this.#claimed.consumed(message.position);
      }
    })().catch(() => undefined);
  }

  /** A messenger for one run: sends through the node's messenger, reads the replies since now. */
  session(): BackupMessenger & { readonly seen: readonly BackupMessage[]; close(): void } {
    const waiters = new Set<() => void>();
    const entry = { seen: [] as BackupMessage[], wake: () => [...waiters].forEach((wake) => wake()) };
    this.#sessions.add(entry);
    const claimed = this.#claimed;
    const stop = this.#stop.signal;
    let closed = false;
    return {
      id: claimed.id.toString(),
      seen: entry.seen,
      send: (to, message) => claimed.send(to, message),
      consumed: () => Promise.resolve(),
      close: () => {
        closed = true;
        this.#sessions.delete(entry);
        entry.wake();
      },
      async *messages(options = {}) {
        let next = 0;
        const signal = options.signal;
        while (signal?.aborted !== true && !stop.aborted && !closed) {
          if (next < entry.seen.length) {
            yield entry.seen[next++]!;
            continue;
          }
          await new Promise<void>((resolve) => {
            const wake = (): void => {
              waiters.delete(wake);
              signal?.removeEventListener('abort', wake);
              stop.removeEventListener('abort', wake);
              resolve();
            };
            waiters.add(wake);
            signal?.addEventListener('abort', wake, { once: true });
            stop.addEventListener('abort', wake, { once: true });
          });
        }
      },
    };
  }

  async close(): Promise<void> {
    this.#stop.abort();
    for (const session of this.#sessions) session.wake();
    await this.#reading;
  }
}

/** Where a run puts the backup's blocks: a temporary IPFS node on the consortium's network, or the Kubo daemon. */
async function blockStoreFor(node: NodeInfrastructure, config: BackupScheduleConfig['node']): Promise<{ store: BackupStore; done(cids: readonly Cid[]): Promise<void>; close(): Promise<void> }> {
  if (config.ipfs.kubo !== undefined) {
    const store = node.ipfs.store;
    return {
      store,
      // Deposited: the fiduciaries hold it; the daemon may collect it.
      done: async (cids) => {
        for (const cid of cids) await store.unpin(cid).catch(() => undefined);
      },
      close: async () => undefined,
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'milagro-backup-blocks-'));
  try {
    const ipfs = await createEmbeddedNode({
      dataDir: dir,
      peers: config.ipfs.peers,
      ...(config.ipfs.swarmKey === undefined ? {} : { swarmKey: readSecret(config.ipfs.swarmKey) }),
    });
    // The peers are dialled in the background; deposits go out once one answers (or after 30 s regardless).
    const deadline = Date.now() + 30_000;
    while (config.ipfs.peers.length > 0 && (await ipfs.connectedPeers()).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    return {
      store: ipfs.store,
      done: async () => undefined,
      close: async () => {
        await ipfs.stop();
        await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** What the node cannot put into a snapshot, said once at start and in every run's log line. */
export function backupGaps(config: Pick<NodeConfig, 'keyStore' | 'database'>): string[] {
  const gaps: string[] = [];
  if (config.keyStore.kind === 'pkcs11') gaps.push('the PKCS#11 key store: its keys stay on the HSM token (non-extractable); back the token up with the HSM\'s own mechanism');
  if (config.database.kind === 'postgres') gaps.push('the PostgreSQL database: back it up with pg_dump (or the server\'s own backups)');
  return gaps;
}

/** The schedule; {@link startBackupSchedule} wires it on a running node. */
export class BackupSchedule {
  readonly #node: NodeInfrastructure;
  readonly #config: BackupScheduleConfig;
  readonly #context: RoleContext;
  readonly #replies: BackupReplies;
  readonly #metrics;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(node: NodeInfrastructure, config: BackupScheduleConfig, context: RoleContext) {
    this.#node = node;
    this.#config = config;
    this.#context = context;
    this.#replies = new BackupReplies(context.inbox.claim(isBackupReplyType));
    const registers = [context.registry];
    this.#metrics = {
      lastSuccess: new Gauge({ name: 'milagro_backup_last_success_timestamp_seconds', help: 'When the newest scheduled backup was confirmed (seconds since the epoch; 0: none since start)', registers }),
      successes: new Counter({ name: 'milagro_backup_successes_total', help: 'Scheduled backups made and confirmed by the fiduciaries since start', registers }),
      failures: new Counter({ name: 'milagro_backup_failures_total', help: 'Scheduled backup runs that failed since start (each is tried again at the next tick)', registers }),
      lastBytes: new Gauge({ name: 'milagro_backup_last_size_bytes', help: 'Archive bytes of the newest scheduled backup', registers }),
      lastSeconds: new Gauge({ name: 'milagro_backup_last_duration_seconds', help: 'How long the newest successful run took (snapshot, seal, deposit, confirmations)', registers }),
      retired: new Counter({ name: 'milagro_backup_retired_total', help: 'Old backups retired (released by every fiduciary) under the retention policy since start', registers }),
      kept: new Gauge({ name: 'milagro_backup_kept', help: 'Backups of this node its fiduciaries keep (not retired), per its record', registers }),
      retirePending: new Gauge({ name: 'milagro_backup_retire_pending', help: 'Backups selected for retirement that some fiduciaries have not confirmed releasing yet', registers }),
      retireFailures: new Counter({ name: 'milagro_backup_retire_failures_total', help: 'Runs whose retention step failed (the backup itself was made; retried after the next run)', registers }),
    };
    this.#metrics.lastSuccess.set(0);
  }

  /** Starts reading replies and arms the first tick (now with `onStart`, else one interval from now). */
  start(): void {
    this.#replies.start();
    const gaps = backupGaps(this.#config.node);
    this.#context.logger.info(
      { event: 'backup-scheduled', every: `${this.#config.section.every / 1000} s`, fiduciaries: this.#config.section.fiduciaries.length, threshold: this.#config.section.threshold, notBackedUp: gaps },
      'scheduled backups on',
    );
    if (gaps.length > 0) this.#context.logger.warn({ event: 'backup-incomplete', notBackedUp: gaps }, `scheduled backups do NOT contain ${gaps.join('; nor ')}`);
    this.#arm(this.#config.section.onStart ? 0 : this.#config.section.every);
  }

  #arm(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      const began = Date.now();
      this.#running = this.#runLogged().finally(() => {
        this.#running = undefined;
        // The next tick one interval after this one began, or at once if the run took longer.
        this.#arm(Math.max(0, began + this.#config.section.every - Date.now()));
      });
    }, delayMs);
  }

  async #runLogged(): Promise<void> {
    const started = performance.now();
    try {
      const made = await this.runOnce();
      const seconds = (performance.now() - started) / 1000;
      this.#metrics.successes.inc();
      this.#metrics.lastSuccess.set(Date.now() / 1000);
      this.#metrics.lastBytes.set(made.bytes);
      this.#metrics.lastSeconds.set(seconds);
      this.#context.logger.info({ event: 'backup-made', ...made, seconds: Number(seconds.toFixed(1)), notBackedUp: backupGaps(this.#config.node) }, 'backup made');
    } catch (error) {
      if (this.#closed) return;
      this.#metrics.failures.inc();
      this.#context.logger.error(
        { event: 'backup-failed', code: (error as { code?: unknown }).code ?? null, message: error instanceof Error ? error.message : String(error) },
        'backup failed; trying again at the next tick',
      );
    }
  }

  /** One backup, now: snapshot, seal, deposit, wait for the confirmations, advance the head. */
  async runOnce(): Promise<ScheduledBackup> {
    const { section, node: config } = this.#config;
    const node = this.#node;
    const recovery = await readRecoveryPublicKey(config.dataDir);
    const fiduciaries = await Promise.all(
      section.fiduciaries.map(async (id) => {
        try {
          return { id, publicKey: (await node.resolver.resolve(id, { timeoutMs: 60_000 })).keys.kem };
        } catch (cause) {
          throw new BackupError('NOT_FOUND', `fiduciary ${id} does not resolve: ${(cause as Error).message}`, { cause });
        }
      }),
    );
    const confirmations = section.confirmations ?? section.threshold;
    const blocks = await blockStoreFor(node, config);
    try {
      const prev = await readBackupHead(config.dataDir);
      const created = await createBackup({
        source: { dataDir: config.dataDir, ...(this.#config.configFile === undefined ? {} : { configFile: this.#config.configFile }), ...(this.#config.exclude === undefined ? {} : { exclude: this.#config.exclude }) },
        signer: identitySigner(node.identity, node.keyStore),
        identity: node.identity.head,
        store: blocks.store,
        fiduciaries,
        threshold: section.threshold,
        recovery,
        ...(prev === undefined ? {} : { prev }),
      });
      const session = this.#replies.session();
      let pinnedBy: readonly string[];
      const recorded = { manifest: created.cid.toString(), created: created.manifest.created, fiduciaries: section.fiduciaries, threshold: section.threshold, retiredBy: [] };
      try {
        let deposited: Awaited<ReturnType<typeof depositBackup>>;
        try {
          deposited = await depositBackup({ messenger: session, manifest: created.cid, fiduciaries: section.fiduciaries, minimum: confirmations, timeoutMs: section.timeout });
        } catch (error) {
          // Some fiduciaries may have pinned it: recorded as a failed run's deposit, it is retired
          // behind the next confirmed backup instead of staying at them for ever.
          await writeRetentionRecord(config.dataDir, withBackup(await readRetentionRecord(config.dataDir), { ...recorded, pinnedBy: confirmedBy(session.seen, created.cid, section.fiduciaries), failed: true }));
          // Over a fiduciary's quota no new backup can be confirmed, so none would ever be retired
          // behind one: retire down to `keep` behind the newest confirmed backup there is (the same
          // rule), so lowering `keep` lets the next run through.
          if (isBackupError(error, 'QUOTA_EXCEEDED')) await this.#retire(session, true);
          throw error;
        }
        pinnedBy = deposited.pinned;
        // Serve the rest a little longer, so every reachable fiduciary pins this one too.
        const all = section.fiduciaries.length - deposited.unreachable.length;
        const lingerUntil = Date.now() + Math.min(LINGER_MS, section.timeout);
        while (pinnedBy.length < all && Date.now() < lingerUntil && !this.#closed) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          pinnedBy = confirmedBy(session.seen, created.cid, section.fiduciaries);
        }
        await writeBackupHead(config.dataDir, created.cid, created.manifest.created);
        await blocks.done([created.cid, created.manifest.envelope]);
        const record = withBackup(await readRetentionRecord(config.dataDir), { ...recorded, pinnedBy });
        await writeRetentionRecord(config.dataDir, record);
        const pruned = await this.#retire(session, pinnedBy.length >= Math.max(section.threshold, confirmations));
        return {
          manifest: created.cid.toString(),
          prev: prev?.toString() ?? null,
          files: created.manifest.files,
          bytes: created.manifest.size,
          blocks: created.blocks,
          pinnedBy,
          retired: pruned?.retired ?? [],
          retirePending: pruned?.pending.map((p) => p.manifest) ?? [],
        };
      } finally {
        session.close();
      }
    } finally {
      await blocks.close();
    }
  }

  /**
   * Retention after a run whose backup has all its required confirmations (`confirmed`); otherwise
   * nothing is retired. A failure here is logged and counted, never fails the run.
   */
  async #retire(messenger: BackupMessenger, confirmed: boolean): Promise<PruneOutcome | undefined> {
    const { section, node: config } = this.#config;
    try {
      if (!confirmed) {
        this.#context.logger.info({ event: 'backups-not-retired', reason: 'the new backup lacks confirmations' }, 'no backup retired: the new one is not fully confirmed');
        return undefined;
      }
      const pruned = await pruneBackups({ dataDir: config.dataDir, keep: section.keep, messenger, signer: identitySigner(this.#node.identity, this.#node.keyStore), timeoutMs: Math.min(section.timeout, 120_000) });
      this.#metrics.retired.inc(pruned.retired.length);
      this.#metrics.kept.set(pruned.kept.length + pruned.pending.length);
      this.#metrics.retirePending.set(pruned.pending.length);
      if (pruned.retired.length + pruned.pending.length + pruned.refused.length > 0) {
        const line = { event: 'backups-retired', keep: section.keep, retired: pruned.retired, pending: pruned.pending, refused: pruned.refused.map((r) => ({ fiduciary: r.fiduciary, code: r.code, message: r.message })) };
        if (pruned.refused.length > 0) this.#context.logger.warn(line, 'old backups retired; some fiduciaries refused');
        else this.#context.logger.info(line, 'old backups retired');
      }
      return pruned;
    } catch (error) {
      this.#metrics.retireFailures.inc();
      this.#context.logger.warn(
        { event: 'backup-retire-failed', code: (error as { code?: unknown }).code ?? null, message: error instanceof Error ? error.message : String(error) },
        'retiring old backups failed; tried again after the next run',
      );
      return undefined;
    }
  }

  /** Stops the timer and ends a run in progress (it fails as closed; nothing is recorded). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#replies.close();
    // A run ends soon once its replies stop (the deposit fails as closed); one still resolving a
    // fiduciary or dialling peers is not waited for beyond a few seconds.
    await Promise.race([this.#running, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }
}

/** The fiduciaries among `fiduciaries` that confirmed pinning `manifest` in `seen`. */
function confirmedBy(seen: readonly BackupMessage[], manifest: Cid, fiduciaries: readonly string[]): string[] {
  const out = new Set<string>();
  for (const message of seen) {
    if (message.type !== MESSAGE_TYPES.deposited || !fiduciaries.includes(message.from)) continue;
    try {
      if (decodeManifestNotice(message.body).equals(manifest)) out.add(message.from);
    } catch {
      // not a notice of ours
    }
  }
  return [...out];
}

/**
 * Starts scheduled backups on a running node (its `backup` section). Refuses to start without the
 * owner's recovery credential (`milagro init` sets it; `milagro backup init-recovery`).
 */
export async function startBackupSchedule(node: NodeInfrastructure, config: BackupScheduleConfig, context: RoleContext): Promise<RoleRuntime> {
  try {
    await readRecoveryPublicKey(config.node.dataDir);
  } catch (error) {
    if (isBackupError(error)) throw new BackupError(error.code, `backup: ${error.message}`, { cause: error });
    throw error;
  }
  const schedule = new BackupSchedule(node, config, context);
  schedule.start();
  return { apis: [], ready: {}, close: () => schedule.close() };
}
