/**
 * Retention: which of a node's backups to retire (pure), and the node's record of its backups'
 * confirmations and retirements (`<dataDir>/backup/retention.json`, written atomically).
 *
 * The rule (docs/specs/backup.md §10): keep the `keep` newest backups; retire an older one only
 * when a NEWER backup is fully confirmed (pinned by at least k fiduciaries). The newest is never
 * retired, and nothing is retired while no backup is fully confirmed.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RETENTION_FILE } from './constants.js';
import { BackupError } from './errors.js';

/** A backup as the policy sees it. */
export interface RetentionCandidate {
  readonly manifest: string;
  /** ms since the epoch (the manifest's `created`). */
  readonly created: number;
  /** Pinned by at least `threshold` of its fiduciaries (restorable even if the others never pin it). */
  readonly confirmed: boolean;
  /** Every fiduciary confirmed its retirement. */
  readonly retired?: boolean;
  /**
   * Its run failed after depositing it (too few confirmations): it is not in the chain. Such a
   * backup never counts toward `keep` and is retired behind any newer confirmed backup.
   */
  readonly failed?: boolean;
}

/** True when `keep` is a usable policy (a whole number ≥ 1). */
export function isValidKeep(keep: number): boolean {
  return Number.isSafeInteger(keep) && keep >= 1;
}

/**
 * The manifests to retire under "keep the `keep` newest": the backups beyond the `keep` newest
 * (failed runs' deposits not counted) that are older than the newest fully confirmed one, and not
 * retired yet. Newest first.
 * @throws BackupError `INVALID_ARGUMENT` when `keep` is not a whole number ≥ 1
 */
export function selectForRetirement(backups: readonly RetentionCandidate[], keep: number): string[] {
  if (!isValidKeep(keep)) throw new BackupError('INVALID_ARGUMENT', `keep must be a whole number of at least 1 (the newest backup is never retired), found ${keep}`);
  const newestFirst = backups.map((backup, order) => ({ backup, order })).sort((a, b) => b.backup.created - a.backup.created || a.order - b.order);
  const confirmed = newestFirst.findIndex(({ backup }) => backup.confirmed && backup.failed !== true);
  if (confirmed < 0) return [];
  let counted = 0;
  return newestFirst
    .filter(({ backup }, position) => {
      const beyondKeep = backup.failed === true || counted++ >= keep;
      return beyondKeep && position > confirmed && backup.retired !== true;
    })
    .map(({ backup }) => backup.manifest);
}

/** One backup in the node's record. */
export interface RecordedBackup {
  readonly manifest: string;
  readonly created: number;
  /** Its fiduciaries (share order) and k. */
  readonly fiduciaries: readonly string[];
  readonly threshold: number;
  /** Fiduciaries that confirmed they pinned it. */
  readonly pinnedBy: readonly string[];
  /** Fiduciaries that confirmed they retired it. */
  readonly retiredBy: readonly string[];
  /** Deposited by a run that then failed (not in the chain). */
  readonly failed?: boolean;
}

/** True when every fiduciary of `backup` confirmed its retirement. */
export function isRetired(backup: RecordedBackup): boolean {
  return backup.fiduciaries.every((fiduciary) => backup.retiredBy.includes(fiduciary));
}

/** The policy's view of a recorded backup. */
export function retentionCandidate(backup: RecordedBackup): RetentionCandidate {
  const pinned = backup.fiduciaries.filter((fiduciary) => backup.pinnedBy.includes(fiduciary)).length;
  return { manifest: backup.manifest, created: backup.created, confirmed: pinned >= backup.threshold, retired: isRetired(backup), ...(backup.failed === true ? { failed: true } : {}) };
}

/** The node's record of its backups, newest first (empty when it has none). */
export async function readRetentionRecord(dataDir: string): Promise<RecordedBackup[]> {
  let text: string;
  try {
    text = await readFile(join(dataDir, RETENTION_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BackupError('MALFORMED', `${RETENTION_FILE} is unreadable`, { cause: error });
  }
  try {
    const { backups } = JSON.parse(text) as { backups: RecordedBackup[] };
    if (!Array.isArray(backups)) throw new Error('no backups array');
    return backups;
  } catch (error) {
    throw new BackupError('MALFORMED', `${RETENTION_FILE} is not a retention record`, { cause: error });
  }
}

/** Writes the record (atomically), newest first. */
export async function writeRetentionRecord(dataDir: string, backups: readonly RecordedBackup[]): Promise<void> {
  const path = join(dataDir, RETENTION_FILE);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const sorted = [...backups].sort((a, b) => b.created - a.created);
  await writeFile(`${path}.tmp`, `${JSON.stringify({ v: 1, backups: sorted }, null, 1)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Adds `backup` to the record, or merges its confirmations into the entry there. */
export function withBackup(record: readonly RecordedBackup[], backup: RecordedBackup): RecordedBackup[] {
  const existing = record.find((entry) => entry.manifest === backup.manifest);
  if (existing === undefined) return [backup, ...record];
  const merged: RecordedBackup = {
    ...existing,
    pinnedBy: [...new Set([...existing.pinnedBy, ...backup.pinnedBy])],
    retiredBy: [...new Set([...existing.retiredBy, ...backup.retiredBy])],
  };
  return record.map((entry) => (entry === existing ? merged : entry));
}
