/**
 * `milagro <command>`: the Milagro Server's front door.
 *
 *   milagro init --yes --data-dir ./data --roles dta,mfa [...]   write config.yaml, create the identity
 *   milagro start [--config config.yaml]                         run the configured roles
 *   milagro status [--config config.yaml] [--json]               ask the running node
 *   milagro identity show|rotate [--config config.yaml]          the node's identity; rotate its keys
 *   milagro realm create|join|status ...                          the D-TA ceremony
 *   milagro dev up|down [--dir .milagro-dev]                     a local development cluster
 *   milagro backup create|list|prune|verify|restore|fiduciary ... backups sealed to fiduciaries
 *
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or config error. Every command takes `--json`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isNodeError } from '@milagro/node';
import { loadMilagroConfig } from './config.js';
import { CLUSTER_FILE, devDown, devUp, type DevCluster } from './dev-cluster.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './exit-codes.js';
import { identityRotate, identityShow } from './identity.js';
import { init, type InitOptions } from './init.js';
import { askInitChoices } from './init-questions.js';
import { realmCreate, realmJoin, realmStatus, type RealmStatus } from './realm.js';
import { start } from './start.js';
import { status } from './status.js';

const USAGE = `usage: milagro <command> [options]

commands:
  init    [--yes | --interactive] [--config config.yaml] [--data-dir ./data] [--roles dta,mfa,custody] [--force]
          [--ipfs embedded|<Kubo RPC URL>]
          [--http-host 127.0.0.1] [--http-port 8080] [--peer <multiaddr>]... [--swarm-key-file <path>]
          [--keystore file|pkcs11] [--passphrase-env MILAGRO_KEYSTORE_PASSPHRASE]
          [--pkcs11-module <path>] [--pkcs11-token-label <label>] [--pkcs11-pin-env MILAGRO_HSM_PIN]
          [--curve-backend mcl|noble] [--log-level info] [--trusted-proposer <identity>]...
          [--mfa-issuer <url>] [--mfa-realm <id>] [--mfa-threshold <t>] [--mfa-dta <identity>=<url>]...
          [--mfa-activation admin|development-outbox]
          writes a commented config and creates the node identity; refuses to replace either without --force;
          without --yes it asks (on a terminal, or on stdin with --interactive), offering the --yes values
  start   [--config config.yaml]       runs the roles the config lists (SIGTERM/SIGINT stop it cleanly)
  status  [--config config.yaml]       asks the running node for /readyz and /v1/node
  identity show [--config config.yaml]
          the identity, its head, rotations and current public keys (from the running node, or offline)
  identity rotate [--config config.yaml]
          publishes a rotation to the pre-rotated keys; the node must be stopped (start it again after)
  realm join --proposer <identity|url> [--config config.yaml]
          trusts that D-TA to propose realms to this one (edits config.yaml; restart a running node)
  realm create <realm> --member <identity|url>... --threshold <t> --mfa-service <identity|url>
          [--wait] [--timeout 600] [--config config.yaml]
          the running node proposes the realm (listed first unless named) and the members run the DKG
  realm status <realm> [--wait] [--timeout 600] [--config config.yaml]
  dev up  [--dir .milagro-dev] [--demo-port 0] [--foreground]
          starts a local deployment (three D-TAs, an MFA node, a custody node, the demo page) and writes its URLs to
          <dir>/dev-cluster.json; the processes keep running (with --foreground: until Ctrl-C)
  dev down [--dir .milagro-dev]        stops the deployment recorded in <dir>/dev-cluster.json
  backup init-recovery|create|list|prune|verify|restore|fiduciary ...
          backups sealed k-of-n to fiduciary nodes, and restores from them (\`milagro backup --help\`)

every command: --json (machine-readable output), --help; --config defaults to $MILAGRO_CONFIG, else config.yaml
exit codes: 0 ok, 1 runtime failure, 2 usage or config error`;

const common = {
  // MILAGRO_CONFIG names the config where no --config is given (the container image sets it).
  config: { type: 'string', default: process.env['MILAGRO_CONFIG'] ?? 'config.yaml' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

const initOptions = {
  ...common,
  yes: { type: 'boolean', short: 'y', default: false },
  interactive: { type: 'boolean', default: false },
  ipfs: { type: 'string', default: 'embedded' },
  force: { type: 'boolean', default: false },
  'data-dir': { type: 'string', default: './data' },
  roles: { type: 'string', default: 'dta' },
  'http-host': { type: 'string', default: '127.0.0.1' },
  'http-port': { type: 'string', default: '8080' },
  peer: { type: 'string', multiple: true, default: [] },
  'swarm-key-file': { type: 'string' },
  keystore: { type: 'string', default: 'file' },
  'passphrase-env': { type: 'string', default: 'MILAGRO_KEYSTORE_PASSPHRASE' },
  'scrypt-log-n': { type: 'string' },
  'pkcs11-module': { type: 'string' },
  'pkcs11-token-label': { type: 'string' },
  'pkcs11-pin-env': { type: 'string', default: 'MILAGRO_HSM_PIN' },
  'curve-backend': { type: 'string', default: 'mcl' },
  'log-level': { type: 'string', default: 'info' },
  'trusted-proposer': { type: 'string', multiple: true, default: [] },
  'mfa-issuer': { type: 'string' },
  'mfa-realm': { type: 'string' },
  'mfa-threshold': { type: 'string' },
  'mfa-dta': { type: 'string', multiple: true, default: [] },
  'mfa-activation': { type: 'string', default: 'admin' },
} as const satisfies ParseArgsConfig['options'];

const devOptions = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
  dir: { type: 'string', default: '.milagro-dev' },
  'demo-port': { type: 'string', default: '0' },
  foreground: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

const realmOptions = {
  ...common,
  member: { type: 'string', multiple: true, default: [] },
  threshold: { type: 'string' },
  'mfa-service': { type: 'string' },
  proposer: { type: 'string' },
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '600' },
} as const satisfies ParseArgsConfig['options'];

/** Progress lines for people (none with --json, whose stdout is one object). */
function progressPrinter(quiet: boolean): (step: string) => void {
  const started = performance.now();
  return (step) => {
    if (!quiet) process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${step}\n`);
  };
}

function wholeNumber(flag: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new UsageError(`--${flag}: expected a whole number, found ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
  return Number(value);
}

async function identity(argv: readonly string[]): Promise<Outcome> {
  const [action, ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: common, strict: true, allowPositionals: false });
  json = values.json;
  if (values.help) return { code: EXIT_OK, text: USAGE, json: { ok: true, usage: USAGE } };
  if (action === 'show') {
    const shown = await identityShow(loadMilagroConfig(values.config));
    const keys = Object.entries(shown.keys).map(([type, key]) => `  ${type.padEnd(10)}${key.fingerprint}`);
    const text = [`identity  ${shown.identity}`, `head      ${shown.head}`, `rotations ${shown.rotations}${shown.running ? ' (from the running node)' : ''}`, 'current keys:', ...keys].join('\n');
    return { code: EXIT_OK, text, json: { ok: true, ...shown } };
  }
  if (action === 'rotate') {
    const rotated = await identityRotate(loadMilagroConfig(values.config), progressPrinter(values.json));
    return { code: EXIT_OK, text: `rotated ${rotated.identity}: head ${rotated.head} (rotation ${rotated.rotations}); start the node again`, json: { ok: true, ...rotated } };
  }
  throw new UsageError(`milagro identity: expected show or rotate, found ${JSON.stringify(action ?? '')}`);
}

