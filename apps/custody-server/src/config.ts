/**
 * The custody server's configuration: the sections every node has plus `custody` (both from
 * @milagro/node). One JSON file from `--config <file>` or MILAGRO_CUSTODY_CONFIG, validated
 * strictly, secrets only from the environment or files.
 */
import { custodySectionSchema, loadConfig as loadNodeConfig, nodeConfigShape } from '@milagro/node';
import { z } from 'zod';

export const CustodyServerConfigSchema = z.object({ ...nodeConfigShape, custody: custodySectionSchema.prefault({}) }).strict();

export type CustodyServerConfig = z.infer<typeof CustodyServerConfigSchema>;

/** Loads the file named by `--config <path>` or MILAGRO_CUSTODY_CONFIG. */
export function loadConfig(argv?: readonly string[]): CustodyServerConfig {
  return loadNodeConfig(CustodyServerConfigSchema, { envVar: 'MILAGRO_CUSTODY_CONFIG', label: 'custody', ...(argv === undefined ? {} : { argv }) });
}
