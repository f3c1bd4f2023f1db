/**
 * The node's side of retention: pick the backups to retire from its record (and, for a node that
 * backs up by hand, the chain it walked), ask their fiduciaries in signed requests to release them,
 * and record who confirmed. A backup counts as retired once every one of its fiduciaries confirmed;
 * until then it is asked again at the next prune (fiduciaries answer a repeated request the same).
 */
import { CID } from 'multiformats/cid';
import { MAX_RETIRE_MANIFESTS } from './constants.js';
import type { BackupMessenger } from './backup-messenger.js';
import type { Refusal } from './backup-messages.js';
import { retireBackups } from './fiduciary-requests.js';
import type { ListedBackup } from './manifest-chain.js';
import type { ManifestSigner } from './manifest.js';
import { isRetired, readRetentionRecord, retentionCandidate, selectForRetirement, withBackup, writeRetentionRecord, type RecordedBackup } from './retention.js';

export interface PruneOptions {
  /** The node's data dir (its record, `backup/retention.json`). */
  readonly dataDir: string;
  /** Backups to keep (the newest `keep`); at least 1. */
  readonly keep: number;
  readonly messenger: BackupMessenger;
  /** The node's identity: signs the retire requests. */
  readonly signer: ManifestSigner;
  /** Backups found by walking the chain (`listBackups`); those missing from the record join it as unconfirmed. */
  readonly chain?: readonly ListedBackup[];
  /** How long to wait for the fiduciaries' answers (default 2 min). */
  readonly timeoutMs?: number;
}

export interface PruneOutcome {
  /** Backups every fiduciary confirmed retiring in this prune, newest first. */
  readonly retired: readonly string[];
  /** Backups selected whose retirement some fiduciaries have not confirmed yet (asked again next time). */
  readonly pending: ReadonlyArray<{ readonly manifest: string; readonly waitingFor: readonly string[] }>;
  readonly refused: ReadonlyArray<{ readonly fiduciary: string } & Refusal>;
  /** Backups not retired, newest first. */
  readonly kept: readonly string[];
}

/**
 * Retires, at their fiduciaries, the node's backups beyond the newest `keep` that are older than its
 * newest fully confirmed backup (`selectForRetirement`), and updates the record.
 * @throws BackupError `INVALID_ARGUMENT` (keep), `MALFORMED` (an unreadable record)
 */
export async function pruneBackups(options: PruneOptions): Promise<PruneOutcome> {
  let record = await readRetentionRecord(options.dataDir);
  for (const { cid, manifest } of options.chain ?? []) {
    if (!record.some((entry) => entry.manifest === cid.toString())) {
      record = withBackup(record, { manifest: cid.toString(), created: manifest.created, fiduciaries: manifest.fiduciaries, threshold: manifest.threshold, pinnedBy: [], retiredBy: [] });
    }
  }
  const selected = new Set(selectForRetirement(record.map(retentionCandidate), options.keep));
  const requests = new Map<string, CID[]>();
  for (const entry of record) {
    if (!selected.has(entry.manifest)) continue;
    for (const fiduciary of entry.fiduciaries) {
      const asked = requests.get(fiduciary) ?? [];
      // One request per fiduciary holds at most MAX_RETIRE_MANIFESTS (the rest at the next prune).
      if (entry.retiredBy.includes(fiduciary) || asked.length >= MAX_RETIRE_MANIFESTS) continue;
      requests.set(fiduciary, [...asked, CID.parse(entry.manifest)]);
    }
  }
  const outcome = await retireBackups({ messenger: options.messenger, signer: options.signer, requests, ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  for (const fiduciary of outcome.retiredBy) {
    for (const cid of requests.get(fiduciary) ?? []) {
      const entry = record.find((candidate) => candidate.manifest === cid.toString());
      if (entry !== undefined) record = withBackup(record, { ...entry, pinnedBy: [], retiredBy: [fiduciary] });
    }
  }
  await writeRetentionRecord(options.dataDir, record);
  const newestFirst = [...record].sort((a, b) => b.created - a.created);
  const chosen: RecordedBackup[] = newestFirst.filter((entry) => selected.has(entry.manifest));
  return {
    retired: chosen.filter(isRetired).map((entry) => entry.manifest),
    pending: chosen.filter((entry) => !isRetired(entry)).map((entry) => ({ manifest: entry.manifest, waitingFor: entry.fiduciaries.filter((f) => !entry.retiredBy.includes(f)) })),
    refused: outcome.refused,
    kept: newestFirst.filter((entry) => !isRetired(entry) && !selected.has(entry.manifest)).map((entry) => entry.manifest),
  };
}