function describeRealm(realm: RealmStatus): string {
  return `realm ${realm.realmId}: ${realm.state}, ${realm.threshold} of ${realm.members.length}, epoch ${realm.epoch}${realm.groupPublicKey === undefined ? '' : `, group key ${realm.groupPublicKey}`}`;
}

async function realm(argv: readonly string[]): Promise<Outcome> {
  const [action, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, options: realmOptions, strict: true, allowPositionals: true });
  json = values.json;
  if (values.help) return { code: EXIT_OK, text: USAGE, json: { ok: true, usage: USAGE } };
  const progress = progressPrinter(values.json);
  const realmId = (): string => {
    if (positionals.length !== 1) throw new UsageError(`milagro realm ${action ?? ''}: expected one realm id, found ${positionals.length}`);
    return positionals[0] as string;
  };
  if (action === 'create') {
    if (values['mfa-service'] === undefined) throw new UsageError('milagro realm create needs --mfa-service <identity|url> (the MFA node the realm serves)');
    const created = await realmCreate(
      loadMilagroConfig(values.config),
      { realmId: realmId(), members: values.member, threshold: wholeNumber('threshold', values.threshold), mfaService: values['mfa-service'], wait: values.wait, timeoutMs: wholeNumber('timeout', values.timeout) * 1000 },
      progress,
    );
    return { code: EXIT_OK, text: values.wait ? describeRealm(created) : `${describeRealm(created)}; follow it with: milagro realm status ${created.realmId} --wait`, json: { ok: true, ...created } };
  }
  if (action === 'status') {
    const shown = await realmStatus(loadMilagroConfig(values.config), realmId(), values.wait, wholeNumber('timeout', values.timeout) * 1000, progress);
    return { code: EXIT_OK, text: describeRealm(shown), json: { ok: true, ...shown } };
  }
  if (action === 'join') {
    if (values.proposer === undefined) throw new UsageError('milagro realm join needs --proposer <identity|url> (the D-TA that will propose the realm)');
    const joined = await realmJoin(values.config, loadMilagroConfig(values.config), values.proposer);
    const text = !joined.changed
      ? `${joined.proposer} is already a trusted proposer`
      : `${joined.config}: trusts ${joined.proposer} to propose realms${joined.restartNeeded ? '; restart the running node for it to take effect' : ''}`;
    return { code: EXIT_OK, text: joined.identity === undefined ? text : `${text}\nthis node's identity (for --member): ${joined.identity}`, json: { ok: true, ...joined } };
  }
  throw new UsageError(`milagro realm: expected create, join or status, found ${JSON.stringify(action ?? '')}`);
}

