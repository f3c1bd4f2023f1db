/**
 * The MFA server's configuration: the sections every node has plus `mfa` (both from @milagro/node).
 * One JSON file (path from `--config` or MILAGRO_MFA_CONFIG), validated strictly; secrets only from
 * the environment or files.
 */
import { loadConfig as loadNodeConfig, mfaSectionSchema, nodeConfigShape, parseConfig as parseNodeConfig } from '@milagro/node';
import { z } from 'zod';

export const MfaServerConfigSchema = z.object({ ...nodeConfigShape, mfa: mfaSectionSchema }).strict();

export type MfaServerConfig = z.infer<typeof MfaServerConfigSchema>;

const LABEL = 'MFA';

/** Parses and validates a config object; a relative `dataDir` resolves against `baseDir`. */
export function parseConfig(raw: unknown, baseDir?: string): MfaServerConfig {
  return parseNodeConfig(MfaServerConfigSchema, raw, { label: LABEL, ...(baseDir === undefined ? {} : { baseDir }) });
}

/** Loads the file named by `--config <path>` or MILAGRO_MFA_CONFIG. */
export function loadConfig(argv?: readonly string[]): MfaServerConfig {
  return loadNodeConfig(MfaServerConfigSchema, { envVar: 'MILAGRO_MFA_CONFIG', label: LABEL, ...(argv === undefined ? {} : { argv }) });
}
