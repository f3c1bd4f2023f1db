// Creates a fresh SoftHSM2 token for one test file through tools/softhsm/setup-token.sh.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runInThisContext } from 'node:vm';

/** The SoftHSM2 PKCS#11 module the tests use. */
export const SOFTHSM_MODULE = process.env.SOFTHSM2_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';

/** Why PKCS#11 tests are skipped, or undefined when SoftHSM2 is installed. */
export const softHsmSkipReason: string | undefined = existsSync(SOFTHSM_MODULE)
  ? undefined
  : `SoftHSM2 is not installed (${SOFTHSM_MODULE} missing): PKCS#11 tests skipped. Install the softhsm2 package to run them.`;

/** A token created for this test file. */
export interface SoftHsmToken {
  readonly dir: string;
  readonly module: string;
  readonly tokenLabel: string;
  readonly pinFile: string;
  /** Removes the token directory. */
  remove(): void;
}

/**
 * Runs the setup script in a fresh temporary directory and points SOFTHSM2_CONF at it (SoftHSM2
 * reads the variable at C_Initialize, so set it before the first store opens).
 */
export function createSoftHsmToken(): SoftHsmToken {
  const dir = mkdtempSync(join(tmpdir(), 'milagro-softhsm-'));
  const script = resolve(__dirname, '../../../tools/softhsm/setup-token.sh');
  const output = execFileSync('sh', [script, dir], { encoding: 'utf8', env: { ...process.env, SOFTHSM2_MODULE: SOFTHSM_MODULE } });
  const env: Record<string, string> = {};
  for (const match of output.matchAll(/^export (\w+)='([^']*)'$/gm)) env[match[1]!] = match[2]!;
  // Jest gives each test file a copy of process.env; SoftHSM2 calls getenv() in native code, so the
  // variable must be set on the worker's real process, reached through the main V8 context.
  const realProcess = runInThisContext('process') as NodeJS.Process;
  realProcess.env.SOFTHSM2_CONF = env.SOFTHSM2_CONF;
  process.env.SOFTHSM2_CONF = env.SOFTHSM2_CONF;
  return {
    dir,
    module: env.MILAGRO_PKCS11_MODULE!,
    tokenLabel: env.MILAGRO_PKCS11_TOKEN_LABEL!,
    pinFile: env.MILAGRO_PKCS11_PIN_FILE!,
    remove: () => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }),
  };
}
