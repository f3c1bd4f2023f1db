/**
 * The custody server's configuration: the sections every node has plus `custody`, and the optional
 * backup sections (`backup`, `backupFiduciary`), all from @milagro/node. One JSON file from
 * `--config <file>` or MILAGRO_CUSTODY_CONFIG, validated strictly, secrets only from the environment
 * or files.
 */
import { backupRolesOf, backupSectionsShape, configFileOf as nodeConfigFileOf, custodySectionSchema, loadConfig as loadNodeConfig, nodeConfigShape, type RolesConfig } from '@milagro/node';
import { z } from 'zod';

export const CustodyServerConfigSchema = z.object({ ...nodeConfigShape, custody: custodySectionSchema.prefault({}), ...backupSectionsShape }).strict();

export type CustodyServerConfig = z.infer<typeof CustodyServerConfigSchema>;

const ENV_VAR = 'MILAGRO_CUSTODY_CONFIG';

/** Loads the file named by `--config <path>` or MILAGRO_CUSTODY_CONFIG. */
export function loadConfig(argv?: readonly string[]): CustodyServerConfig {
  return loadNodeConfig(CustodyServerConfigSchema, { envVar: ENV_VAR, label: 'custody', ...(argv === undefined ? {} : { argv }) });
}

/** The roles to start: the custody operator, plus the backup services its config turns on (`configFile` is archived in each backup). */
export function rolesOf(config: CustodyServerConfig, configFile?: string): RolesConfig {
  return { curveBackend: config.curveBackend, custody: config.custody, ...backupRolesOf(config, configFile === undefined ? {} : { configFile }) };
}

/** The file `loadConfig` reads, absolute (undefined when neither names one). */
export function configFileOf(argv?: readonly string[]): string | undefined {
  return nodeConfigFileOf(ENV_VAR, argv);
}
