/**
 * The D-TA server's configuration: one JSON file (path from `--config` or MILAGRO_DTA_CONFIG),
 * validated strictly, with secrets only from the environment or files (never in the config itself,
 * never on the command line).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

const secretSource = z.union([z.object({ env: z.string().min(1) }).strict(), z.object({ file: z.string().min(1) }).strict()]);

export const DtaServerConfigSchema = z
  .object({
    /** Everything this D-TA keeps: key store, IPFS blocks, messaging journal, SQLite database. */
    dataDir: z.string().min(1),
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8080),
        /** Largest request body in bytes (order envelopes carry secrets of up to 8 KiB). */
        bodyLimit: z.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
      })
      .strict()
      .prefault({}),
    ipfs: z
      .object({
        listen: z.array(z.string()).optional(),
        /** Consortium peers to keep connected (multiaddrs ending in /p2p/<peer id>). */
        peers: z.array(z.string()).default([]),
        /** Private-network key (Kubo swarm.key format), from the environment or a file. */
        swarmKey: secretSource.optional(),
      })
      .strict()
      .prefault({}),
    keyStore: z
      .discriminatedUnion('kind', [
        z
          .object({
            kind: z.literal('file'),
            /** Passphrase of the encrypted key file. */
            passphrase: secretSource.default({ env: 'MILAGRO_KEYSTORE_PASSPHRASE' }),
            /** scrypt cost; lower it only in tests. */
            scryptLogN: z.number().int().min(10).max(22).optional(),
          })
          .strict(),
        z
          .object({
            kind: z.literal('pkcs11'),
            module: z.string().min(1),
            tokenLabel: z.string().min(1).optional(),
            pin: secretSource,
          })
          .strict(),
      ])
      .prefault({ kind: 'file' }),
    dta: z
      .object({
        /** D-TA identities allowed to propose realms to this D-TA. */
        trustedProposers: z.array(z.string()).default([]),
        /** Bearer token for the operator endpoints (create realm, reshare). */
        adminToken: secretSource.default({ env: 'MILAGRO_DTA_ADMIN_TOKEN' }),
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
    /** BLS12-381 pairing/group backend for issuance: mcl-wasm (fast) or noble (pure JS). */
    curveBackend: z.enum(['mcl', 'noble']).default('mcl'),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info') }).strict().prefault({}),
  })
  .strict();

export type DtaServerConfig = z.infer<typeof DtaServerConfigSchema>;
export type SecretSource = z.infer<typeof secretSource>;

/** Reads a secret from its source; the error names the source, never the value. */
export function readSecret(source: SecretSource): string {
  if ('env' in source) {
    const value = process.env[source.env];
    if (value === undefined || value === '') throw new Error(`environment variable ${source.env} is not set`);
    return value;
  }
  const value = readFileSync(source.file, 'utf8').replace(/\r?\n$/, '');
  if (value === '') throw new Error(`secret file ${source.file} is empty`);
  return value;
}

/** Parses and validates a config object; relative `dataDir` resolves against `baseDir`. */
export function parseConfig(raw: unknown, baseDir = process.cwd()): DtaServerConfig {
  const result = DtaServerConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new Error(`invalid D-TA configuration:\n  ${problems.join('\n  ')}`);
  }
  return { ...result.data, dataDir: resolve(baseDir, result.data.dataDir) };
}

/** Loads the config file named by `--config <path>` or MILAGRO_DTA_CONFIG. */
export function loadConfig(argv: readonly string[] = process.argv.slice(2)): DtaServerConfig {
  const flag = argv.indexOf('--config');
  const path = flag >= 0 ? argv[flag + 1] : process.env['MILAGRO_DTA_CONFIG'];
  if (path === undefined) throw new Error('no configuration: pass --config <file> or set MILAGRO_DTA_CONFIG');
  const text = readFileSync(path, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new Error(`${path} is not valid JSON`, { cause });
  }
  return parseConfig(raw, resolve(path, '..'));
}
