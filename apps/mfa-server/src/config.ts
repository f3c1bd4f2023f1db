/**
 * The MFA server's configuration: the sections every node has plus `mfa`, and the optional backup
 * sections (`backup`: scheduled backups of this node; `backupFiduciary`: serve as a fiduciary for
 * other nodes), all from @milagro/node. One JSON file (path from `--config` or MILAGRO_MFA_CONFIG),
 * validated strictly; secrets only from the environment or files.
 */
import {
  backupRolesOf,
  backupSectionsShape,
  configFileOf as nodeConfigFileOf,
  loadConfig as loadNodeConfig,
  mfaSectionSchema,
  nodeConfigShape,
  parseConfig as parseNodeConfig,
  type RolesConfig,
} from '@milagro/node';
import { z } from 'zod';

export const MfaServerConfigSchema = z.object({ ...nodeConfigShape, mfa: mfaSectionSchema, ...backupSectionsShape }).strict();

export type MfaServerConfig = z.infer<typeof MfaServerConfigSchema>;

const LABEL = 'MFA';
const ENV_VAR = 'MILAGRO_MFA_CONFIG';

/** Parses and validates a config object; a relative `dataDir` resolves against `baseDir`. */
export function parseConfig(raw: unknown, baseDir?: string): MfaServerConfig {
  return parseNodeConfig(MfaServerConfigSchema, raw, { label: LABEL, ...(baseDir === undefined ? {} : { baseDir }) });
}

/** Loads the file named by `--config <path>` or MILAGRO_MFA_CONFIG. */
export function loadConfig(argv?: readonly string[]): MfaServerConfig {
  return loadNodeConfig(MfaServerConfigSchema, { envVar: ENV_VAR, label: LABEL, ...(argv === undefined ? {} : { argv }) });
}

/** The roles to start: the MFA service, plus the backup services its config turns on (`configFile` is archived in each backup). */
export function rolesOf(config: MfaServerConfig, configFile?: string): RolesConfig {
  return { curveBackend: config.curveBackend, mfa: config.mfa, ...backupRolesOf(config, configFile === undefined ? {} : { configFile }) };
}

/** The file `loadConfig` reads, absolute (undefined when neither names one). */
export function configFileOf(argv?: readonly string[]): string | undefined {
  return nodeConfigFileOf(ENV_VAR, argv);
}
