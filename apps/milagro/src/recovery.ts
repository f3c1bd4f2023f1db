/**
 * The owner's recovery credential (issue 11): a random secret shown once, from which the key that
 * proves control of this node to its backup fiduciaries is derived. Only its public key is kept, in
 * `<dataDir>/backup/recovery.json`; `milagro init` creates it, `milagro backup init-recovery` replaces it.
 */
import { generateRecoverySecret, recoveryPublicKey, writeRecoveryPublicKey } from '@milagro/backup';

export { RECOVERY_FILE } from '@milagro/backup';

/** Creates a recovery secret and records its public key under `dataDir`; the secret is returned to be shown once, never stored. */
export async function writeRecoveryCredential(dataDir: string): Promise<{ readonly secret: string; readonly file: string }> {
  const secret = generateRecoverySecret();
  const file = await writeRecoveryPublicKey(dataDir, recoveryPublicKey(secret));
  return { secret, file };
}
