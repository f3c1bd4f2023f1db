/**
 * The D-TA server's configuration: the sections every node has plus `dta`, and the optional backup
 * sections (`backup`, `backupFiduciary`: serving as a fiduciary is the natural role of a D-TA), all
 * from @milagro/node. One JSON file from `--config <file>` or MILAGRO_DTA_CONFIG, validated
 * strictly, secrets only from the environment or files.
 */
import { backupRolesOf, backupSectionsShape, configFileOf as nodeConfigFileOf, dtaSectionSchema, loadConfig as loadNodeConfig, nodeConfigShape, type RolesConfig } from '@milagro/node';
import { z } from 'zod';

export const DtaServerConfigSchema = z.object({ ...nodeConfigShape, dta: dtaSectionSchema.prefault({}), ...backupSectionsShape }).strict();

export type DtaServerConfig = z.infer<typeof DtaServerConfigSchema>;

const ENV_VAR = 'MILAGRO_DTA_CONFIG';

/** Loads the file named by `--config <path>` or MILAGRO_DTA_CONFIG. */
export function loadConfig(argv?: readonly string[]): DtaServerConfig {
  return loadNodeConfig(DtaServerConfigSchema, { envVar: ENV_VAR, label: 'D-TA', ...(argv === undefined ? {} : { argv }) });
}

/** The roles to start: the D-TA, plus the backup services its config turns on (`configFile` is archived in each backup). */
export function rolesOf(config: DtaServerConfig, configFile?: string): RolesConfig {
  return { curveBackend: config.curveBackend, dta: config.dta, ...backupRolesOf(config, configFile === undefined ? {} : { configFile }) };
}

/** The file `loadConfig` reads, absolute (undefined when neither names one). */
export function configFileOf(argv?: readonly string[]): string | undefined {
  return nodeConfigFileOf(ENV_VAR, argv);
}
