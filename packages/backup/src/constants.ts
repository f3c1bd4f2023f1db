/** Tunables and labels of the backup format (docs/specs/backup.md). */

/** Version of the manifest, archive and message formats. */
export const BACKUP_VERSION = 1;

/** Envelope content type of a backup body (the archive). */
export const SNAPSHOT_TYPE = 'milagro/backup/snapshot';

/** Signature context of a manifest. */
export const MANIFEST_CONTEXT = 'milagro/backup/manifest/v1';

/** Signature context of a recovery proof. */
export const RECOVERY_PROOF_CONTEXT = 'milagro/backup/recovery-proof/v1';

/** Message types between a node, a restoring node and the fiduciaries. */
export const MESSAGE_TYPES = {
  deposit: 'milagro/backup/deposit',
  deposited: 'milagro/backup/deposited',
  releaseRequest: 'milagro/backup/release-request',
  release: 'milagro/backup/release',
  refusal: 'milagro/backup/refusal',
  retire: 'milagro/backup/retire',
  retired: 'milagro/backup/retired',
} as const;

/** Signature context of a retire request (the node's own signature, kept in the fiduciary's audit chain). */
export const RETIRE_CONTEXT = 'milagro/backup/retire/v1';

/** Manifests one retire request may name. */
export const MAX_RETIRE_MANIFESTS = 256;

/** Backups a node keeps when its config says nothing (`backup.keep`). */
export const DEFAULT_KEEP = 7;

/** Envelope content type of a fiduciary's audit-chain entry (one per release). */
export const AUDIT_TYPE = 'milagro/backup/release-audit';

/** A recovery proof older (or further in the future) than this is refused. */
export const DEFAULT_MAX_PROOF_AGE_MS = 10 * 60 * 1000;

/** Releases of one node's backups a fiduciary allows per window (default 3 per 24 h). */
export const DEFAULT_RELEASE_LIMIT = { releases: 3, windowMs: 24 * 60 * 60 * 1000 } as const;

/** Ciphertext bytes per IPFS block of a backup body (the envelope's detached form). */
export const BLOCK_SIZE = 1024 * 1024;

/** Plaintext bytes per STREAM chunk. */
export const CHUNK_SIZE = 256 * 1024;

/** Bytes read from a file per archive piece. */
export const READ_SIZE = 256 * 1024;

/** Where a node keeps the CID of its newest backup manifest, relative to its data dir. */
export const HEAD_FILE = 'backup/head.json';

/** Where a node records its backups' confirmations and retirements, relative to its data dir. */
export const RETENTION_FILE = 'backup/retention.json';

/** Where a node keeps its owner's recovery public key, relative to its data dir. */
export const RECOVERY_FILE = 'backup/recovery.json';