/** What `dev up` prints for people. */
function describeCluster(cluster: DevCluster): string {
  const width = 12;
  const line = (label: string, value: string): string => `  ${label.padEnd(width)}${value}`;
  return [
    `development cluster running (details in ${cluster.dir}/${CLUSTER_FILE}):`,
    line('demo page', `${cluster.demo?.url ?? '?'}   register, activate from the outbox link, choose a PIN, log in`),
    line('MFA node', `${cluster.mfa?.url ?? '?'}   (OpenAPI at /openapi.json, outbox at /v1/development/outbox)`),
    ...(cluster.custody === undefined ? [] : [line('custody', cluster.custody.url)]),
    ...cluster.dtas.map((dta) => line(dta.name, dta.url)),
    line('logs', `${cluster.dir}/*.log`),
    `stop it with: milagro dev down --dir ${cluster.dir}`,
  ].join('\n');
}

/** `dev up --foreground`: runs until SIGINT/SIGTERM, then stops the cluster. */
function stopOnSignal(dir: string): Promise<Outcome> {
  return new Promise((resolveOutcome) => {
    // The cluster's processes are detached and unreferenced: without this timer nothing keeps this one alive.
    const alive = setInterval(() => undefined, 60_000);
    const stop = (): void => {
      clearInterval(alive);
      process.stdout.write('stopping the development cluster…\n');
      void devDown({ dir }).then((result) => resolveOutcome({ code: EXIT_OK, text: `stopped ${result.stopped.length} processes`, json: { ok: true, ...result } }));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function dev(argv: readonly string[]): Promise<Outcome> {
  const [action, ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: devOptions, strict: true, allowPositionals: false });
  json = values.json;
  if (values.help) return { code: EXIT_OK, text: USAGE, json: { ok: true, usage: USAGE } };
  if (action === 'up') {
    if (!/^\d+$/.test(values['demo-port'])) throw new UsageError(`--demo-port: expected a whole number, found ${JSON.stringify(values['demo-port'])}`);
    const started = performance.now();
    const progress = (step: string): void => {
      if (!values.json) process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${step}\n`);
    };
    const cluster = await devUp({ dir: values.dir, demoPort: Number(values['demo-port']) }, progress);
    if (!values.foreground) return { code: EXIT_OK, text: describeCluster(cluster), json: { ok: true, ...cluster } };
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: true, ...cluster })}\n`);
    else process.stdout.write(`${describeCluster(cluster).replace(/stop it with: .*$/, 'Ctrl-C stops it.')}\n`);
    return stopOnSignal(cluster.dir);
  }
  if (action === 'down') {
    const result = await devDown({ dir: values.dir });
    const text = result.found ? `stopped ${result.stopped.length} processes${result.killed.length > 0 ? ` (${result.killed.length} needed SIGKILL)` : ''}; data and logs stay in ${result.dir}` : `no development cluster runs from ${result.dir} (no ${CLUSTER_FILE})`;
    return { code: EXIT_OK, text, json: { ok: true, ...result } };
  }
  throw new UsageError(`milagro dev: expected up or down, found ${JSON.stringify(action ?? '')}`);
}

/** What a finished command prints: a line for people, an object for `--json`. */
interface Outcome {
  readonly code: number;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

let json = process.argv.includes('--json');

function report(outcome: Outcome): never {
  if (json) process.stdout.write(`${JSON.stringify(outcome.json)}\n`);
  else if (outcome.code === EXIT_OK) process.stdout.write(`${outcome.text}\n`);
  else console.error(outcome.text);
  process.exit(outcome.code);
}

function failure(error: unknown): Outcome {
  const usage = error instanceof UsageError || isNodeError(error, 'INVALID_CONFIG') || isNodeError(error, 'SECRET_UNAVAILABLE') || (error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS') === true;
  const message = error instanceof Error ? error.message : String(error);
  const code = usage ? EXIT_USAGE : EXIT_FAILURE;
  return { code, text: `milagro: ${message}`, json: { ok: false, exitCode: code, error: { name: error instanceof Error ? error.name : 'Error', code: (error as { code?: unknown }).code ?? null, message } } };
}

async function run(argv: readonly string[]): Promise<Outcome | undefined> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'init': {
      const { values } = parseArgs({ args: rest, options: initOptions, strict: true, allowPositionals: false });
      json = values.json;
      if (values.help) return { code: EXIT_OK, text: USAGE, json: { ok: true, usage: USAGE } };
      const progress = (step: string): void => {
        if (!values.json) process.stdout.write(`  ${step}\n`);
      };
      let options: InitOptions = {
          config: values.config,
          yes: values.yes,
          force: values.force,
          dataDir: values['data-dir'],
          roles: values.roles,
          httpHost: values['http-host'],
          httpPort: values['http-port'],
          peers: values.peer,
          ...(values['swarm-key-file'] === undefined ? {} : { swarmKeyFile: values['swarm-key-file'] }),
          keyStore: values.keystore,
          passphraseEnv: values['passphrase-env'],
          ...(values['scrypt-log-n'] === undefined ? {} : { scryptLogN: values['scrypt-log-n'] }),
          ...(values['pkcs11-module'] === undefined ? {} : { pkcs11Module: values['pkcs11-module'] }),
          ...(values['pkcs11-token-label'] === undefined ? {} : { pkcs11TokenLabel: values['pkcs11-token-label'] }),
          pkcs11PinEnv: values['pkcs11-pin-env'],
          curveBackend: values['curve-backend'],
          logLevel: values['log-level'],
          trustedProposers: values['trusted-proposer'],
          ...(values['mfa-issuer'] === undefined ? {} : { mfaIssuer: values['mfa-issuer'] }),
          ...(values['mfa-realm'] === undefined ? {} : { mfaRealm: values['mfa-realm'] }),
          ...(values['mfa-threshold'] === undefined ? {} : { mfaThreshold: values['mfa-threshold'] }),
          mfaDtas: values['mfa-dta'],
          mfaActivation: values['mfa-activation'],
          ipfs: values.ipfs,
      };
      if (!values.yes && (values.interactive || process.stdin.isTTY)) {
        options = await askInitChoices(options, { input: process.stdin, output: values.json ? process.stderr : process.stdout });
      }
      const result = await init(options, progress);
      return {
        code: EXIT_OK,
        text:
          `wrote ${result.config}; node identity ${result.identity}; start it with: milagro start --config ${result.config}\n\n` +
          `recovery secret (shown once; write it down and keep it offline: restoring this node from a backup needs it):\n\n  ${result.recoverySecret}\n`,
        json: { ok: true, ...result },
      };
    }
    case 'start': {
      const { values } = parseArgs({ args: rest, options: common, strict: true, allowPositionals: false });
      json = values.json;
      if (values.help) return { code: EXIT_OK, text: USAGE, json: { ok: true, usage: USAGE } };
      // Logs are JSON lines on stdout either way; the process runs until SIGTERM/SIGINT.
      await start(loadMilagroConfig(values.config));
      return undefined;
    }
    case 'status': {
      const { values } = parseArgs({ args: rest, options: common, strict: true, allowPositionals: false });
      json = values.json;
      if (values.help) return { code: EXIT_OK, text: USAGE, json: { ok: true, usage: USAGE } };
      const result = await status(loadMilagroConfig(values.config));
      const code = result.ready ? EXIT_OK : EXIT_FAILURE;
      const text = result.running
        ? `${result.url}: ${result.ready ? 'ready' : `not ready (${(result.failing ?? []).join(', ')})`}; roles ${result.roles.join(', ')}; identity ${result.identity ?? '?'}`
        : `${result.error}; roles ${result.roles.join(', ')}`;
      return { code, text, json: { ok: result.ready, ...result } };
    }
    case 'identity':
      return identity(rest);
    case 'realm':
      return realm(rest);
    case 'backup': return (await import('./backup.js')).backup(rest); // milagro backup create|list|prune|verify|restore|fiduciary (issue 11)
    case 'dev':
      return dev(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      return { code: command === undefined ? EXIT_USAGE : EXIT_OK, text: USAGE, json: { ok: command !== undefined, usage: USAGE } };
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}

try {
  const outcome = await run(process.argv.slice(2));
  if (outcome !== undefined) report(outcome);
} catch (error) {
  report(failure(error));
}
