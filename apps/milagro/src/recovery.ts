/**
 * The owner's recovery credential (issue 11): a random secret shown once, from which the key that
 * proves control of this node to its backup fiduciaries is derived. Only its public key is kept, in
 * `<dataDir>/backup/recovery.json`; `milagro init` creates it, `milagro backup init-recovery` replaces it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateRecoverySecret, recoveryPublicKey } from '@milagro/backup';

export const RECOVERY_FILE = 'backup/recovery.json';

/** Creates a recovery secret and records its public key under `dataDir`; the secret is returned to be shown once, never stored. */
export async function writeRecoveryCredential(dataDir: string): Promise<{ readonly secret: string; readonly file: string }> {
  const secret = generateRecoverySecret();
  const file = join(dataDir, RECOVERY_FILE);
  await mkdir(join(dataDir, 'backup'), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify({ publicKey: Buffer.from(recoveryPublicKey(secret)).toString('base64') })}\n`, { mode: 0o600 });
  return { secret, file };
}
