/**
 * The D-TA server's configuration: the sections every node has plus `dta` (both from @milagro/node).
 * One JSON file from `--config <file>` or MILAGRO_DTA_CONFIG, validated strictly, secrets only from
 * the environment or files.
 */
import { dtaSectionSchema, loadConfig as loadNodeConfig, nodeConfigShape } from '@milagro/node';
import { z } from 'zod';

export const DtaServerConfigSchema = z.object({ ...nodeConfigShape, dta: dtaSectionSchema.prefault({}) }).strict();

export type DtaServerConfig = z.infer<typeof DtaServerConfigSchema>;

/** Loads the file named by `--config <path>` or MILAGRO_DTA_CONFIG. */
export function loadConfig(argv?: readonly string[]): DtaServerConfig {
  return loadNodeConfig(DtaServerConfigSchema, { envVar: 'MILAGRO_DTA_CONFIG', label: 'D-TA', ...(argv === undefined ? {} : { argv }) });
}
