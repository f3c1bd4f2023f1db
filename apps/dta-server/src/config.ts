/**
 * The D-TA server's configuration: the sections every node has (@milagro/node) plus `dta`. One JSON
 * file from `--config <file>` or MILAGRO_DTA_CONFIG, validated strictly, secrets only from the
 * environment or files.
 */
import { loadConfig as loadNodeConfig, nodeConfigShape, secretSourceSchema } from '@milagro/node';
import { z } from 'zod';

export const DtaServerConfigSchema = z
  .object({
    ...nodeConfigShape,
    dta: z
      .object({
        /** D-TA identities allowed to propose realms to this D-TA. */
        trustedProposers: z.array(z.string()).default([]),
        /** Bearer token for the operator endpoints (create realm, reshare). */
        adminToken: secretSourceSchema.default({ env: 'MILAGRO_DTA_ADMIN_TOKEN' }),
        /** Per-round deadline of the DKG and resharing, in ms. */
        protocolRoundTimeoutMs: z.number().int().min(1000).default(60_000),
        plugins: z
          .object({
            'safeguard-secret': z.object({}).strict().optional(),
            'bitcoin-address': z.object({ network: z.enum(['mainnet', 'testnet', 'regtest']).default('mainnet') }).strict().optional(),
          })
          .strict()
          .default({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type DtaServerConfig = z.infer<typeof DtaServerConfigSchema>;

/** Loads the file named by `--config <path>` or MILAGRO_DTA_CONFIG. */
export function loadConfig(argv?: readonly string[]): DtaServerConfig {
  return loadNodeConfig(DtaServerConfigSchema, { envVar: 'MILAGRO_DTA_CONFIG', label: 'D-TA', ...(argv === undefined ? {} : { argv }) });
}
