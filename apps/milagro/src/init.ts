/**
 * `milagro init` (questions: init-questions.ts) and `milagro init --yes`: writes a commented config.yaml and creates the node's identity (the node is
 * started once and closed). It never replaces an existing config or identity silently: without
 * `--force` it refuses and changes nothing; with `--force` it first moves the data dir and copies
 * the config aside (`<name>.backup-<time>`).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { bootstrapNode, readSecret } from '@milagro/node';
import { parse as parseYaml } from 'yaml';
import { writeRecoveryCredential } from './recovery.js';
import { loadMilagroConfig, MILAGRO_ROLES, milagroConfigSchema, NODE_FILES } from './config.js';
import { renderConfig, type ConfigChoices } from './config-template.js';
import { UsageError } from './exit-codes.js';

export interface InitOptions {
  readonly config: string;
  readonly yes: boolean;
  readonly force: boolean;
  readonly dataDir: string;
  readonly roles: string;
  readonly httpHost: string;
  readonly httpPort: string;
  readonly peers: readonly string[];
  readonly swarmKeyFile?: string;
  readonly keyStore: string;
  readonly passphraseEnv: string;
  readonly scryptLogN?: string;
  readonly pkcs11Module?: string;
  readonly pkcs11TokenLabel?: string;
  readonly pkcs11PinEnv: string;
  readonly curveBackend: string;
  readonly logLevel: string;
  readonly trustedProposers: readonly string[];
  readonly mfaIssuer?: string;
  readonly mfaRealm?: string;
  readonly mfaThreshold?: string;
  readonly mfaDtas: readonly string[];
  readonly mfaActivation: string;
  /** `embedded` or the RPC URL of a Kubo daemon. */
  readonly ipfs: string;
}

export interface InitResult {
  readonly config: string;
  readonly dataDir: string;
  readonly identity: string;
  readonly roles: readonly string[];
  readonly backups: readonly string[];
  /** The owner's recovery secret for `milagro backup restore`: shown once here, never stored (only its public key, in `recoveryFile`). */
  readonly recoverySecret: string;
  readonly recoveryFile: string;
}

function integer(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag}: expected a whole number, found ${JSON.stringify(value)}`);
  return Number(value);
}

function choicesFrom(options: InitOptions): ConfigChoices {
  const roles = options.roles.split(',').map((role) => role.trim()).filter((role) => role !== '');
  for (const role of roles) {
    if (!(MILAGRO_ROLES as readonly string[]).includes(role)) throw new UsageError(`--roles: expected a list of ${MILAGRO_ROLES.join(', ')}, found ${JSON.stringify(role)}`);
  }
  if (roles.length === 0) throw new UsageError(`--roles: expected at least one of ${MILAGRO_ROLES.join(', ')}`);
  if (options.keyStore !== 'file' && options.keyStore !== 'pkcs11') throw new UsageError(`--keystore: expected file or pkcs11, found ${JSON.stringify(options.keyStore)}`);
  if (options.keyStore === 'pkcs11' && options.pkcs11Module === undefined) throw new UsageError('--keystore pkcs11 needs --pkcs11-module <path of the PKCS#11 library>');
  if (options.curveBackend !== 'mcl' && options.curveBackend !== 'noble') throw new UsageError(`--curve-backend: expected mcl or noble, found ${JSON.stringify(options.curveBackend)}`);
  let mfa: ConfigChoices['mfa'];
  if (roles.includes('mfa')) {
    const missing = [
      ['mfa-issuer', options.mfaIssuer],
      ['mfa-realm', options.mfaRealm],
      ['mfa-threshold', options.mfaThreshold],
    ].filter(([, value]) => value === undefined);
    if (missing.length > 0 || options.mfaDtas.length === 0) {
      throw new UsageError(`the mfa role needs ${[...missing.map(([flag]) => `--${flag}`), ...(options.mfaDtas.length === 0 ? ['--mfa-dta <id>=<url> (once per D-TA of the realm)'] : [])].join(', ')}`);
    }
    const dtas = options.mfaDtas.map((entry) => {
      const at = entry.indexOf('=');
      if (at <= 0) throw new UsageError(`--mfa-dta: expected <identity>=<url>, found ${JSON.stringify(entry)}`);
      return { id: entry.slice(0, at), url: entry.slice(at + 1) };
    });
    mfa = { issuer: options.mfaIssuer as string, realmId: options.mfaRealm as string, threshold: integer('mfa-threshold', options.mfaThreshold as string), dtas, activation: options.mfaActivation };
  }
  let kuboUrl: string | undefined;
  if (options.ipfs !== 'embedded') {
    if (!/^https?:\/\/\S+$/.test(options.ipfs)) throw new UsageError(`--ipfs: expected embedded or the RPC URL of a Kubo daemon (http://127.0.0.1:5001), found ${JSON.stringify(options.ipfs)}`);
    if (!kuboSupported()) throw new UsageError('--ipfs <Kubo URL>: this build of @milagro/node runs the embedded IPFS node only (its config has no ipfs.kubo yet); use --ipfs embedded');
    kuboUrl = options.ipfs;
  }
  return {
    roles,
    dataDir: options.dataDir,
    ...(kuboUrl === undefined ? {} : { kuboUrl }),
    http: { host: options.httpHost, port: integer('http-port', options.httpPort) },
    peers: options.peers,
    ...(options.swarmKeyFile === undefined ? {} : { swarmKeyFile: resolve(options.swarmKeyFile) }),
    keyStore:
      options.keyStore === 'file'
        ? { kind: 'file', passphraseEnv: options.passphraseEnv, ...(options.scryptLogN === undefined ? {} : { scryptLogN: integer('scrypt-log-n', options.scryptLogN) }) }
        : { kind: 'pkcs11', module: options.pkcs11Module as string, pinEnv: options.pkcs11PinEnv, ...(options.pkcs11TokenLabel === undefined ? {} : { tokenLabel: options.pkcs11TokenLabel }) },
    curveBackend: options.curveBackend,
    logLevel: options.logLevel,
    ...(roles.includes('dta') ? { dta: { trustedProposers: options.trustedProposers } } : {}),
    ...(mfa === undefined ? {} : { mfa }),
    ...(roles.includes('custody') ? { custody: {} } : {}),
  };
}

