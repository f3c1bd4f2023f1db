/**
 * `config.yaml` of the all-in-one server: the sections every node has, `roles` (which roles run),
 * one section per role (`dta`, `mfa`, `custody`), and the backup sections (`backup`: scheduled
 * backups of this node; `backupFiduciary`: serve as a fiduciary), all from @milagro/node. Environment variables
 * `MILAGRO_<SECTION>_<KEY>` override a few scalar keys (ENV_OVERRIDES); secrets are never in the
 * file or the environment overrides, only `{ env }` / `{ file }` sources.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  backupRolesOf,
  backupSectionsShape,
  custodySectionSchema,
  dtaSectionSchema,
  mfaSectionSchema,
  nodeConfigShape,
  parseConfig,
  ROLE_NAMES,
  type CustodySection,
  type DtaSection,
  type MfaSection,
  type RolesConfig,
} from '@milagro/node';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { UsageError } from './exit-codes.js';

/** The roles a milagro node can run: @milagro/node's ROLE_NAMES (dta, mfa, custody). */
export const MILAGRO_ROLES = ROLE_NAMES;

export const milagroConfigSchema = z
  .object({
    /** The roles this node runs, each configured by its section. */
    roles: z
      .array(z.enum(MILAGRO_ROLES))
      .min(1)
      .refine((roles) => new Set(roles).size === roles.length, { message: 'a role is listed twice' }),
    ...nodeConfigShape,
    dta: dtaSectionSchema.optional(),
    mfa: mfaSectionSchema.optional(),
    custody: custodySectionSchema.optional(),
    /** `backup`: scheduled backups of this node (docs/specs/backup.md); `backupFiduciary`: serve as a fiduciary for other nodes (present, even `{}`, means on). */
    ...backupSectionsShape,
  })
  .strict()
  .superRefine((config, context) => {
    if (config.roles.includes('mfa') && config.mfa === undefined) context.addIssue({ code: 'custom', path: ['mfa'], message: 'expected the mfa section (roles lists mfa), found none' });
    for (const role of MILAGRO_ROLES) {
      if (config[role] !== undefined && !config.roles.includes(role)) context.addIssue({ code: 'custom', path: [role], message: `found a ${role} section, but roles does not list ${role}` });
    }
  });

export type MilagroConfig = z.infer<typeof milagroConfigSchema>;

/** Environment overrides: variable → [section, key, type]. Only plain scalars, never secrets. */
export const ENV_OVERRIDES: Readonly<Record<string, readonly [section: string, key: string, type: 'string' | 'number']>> = {
  MILAGRO_HTTP_HOST: ['http', 'host', 'string'],
  MILAGRO_HTTP_PORT: ['http', 'port', 'number'],
  MILAGRO_HTTP_BODY_LIMIT: ['http', 'bodyLimit', 'number'],
  MILAGRO_LOG_LEVEL: ['log', 'level', 'string'],
  MILAGRO_DTA_PROTOCOL_ROUND_TIMEOUT_MS: ['dta', 'protocolRoundTimeoutMs', 'number'],
  MILAGRO_MFA_ISSUER: ['mfa', 'issuer', 'string'],
};

function applyEnvOverrides(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const config = { ...(raw as Record<string, unknown>) };
  for (const [name, [section, key, type]] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const current = config[section];
    // A role's section is only touched when the file has it; a scalar override never creates one.
    if ((MILAGRO_ROLES as readonly string[]).includes(section) && current === undefined) continue;
    // Not a number stays a string, so the schema names the key and what it expected.
    const parsed = type === 'number' && /^\d+$/.test(value) ? Number(value) : value;
    config[section] = { ...(typeof current === 'object' && current !== null ? current : {}), [key]: parsed };
  }
  return config;
}

/** Reads and validates `path` (YAML), with environment overrides; a relative `dataDir` resolves against the file's directory. Throws {@link UsageError} naming the key. */
export function loadMilagroConfig(path: string, env: NodeJS.ProcessEnv = process.env): MilagroConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(code === 'ENOENT' ? `no config at ${path}: run \`milagro init\` or pass --config <file>` : `cannot read the config ${path} (${String(code)})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    // The parser's message quotes the text around the error (it could be a secret), so only the position is kept.
    const where = error instanceof YAMLParseError && error.linePos !== undefined ? ` at line ${error.linePos[0].line} column ${error.linePos[0].col}` : '';
    throw new UsageError(`${path} is not valid YAML${where}`);
  }
  let config: MilagroConfig;
  try {
    config = parseConfig(milagroConfigSchema, applyEnvOverrides(raw, env), { baseDir: resolve(path, '..'), label: path });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  configFiles.set(config, resolve(path));
  return config;
}

/** The file each loaded config came from (scheduled backups archive it beside the data dir). */
const configFiles = new WeakMap<MilagroConfig, string>();

/** `RUN_FILE` of start.ts (which imports this module): it names a live process, so no backup restores it. */
const RUN_FILE = 'milagro.run.json';


/**
 * The roles to start, with each listed role's section (the D-TA's and custody's defaults when listed
 * without one), and the backup services the config turns on (`backupFiduciary`, `backup`).
 */
export function rolesOf(config: MilagroConfig): RolesConfig {
  const dta: DtaSection | undefined = config.roles.includes('dta') ? (config.dta ?? dtaSectionSchema.parse({})) : undefined;
  const mfa: MfaSection | undefined = config.roles.includes('mfa') ? config.mfa : undefined;
  const custody: CustodySection | undefined = config.roles.includes('custody') ? (config.custody ?? custodySectionSchema.parse({})) : undefined;
  const configFile = configFiles.get(config);
  const exclude = (path: string): boolean => path === RUN_FILE || path.startsWith(`${RUN_FILE}.`);
  return {
    curveBackend: config.curveBackend,
    ...(dta === undefined ? {} : { dta }),
    ...(mfa === undefined ? {} : { mfa }),
    ...(custody === undefined ? {} : { custody }),
    ...backupRolesOf(config, { exclude, ...(configFile === undefined ? {} : { configFile }) }),
  };
}

/** Key labels and database of the all-in-one node; fixed, since a data dir holds them. */
export const NODE_FILES = { identityLabelPrefix: 'milagro', databaseFile: 'milagro.sqlite' } as const;
