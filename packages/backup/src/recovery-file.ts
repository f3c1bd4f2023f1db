/** Where a node keeps its owner's recovery public key (never the secret): `<dataDir>/backup/recovery.json`. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RECOVERY_FILE } from './constants.js';
import { BackupError } from './errors.js';

/** Records the recovery public key in `dataDir` (atomically, mode 0600). */
export async function writeRecoveryPublicKey(dataDir: string, publicKey: Uint8Array): Promise<string> {
  const path = join(dataDir, RECOVERY_FILE);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(`${path}.tmp`, `${JSON.stringify({ publicKey: Buffer.from(publicKey).toString('base64') })}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
  return path;
}

/**
 * The recovery public key recorded in `dataDir`.
 * @throws BackupError `NOT_FOUND` (no credential: `milagro backup init-recovery`), `MALFORMED`
 */
export async function readRecoveryPublicKey(dataDir: string): Promise<Uint8Array> {
  const path = join(dataDir, RECOVERY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new BackupError('NOT_FOUND', `no recovery credential for this node (${path}): run \`milagro backup init-recovery\` first`);
    throw error;
  }
  try {
    const { publicKey } = JSON.parse(text) as { publicKey?: unknown };
    if (typeof publicKey !== 'string') throw new Error('no publicKey');
    return new Uint8Array(Buffer.from(publicKey, 'base64'));
  } catch (cause) {
    throw new BackupError('MALFORMED', `${path} is unreadable`, { cause });
  }
}