/** Whether the node's config schema knows `ipfs.kubo` (a Kubo daemon instead of the embedded node). */
function kuboSupported(): boolean {
  return milagroConfigSchema.safeParse({ roles: ['dta'], dataDir: '.', ipfs: { kubo: { url: 'http://127.0.0.1:5001' } } }).success;
}

/** Whether `dataDir` holds anything (an identity, blocks, a database): then it is not ours to overwrite. */
function inUse(dataDir: string): boolean {
  return existsSync(dataDir) && readdirSync(dataDir).length > 0;
}

export async function init(options: InitOptions, progress: (step: string) => void): Promise<InitResult> {
  if (!options.yes) throw new UsageError('milagro init asks its questions on a terminal: run it on one, pass --interactive to answer on stdin, or --yes with the choices as flags (see `milagro help`)');
  const configPath = resolve(options.config);
  const choices = choicesFrom(options);
  const text = renderConfig(choices);
  // Validate what would be written before touching anything.
  const parsed = milagroConfigSchema.safeParse(parseYaml(text));
  if (!parsed.success) {
    throw new UsageError(`the chosen settings are invalid:\n  ${parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('\n  ')}`);
  }
  const dataDir = resolve(dirname(configPath), choices.dataDir);
  const existing = [...(existsSync(configPath) ? [`the config ${configPath}`] : []), ...(inUse(dataDir) ? [`a node (identity, data) in ${dataDir}`] : [])];
  if (existing.length > 0 && !options.force) throw new UsageError(`refusing to replace ${existing.join(' and ')}: pass --force to back them up and start afresh`);
  // The key store's secret must be there before anything is moved.
  readSecret(parsed.data.keyStore.kind === 'file' ? parsed.data.keyStore.passphrase : parsed.data.keyStore.pin);

  const backups: string[] = [];
  const stamp = new Date().toISOString().replaceAll(':', '-');
  if (inUse(dataDir)) {
    const backup = `${dataDir}.backup-${stamp}`;
    renameSync(dataDir, backup);
    backups.push(backup);
    progress(`moved the data dir to ${basename(backup)}`);
  }
  if (existsSync(configPath)) {
    const backup = `${configPath}.backup-${stamp}`;
    copyFileSync(configPath, backup);
    backups.push(backup);
    progress(`copied the config to ${basename(backup)}`);
  }
  // Written to a temporary name and renamed once the identity exists: a failed init leaves no config behind.
  const pending = `${configPath}.init-${process.pid}`;
  mkdirSync(dirname(configPath), { recursive: true, mode: 0o700 });
  writeFileSync(pending, text, { mode: 0o600 });
  try {
    const config = loadMilagroConfig(pending, {});
    progress('creating the node identity (key store, IPFS node)');
    // Offline: init needs no peer. (Dialling once left peers unable to fetch this node's documents
    // after it started for real, until @milagro/ipfs ran identify push: see its restart test.)
    const node = await bootstrapNode({ ...config, ipfs: { ...config.ipfs, peers: [] } }, NODE_FILES);
    const identity = node.identity.id.toString();
    await node.close();
    const recovery = await writeRecoveryCredential(dataDir);
    renameSync(pending, configPath);
    progress(`created identity ${identity} and its recovery credential`);
    return { config: configPath, dataDir, identity, roles: choices.roles, backups, recoverySecret: recovery.secret, recoveryFile: recovery.file };
  } catch (error) {
    rmSync(pending, { force: true });
    throw error;
  }
}
