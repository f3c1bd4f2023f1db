/**
 * A node's configuration: one JSON file (path from `--config <file>` or an environment variable),
 * validated strictly, with secrets only from the environment or files: never in the config itself,
 * never on the command line. Each app adds its own section to {@link nodeConfigShape}.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { NodeError } from './errors.js';

/** Where a secret comes from: `{ env: 'NAME' }` or `{ file: '/run/secrets/name' }`. */
export const secretSourceSchema = z.union([z.object({ env: z.string().min(1) }).strict(), z.object({ file: z.string().min(1) }).strict()]);

export type SecretSource = z.infer<typeof secretSourceSchema>;

/**
 * Reads a secret from its source (one trailing newline of a file is dropped). Throws
 * `SECRET_UNAVAILABLE` naming the variable or file, never the value.
 */
export function readSecret(source: SecretSource): string {
  if ('env' in source) {
    const value = process.env[source.env];
    if (value === undefined || value === '') throw new NodeError('SECRET_UNAVAILABLE', `environment variable ${source.env} is not set`);
    return value;
  }
  let value: string;
  try {
    value = readFileSync(source.file, 'utf8').replace(/\r?\n$/, '');
  } catch (cause) {
    throw new NodeError('SECRET_UNAVAILABLE', `cannot read secret file ${source.file}`, { cause });
  }
  if (value === '') throw new NodeError('SECRET_UNAVAILABLE', `secret file ${source.file} is empty`);
  return value;
}

const DURATION = /^([1-9]\d{0,8})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_EXPECTED = "expected a duration like '30s', '15m', '24h' or '7d', or a whole number of minutes";

/** A duration in the config: `'30s'`, `'15m'`, `'24h'`, `'7d'`, or a whole number of minutes; parsed to milliseconds. */
export const durationSchema = z.union([z.number(), z.string()], { error: DURATION_EXPECTED }).transform((value, context) => {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 1 && value <= 10_000_000) return value * 60_000;
  } else {
    const match = DURATION.exec(value);
    if (match !== null) return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  }
  context.addIssue({ code: 'custom', message: DURATION_EXPECTED });
  return z.NEVER;
});

/**
 * The sections every node has. An app spreads it into its own strict schema:
 * `z.object({ ...nodeConfigShape, dta: dtaSection }).strict()`.
 */
export const nodeConfigShape = {
  /** Everything the node keeps: key store, IPFS blocks, messaging journal, SQLite database (unless `database` is PostgreSQL). Relative paths resolve against the config file's directory. */
  dataDir: z.string().min(1),
  http: z
    .object({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(8080),
      /** Largest request body in bytes. */
      bodyLimit: z.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
      /** Browser origins allowed to call this node's API (e.g. the login page whose client SDK fetches shares from D-TAs). */
      cors: z
        .object({
          origins: z.union([z.literal('*'), z.array(z.string().regex(/^https?:\/\/[a-z0-9.-]+(?::\d{1,5})?$/, 'an origin like https://login.example (lower case, no path)')).min(1)]),
          maxAgeSeconds: z.number().int().min(0).max(86_400).optional(),
        })
        .strict()
        .optional(),
    })
    .strict()
    .prefault({}),
  ipfs: z
    .object({
      listen: z.array(z.string()).optional(),
      /** Consortium peers to keep connected (multiaddrs ending in /p2p/<peer id>). */
      peers: z.array(z.string()).default([]),
      /** Private-network key (Kubo swarm.key format), from the environment or a file. */
      swarmKey: secretSourceSchema.optional(),
      /**
       * Use a Kubo daemon over its RPC API instead of the embedded node (started with pubsub
       * enabled; keep its API on loopback or a private network: it is unauthenticated). Its own
       * config then holds the listen addresses and swarm key; `peers` are dialled through it.
       */
      kubo: z
        .object({
          url: z.string().regex(/^https?:\/\/[^\s/]+(\/.*)?$/, 'expected the RPC URL of a Kubo daemon, like http://127.0.0.1:5001'),
          /** Timeout of the first call (the daemon's identity), in ms. */
          timeoutMs: z.number().int().min(100).max(600_000).optional(),
        })
        .strict()
        .optional(),
    })
    .strict()
    .superRefine((ipfs, context) => {
      if (ipfs.kubo === undefined) return;
      for (const key of ['listen', 'swarmKey'] as const) {
        if (ipfs[key] !== undefined) context.addIssue({ code: 'custom', path: [key], message: `does not apply with ipfs.kubo (set it in the Kubo daemon's own config)` });
      }
    })
    .prefault({}),
  keyStore: z
    .discriminatedUnion('kind', [
      z
        .object({
          kind: z.literal('file'),
          /** Passphrase of the encrypted key file. */
          passphrase: secretSourceSchema.default({ env: 'MILAGRO_KEYSTORE_PASSPHRASE' }),
          /** scrypt cost; lower it only in tests. */
          scryptLogN: z.number().int().min(10).max(22).optional(),
        })
        .strict(),
      z
        .object({
          kind: z.literal('pkcs11'),
          module: z.string().min(1),
          tokenLabel: z.string().min(1).optional(),
          pin: secretSourceSchema,
        })
        .strict(),
    ])
    .prefault({ kind: 'file' }),
  /**
   * Where server state lives: embedded SQLite in `dataDir` (the default; one host), or PostgreSQL,
   * which several replicas of a service share (docs/adr/0014-postgresql-storage.md). The URL may
   * hold a password, so it comes from the environment or a file, never from this file.
   */
  database: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('sqlite') }).strict(),
      z
        .object({
          kind: z.literal('postgres'),
          /** A `postgresql://` connection URI. */
          url: secretSourceSchema.default({ env: 'MILAGRO_DATABASE_URL' }),
          /** Connections per process (default 10). */
          poolSize: z.number().int().min(1).max(200).optional(),
        })
        .strict(),
    ])
    .prefault({ kind: 'sqlite' }),
  /** BLS12-381 pairing/group backend: mcl-wasm (fast) or noble (pure JS). */
  curveBackend: z.enum(['mcl', 'noble']).default('mcl'),
  log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info') }).strict().prefault({}),
};

