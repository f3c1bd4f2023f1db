/**
 * @packageDocumentation
 * Decentralised backup and recovery of a Milagro node (docs/specs/backup.md). A snapshot of the
 * node's data directory (key store, databases as transaction-consistent copies, IPFS repository,
 * messaging journal) and its config streams through `@milagro/envelope`'s STREAM seal into IPFS
 * blocks, sealed to a k-of-n group of fiduciary identities, and a manifest signed by the node links
 * it and the previous backup. To restore, the owner proves control of the recovery credential; k
 * fiduciaries verify the proof, log the release in their audit chain and send their shares sealed
 * to the restoring node, which decrypts, checks and only then moves the node into place.
 *
 * ```ts
 * import { createBackup, depositBackup, requestShares, restoreBackup, recoveryPublicKey } from '@milagro/backup';
 *
 * const { cid } = await createBackup({ source: { dataDir }, signer, identity: node.identity.head, store: node.ipfs.store,
 *   fiduciaries, threshold: 2, recovery: recoveryPublicKey(secret) });
 * await depositBackup({ messenger: node.messenger, manifest: cid, fiduciaries: fiduciaries.map((f) => f.id) });
 *
 * // on a fresh machine, as a temporary identity:
 * const collected = await requestShares({ messenger, requesterKem, store, resolver, manifest: cid, recoverySecret: secret });
 * await restoreBackup({ store, manifest: cid, nodeSigningKey: collected.nodeSigningKey, shares: collected.shares, dataDir });
 *
 * // retention: keep the newest 7 (only behind a backup k fiduciaries confirmed), in signed requests:
 * await pruneBackups({ dataDir, keep: 7, messenger: node.messenger, signer });
 * ```
 */
export { BackupError, isBackupError, type BackupErrorCode } from './errors.js';
export { BACKUP_VERSION, MESSAGE_TYPES, AUDIT_TYPE, SNAPSHOT_TYPE, HEAD_FILE, RECOVERY_FILE, RETENTION_FILE, DEFAULT_RELEASE_LIMIT, DEFAULT_KEEP } from './constants.js';
export { packArchive, unpackArchive, isSafeArchivePath, type ArchiveFile, type ArchiveTarget, type UnpackedArchive } from './archive.js';
export { snapshotFiles, DATA_PREFIX, CONFIG_PREFIX, type SnapshotSource } from './snapshot.js';
export { decodeManifest, manifestValue, signManifest, verifyManifest, type BackupManifest, type ManifestSigner, type SignedManifest } from './manifest.js';
export { generateRecoverySecret, recoveryPublicKey, proveRecovery, verifyRecoveryProof, type RecoveryClaim } from './recovery-credential.js';
export { readManifest, readEnvelope, type BackupStore } from './backup-store.js';
export { createBackup, type CreateBackupOptions, type CreatedBackup } from './create-backup.js';
export { restoreBackup, checkDatabases, type RestoreBackupOptions, type RestoredBackup, type RestoredLayout } from './restore-backup.js';
export { nodeKeyAtBackup } from './node-key.js';
export { listBackups, readBackupHead, writeBackupHead, type ListedBackup } from './manifest-chain.js';
export { readRecoveryPublicKey, writeRecoveryPublicKey } from './recovery-file.js';
export type { BackupMessage, BackupMessenger, KeyResolver } from './backup-messenger.js';
export { isFiduciaryMessageType, isBackupReplyType, decodeManifestNotice, type Refusal, type Release, type ReleaseRequest, type RetireRequest } from './backup-messages.js';
export { BackupFiduciary, type BackupFiduciaryOptions, type FiduciaryEvent, type ReleaseLimit } from './backup-fiduciary.js';
export { depositBackup, requestShares, retireBackups, type DepositOptions, type DepositOutcome, type RequestSharesOptions, type CollectedShares, type RetireOptions, type RetireOutcome } from './fiduciary-requests.js';
export { signRetireClaim, verifyRetireClaim, type RetireClaim } from './retire-request.js';
export {
  selectForRetirement,
  isValidKeep,
  isRetired,
  retentionCandidate,
  readRetentionRecord,
  writeRetentionRecord,
  withBackup,
  type RetentionCandidate,
  type RecordedBackup,
} from './retention.js';
export { pruneBackups, type PruneOptions, type PruneOutcome } from './prune-backups.js';