/** The sections every node has, parsed (defaults filled in, `dataDir` absolute). */
export type NodeConfig = z.infer<z.ZodObject<typeof nodeConfigShape>>;

/**
 * Validates `raw` against `schema` and resolves a relative `dataDir` against `baseDir` (default:
 * the working directory). Throws `INVALID_CONFIG` listing every failing path; the messages name
 * paths and expectations, never the values given.
 */
export function parseConfig<S extends z.ZodTypeAny>(schema: S, raw: unknown, options: { baseDir?: string; label: string }): z.infer<S> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
    throw new NodeError('INVALID_CONFIG', `invalid ${options.label} configuration:\n  ${problems.join('\n  ')}`);
  }
  const config: unknown = result.data;
  if (typeof config === 'object' && config !== null && 'dataDir' in config && typeof config.dataDir === 'string') {
    return { ...config, dataDir: resolve(options.baseDir ?? process.cwd(), config.dataDir) } as z.infer<S>;
  }
  return config as z.infer<S>;
}

/**
 * Loads the JSON file named by `--config <file>` in `argv` (default: the process's arguments) or,
 * failing that, by the environment variable `envVar`, and parses it with {@link parseConfig};
 * a relative `dataDir` resolves against the file's directory.
 */
export function loadConfig<S extends z.ZodTypeAny>(schema: S, options: { envVar: string; label: string; argv?: readonly string[] }): z.infer<S> {
  const path = configPathOf(options.envVar, options.argv);
  if (path === undefined) {
    throw new NodeError('INVALID_CONFIG', `no ${options.label} configuration: pass --config <file> or set ${options.envVar}`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new NodeError('INVALID_CONFIG', `cannot read the ${options.label} configuration ${path}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    // V8's message quotes the text around the error, so only its position is kept (and no cause).
    const where = /at position \d+(?: \(line \d+ column \d+\))?/.exec(String(error))?.[0];
    throw new NodeError('INVALID_CONFIG', `${path} is not valid JSON${where === undefined ? '' : ` (${where})`}`);
  }
  return parseConfig(schema, raw, { baseDir: resolve(path, '..'), label: options.label });
}

/**
 * The configuration file {@link loadConfig} reads, as an absolute path (e.g. to archive it in a
 * backup): `--config <file>` in `argv` (default: the process's arguments), else `envVar`; undefined
 * when neither names one.
 */
export function configFileOf(envVar: string, argv?: readonly string[]): string | undefined {
  const path = configPathOf(envVar, argv);
  return path === undefined ? undefined : resolve(path);
}

function configPathOf(envVar: string, argv: readonly string[] = process.argv.slice(2)): string | undefined {
  const flag = argv.indexOf('--config');
  const path = flag >= 0 ? argv[flag + 1] : process.env[envVar];
  return path === undefined || path === '' ? undefined : path;
}
