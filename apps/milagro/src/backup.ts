/**
 * `milagro backup …`: decentralised backup and recovery of this node (@milagro/backup, docs/specs/backup.md).
 *
 *   backup init-recovery [--force]                                 new recovery secret (shown once); its public key in <dataDir>/backup/recovery.json
 *   backup create --fiduciary <id>... --threshold <k> [--confirmations <m>]   (node stopped) snapshot, seal k-of-n, deposit with the fiduciaries
 *   backup list [--manifest <cid>]                                 the backups reachable from the newest (or <cid>), retired ones marked
 *   backup prune --keep <n>                                        (node stopped) retire the backups beyond the newest n at their fiduciaries
 *   backup verify [--manifest <cid>] [--recovery-secret-env NAME]  restore drill into a temporary directory; the node is not touched
 *   backup restore --manifest <cid> [--recovery-secret-env NAME] [--replace]   restore this node's data dir on a fresh machine
 *   backup fiduciary                                               serve as a backup fiduciary with this node's identity (until SIGTERM)
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  BackupFiduciary,
  createBackup,
  depositBackup,
  isRetired,
  listBackups,
  pruneBackups,
  readBackupHead,
  readRecoveryPublicKey,
  readRetentionRecord,
  withBackup,
  writeRetentionRecord,
  requestShares,
  restoreBackup,
  writeBackupHead,
  type CollectedShares,
  type RestoredLayout,
} from '@milagro/backup';
import { FileKeyStore } from '@milagro/keystore';
import { FileJournal } from '@milagro/messaging';
import { backupGaps, bootstrapNode, createNodeApi, dataDirHolder, readSecret, serveRoles } from '@milagro/node';
import { identityRecipientKey, identitySigner, isPkiError, loadIdentity, PkiError, type OwnedIdentity } from '@milagro/pki';
import { CID } from 'multiformats/cid';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { joinNetwork, openNodeForBackup, temporaryIdentity, waitForPeers, type TemporaryNetwork } from './backup-network.js';
import { loadMilagroConfig, NODE_FILES, type MilagroConfig } from './config.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from './exit-codes.js';
import { RECOVERY_FILE, writeRecoveryCredential } from './recovery.js';

/** What a finished backup command prints (the shape `main.ts` reports). */
export interface BackupOutcome {
  readonly code: number;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

export const BACKUP_USAGE = `usage: milagro backup <action> [--config config.yaml] [options]

actions:
  init-recovery [--force]     creates the owner's recovery secret, prints it ONCE (keep it offline) and
                              records its public key in <dataDir>/backup/recovery.json
  create --fiduciary <identity>... --threshold <k> [--confirmations <m>] [--timeout <s>]
                              with the node stopped: snapshot its data dir and config, seal it k-of-n to the
                              fiduciaries, store it on IPFS and wait until m of them (default k) pinned it
  list [--manifest <cid>]     the backups reachable from the newest one (or from <cid>); those this node retired say RETIRED
  prune --keep <n> [--timeout <s>]
                              with the node stopped: ask the fiduciaries, in requests signed by this node, to release the
                              backups beyond the newest n (only behind a backup k of them confirmed; never the newest).
                              Exit 1 while some fiduciaries have not confirmed (run it again; repeating is harmless)
  verify [--manifest <cid>] [--recovery-secret-env MILAGRO_RECOVERY_SECRET] [--timeout <s>]
                              restore drill: fetch, release with k fiduciaries, decrypt and check into a
                              temporary directory; the node and its data dir are not touched
  restore --manifest <cid> [--recovery-secret-env MILAGRO_RECOVERY_SECRET] [--replace] [--timeout <s>]
                              on a fresh machine: restores config.dataDir (refused if it holds data, unless --replace)
  fiduciary                   serves as a backup fiduciary with this node's identity until SIGTERM (the node must not run;
                              a running node serves as one with a \`backupFiduciary\` section in its config)

A running node backs itself up on a schedule with a \`backup\` section in its config (fiduciaries, threshold, every),
and retires the backups beyond the newest \`keep\` (default 7) after each confirmed one.

every action: --json, --help`;

const options = {
  config: { type: 'string', default: 'config.yaml' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  replace: { type: 'boolean', default: false },
  fiduciary: { type: 'string', multiple: true, default: [] },
  threshold: { type: 'string' },
  confirmations: { type: 'string' },
  manifest: { type: 'string' },
  'recovery-secret-env': { type: 'string', default: 'MILAGRO_RECOVERY_SECRET' },
  timeout: { type: 'string', default: '600' },
  keep: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; strict: true; allowPositionals: false }>>['values'];


/** Progress lines on stderr (stdout carries the result, one JSON object with --json). */
const started = performance.now();
function progress(step: string): void {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${step}\n`);
}

function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag}: expected a whole number, found ${JSON.stringify(value)}`);
  return Number(value);
}

function manifestOf(value: string | undefined): CID | undefined {
  if (value === undefined) return undefined;
  try {
    return CID.parse(value);
  } catch {
    throw new UsageError(`--manifest: not a CID: ${JSON.stringify(value)}`);
  }
}

function recoverySecret(values: Values): string {
  const name = values['recovery-secret-env'];
  const secret = process.env[name];
  if (secret === undefined || secret.trim() === '') throw new UsageError(`the recovery secret is read from the environment variable ${name}, which is not set`);
  return secret.trim();
}

async function readRecoveryKey(config: MilagroConfig): Promise<Uint8Array> {
  try {
    return await readRecoveryPublicKey(config.dataDir);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function initRecovery(config: MilagroConfig, force: boolean): Promise<BackupOutcome> {
  const path = join(config.dataDir, RECOVERY_FILE);
  if (existsSync(path) && !force) throw new UsageError(`${path} exists: this node has a recovery credential (replace it with --force; backups made before keep the old one)`);
  const { secret } = await writeRecoveryCredential(config.dataDir);
  return {
    code: EXIT_OK,
    text: `recovery secret (shown once; write it down and keep it offline, it is needed to restore this node):\n\n  ${secret}\n`,
    json: { ok: true, recoverySecret: secret, publicKeyFile: path },
  };
}

/** True when `milagro start` runs on this data dir: its run file names a live process (a crash may leave a stale one). */
async function nodeIsRunning(config: MilagroConfig): Promise<boolean> {
  // The data dir's lock: any process that has the node open (starting, running, a single-role server).
  if ((await dataDirHolder(config.dataDir)) !== undefined) return true;
  let pid: unknown;
  try {
    ({ pid } = JSON.parse(await readFile(join(config.dataDir, 'milagro.run.json'), 'utf8')) as { pid?: unknown });
  } catch {
    return false;
  }
  if (typeof pid !== 'number') return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function create(config: MilagroConfig, configFile: string, values: Values): Promise<BackupOutcome> {
  const fiduciaries = values.fiduciary;
  const threshold = wholeNumber(values.threshold, 'threshold');
  if (fiduciaries.length === 0 || threshold === undefined) throw new UsageError('backup create needs --fiduciary <identity> (one per fiduciary) and --threshold <k>');
  const confirmations = wholeNumber(values.confirmations, 'confirmations') ?? threshold;
  const timeoutMs = (wholeNumber(values.timeout, 'timeout') ?? 600) * 1000;
  const recovery = await readRecoveryKey(config);
  if (await nodeIsRunning(config)) {
    throw new UsageError(
      config.backup === undefined
        ? 'the node is running (milagro.run.json names a live process): stop it before `backup create`, or let the running node back itself up on a schedule (the `backup` section of its config)'
        : `the node is running and backs itself up every ${config.backup.every / 1000} s (its \`backup\` section; \`backup list\` shows the newest): \`backup create\` is for a stopped node`,
    );
  }
  const gaps = backupGaps(config);
  for (const gap of gaps) progress(`WARNING: this backup does not contain ${gap}`);
  const node = await openNodeForBackup(config, NODE_FILES.identityLabelPrefix);
  progress(`node ${node.identity.id.toString()} open (offline); resolving ${fiduciaries.length} fiduciaries`);
  try {
    await waitForPeers(node.network.ipfs, Math.min(timeoutMs, 60_000));
    const keys = await Promise.all(
      fiduciaries.map(async (id) => {
        try {
          return { id, publicKey: (await node.network.resolver.resolve(id, { timeoutMs: 60_000 })).keys.kem };
        } catch (error) {
          throw new UsageError(`fiduciary ${id} does not resolve (${(error as Error).message})`);
        }
      }),
    );
    const prev = await readBackupHead(config.dataDir);
    const created = await createBackup({
      source: { dataDir: config.dataDir, configFile },
      signer: identitySigner(node.identity, node.keyStore),
      identity: node.identity.head,
      store: node.network.ipfs.store,
      fiduciaries: keys,
      threshold,
      recovery,
      ...(prev === undefined ? {} : { prev }),
    });
    progress(`backup ${created.cid.toString()} sealed: ${created.manifest.files} files, ${created.manifest.size} bytes, ${created.blocks} blocks; waiting for ${confirmations} fiduciaries to pin it`);
    const deposited = await depositBackup({ messenger: node.messenger, manifest: created.cid, fiduciaries, minimum: confirmations, timeoutMs });
    await writeBackupHead(config.dataDir, created.cid, created.manifest.created);
    // Who confirmed it: `backup prune` retires older backups only behind one k fiduciaries confirmed.
    const record = withBackup(await readRetentionRecord(config.dataDir), { manifest: created.cid.toString(), created: created.manifest.created, fiduciaries, threshold, pinnedBy: deposited.pinned, retiredBy: [] });
    await writeRetentionRecord(config.dataDir, record);
    const manifest = created.cid.toString();
    return {
      code: EXIT_OK,
      text: `backup ${manifest}: ${created.manifest.files} files, ${created.manifest.size} bytes, ${threshold} of ${fiduciaries.length} fiduciaries; pinned by ${deposited.pinned.length}${gaps.map((gap) => `\nWARNING: not in this backup: ${gap}`).join('')}`,
      json: { ok: true, manifest, node: created.manifest.node, files: created.manifest.files, bytes: created.manifest.size, blocks: created.blocks, threshold, fiduciaries, pinnedBy: deposited.pinned, unreachable: deposited.unreachable, prev: prev?.toString() ?? null, notBackedUp: gaps },
    };
  } finally {
    await node.close();
  }
}

async function withNetwork<T>(config: MilagroConfig, timeoutMs: number, work: (network: TemporaryNetwork) => Promise<T>): Promise<T> {
  const network = await joinNetwork(config);
  try {
    await waitForPeers(network.ipfs, Math.min(timeoutMs, 60_000));
    progress(`connected to ${(await network.ipfs.connectedPeers()).length} peers`);
    return await work(network);
  } finally {
    await network.close();
  }
}

async function list(config: MilagroConfig, values: Values): Promise<BackupOutcome> {
  const head = manifestOf(values.manifest) ?? (await readBackupHead(config.dataDir));
  if (head === undefined) throw new UsageError('this node has no backup yet (no backup/head.json); pass --manifest <cid>');
  const timeoutMs = (wholeNumber(values.timeout, 'timeout') ?? 600) * 1000;
  return withNetwork(config, timeoutMs, async (network) => {
    const backups = await listBackups(network.ipfs.store, head, network.resolver, { timeoutMs: 60_000 });
    const record = await readRetentionRecord(config.dataDir);
    const statusOf = (cid: string): 'kept' | 'retired' | 'retiring' => {
      const entry = record.find((candidate) => candidate.manifest === cid);
      if (entry === undefined || entry.retiredBy.length === 0) return 'kept';
      return isRetired(entry) ? 'retired' : 'retiring';
    };
    const rows = backups.map(({ cid, manifest }) => ({
      manifest: cid.toString(),
      status: statusOf(cid.toString()),
      created: new Date(manifest.created).toISOString(),
      files: manifest.files,
      bytes: manifest.size,
      threshold: manifest.threshold,
      fiduciaries: manifest.fiduciaries,
    }));
    const label = { kept: '', retired: '  RETIRED (its body is released; it cannot be restored)', retiring: '  RETIRING (some fiduciaries have not confirmed)' } as const;
    const text = rows.map((r) => `${r.created}  ${r.manifest}  ${r.files} files  ${r.bytes} bytes  ${r.threshold} of ${r.fiduciaries.length}${label[r.status]}`).join('\n');
    return { code: EXIT_OK, text: text === '' ? 'no backups' : text, json: { ok: true, node: backups[0]?.manifest.node ?? null, backups: rows } };
  });
}

async function prune(config: MilagroConfig, values: Values): Promise<BackupOutcome> {
  const keep = wholeNumber(values.keep, 'keep');
  if (keep === undefined) throw new UsageError('backup prune needs --keep <n>: how many of the newest backups to keep (at least 1)');
  if (keep < 1) throw new UsageError('--keep: expected at least 1: the newest backup is never retired');
  const timeoutMs = (wholeNumber(values.timeout, 'timeout') ?? 600) * 1000;
  if (await nodeIsRunning(config)) {
    throw new UsageError(
      config.backup === undefined
        ? 'the node is running (milagro.run.json names a live process): stop it before `backup prune`'
        : `the node is running and retires old backups itself after each scheduled backup (its \`backup\` section keeps ${config.backup.keep}): \`backup prune\` is for a stopped node`,
    );
  }
  const head = await readBackupHead(config.dataDir);
  if (head === undefined) throw new UsageError('this node has no backup yet (no backup/head.json): nothing to prune');
  const node = await openNodeForBackup(config, NODE_FILES.identityLabelPrefix);
  try {
    await waitForPeers(node.network.ipfs, Math.min(timeoutMs, 60_000));
    const chain = await listBackups(node.network.ipfs.store, head, node.network.resolver, { timeoutMs: 60_000 });
    progress(`${chain.length} backups in the chain from ${head.toString()}; keeping the newest ${keep}`);
    const pruned = await pruneBackups({ dataDir: config.dataDir, keep, messenger: node.messenger, signer: identitySigner(node.identity, node.keyStore), chain, timeoutMs });
    const done = pruned.pending.length === 0;
    const json = { ok: done, keep, retired: pruned.retired, pending: pruned.pending, refused: pruned.refused.map((r) => ({ fiduciary: r.fiduciary, code: r.code, message: r.message })), kept: pruned.kept };
    const lines = [
      `retired ${pruned.retired.length} backups, keeping ${pruned.kept.length}${pruned.retired.length === 0 && pruned.pending.length === 0 ? ' (nothing to retire: within the limit, or no newer backup is confirmed by k fiduciaries)' : ''}`,
      ...pruned.retired.map((manifest) => `  retired ${manifest}`),
      ...pruned.pending.map((p) => `  NOT YET retired ${p.manifest}: waiting for ${p.waitingFor.join(', ')} (run prune again)`),
      ...pruned.refused.map((r) => `  refused by ${r.fiduciary}: ${r.code}: ${r.message}`),
    ];
    return { code: done ? EXIT_OK : EXIT_FAILURE, text: lines.join('\n'), json };
  } finally {
    await node.close();
  }
}

/** Key labels of the nodes a backup may be of: `milagro start`'s, then the single-role servers' (apps/dta-server, mfa-server, custody-server). */
const IDENTITY_LABEL_PREFIXES = [NODE_FILES.identityLabelPrefix, 'dta', 'mfa', 'custody'] as const;

/** The identity in a restored key store, under whichever of {@link IDENTITY_LABEL_PREFIXES} holds one. */
async function loadRestoredIdentity(keyStore: FileKeyStore, network: TemporaryNetwork): Promise<OwnedIdentity> {
  for (const labelPrefix of IDENTITY_LABEL_PREFIXES) {
    try {
      return await loadIdentity({ keyStore, store: network.ipfs.store, labelPrefix, timeoutMs: 60_000 });
    } catch (error) {
      if (!isPkiError(error, 'NOT_FOUND')) throw error;
    }
  }
  throw new PkiError('NOT_FOUND', `no identity is recorded under any of ${IDENTITY_LABEL_PREFIXES.map((prefix) => `"${prefix}"`).join(', ')}`);
}

/** The restored node must open: its key store with the configured passphrase, its identity the one the backup is of. */
function nodeCheck(config: MilagroConfig, network: TemporaryNetwork, node: string): (staged: RestoredLayout) => Promise<void> {
  return async (staged) => {
    if (config.keyStore.kind !== 'file') return; // an HSM's keys are not in the data dir
    const keyStore = await FileKeyStore.open({ path: join(staged.dataDir, 'keys'), passphrase: readSecret(config.keyStore.passphrase) });
    try {
      const identity = await loadRestoredIdentity(keyStore, network);
      if (identity.id.toString() !== node) throw new Error(`the restored key store holds identity ${identity.id.toString()}, not ${node}`);
      // The identity's keys must be usable, not just present.
      await identityRecipientKey(identity, keyStore);
    } finally {
      await keyStore.close();
    }
  };
}

async function release(network: TemporaryNetwork, manifest: CID, secret: string, timeoutMs: number): Promise<CollectedShares> {
  const requester = await temporaryIdentity(network);
  try {
    return await requestShares({
      messenger: requester.messenger,
      requesterKem: requester.identity.document.keys.kem,
      store: network.ipfs.store,
      resolver: network.resolver,
      manifest,
      recoverySecret: secret,
      timeoutMs,
    });
  } finally {
    await requester.close();
  }
}

/**
 * The restored messaging journal records outbox chains that the lost node may have extended after
 * the backup was taken; continuing them would fork them, and its peers would refuse every further
 * message. A `chains-closed` record makes the node start new chains (docs/adr/0018-one-chain-per-journal.md);
 * the old chains' unacknowledged envelopes are still announced until acknowledged.
 */
async function closeMessagingChains(dataDir: string): Promise<void> {
  const path = join(dataDir, 'messaging.journal');
  if (!existsSync(path)) return;
  const journal = new FileJournal({ path });
  try {
    await journal.load();
    await journal.append([{ k: 'chains-closed' }]);
  } finally {
    await journal.close();
  }
}

async function restoreInto(config: MilagroConfig, values: Values, drill: boolean): Promise<BackupOutcome> {
  const manifest = manifestOf(values.manifest) ?? (drill ? await readBackupHead(config.dataDir) : undefined);
  if (manifest === undefined) throw new UsageError(drill ? 'this node has no backup yet (no backup/head.json); pass --manifest <cid>' : 'backup restore needs --manifest <cid>');
  const secret = recoverySecret(values);
  const timeoutMs = (wholeNumber(values.timeout, 'timeout') ?? 600) * 1000;
  if (!drill && (await nodeIsRunning(config))) {
    throw new UsageError(`a process has ${config.dataDir} open (the node is running): stop it before \`backup restore\`, or drill with \`backup verify\`, which leaves the data dir alone`);
  }
  return withNetwork(config, timeoutMs, async (network) => {
    const started = performance.now();
    progress(`asking the fiduciaries of ${manifest.toString()} for their shares`);
    const collected = await release(network, manifest, secret, timeoutMs);
    progress(`${collected.shares.length} shares released (by ${collected.releasedBy.map((r) => r.fiduciary).join(', ')}); restoring`);
    const scratch = drill ? await mkdtemp(join(tmpdir(), 'milagro-backup-drill-')) : undefined;
    try {
      const dataDir = scratch === undefined ? config.dataDir : join(scratch, 'data');
      const restored = await restoreBackup({
        store: network.ipfs.store,
        manifest,
        nodeSigningKey: collected.nodeSigningKey,
        shares: collected.shares,
        dataDir,
        replace: !drill && values.replace,
        check: nodeCheck(config, network, collected.manifest.node),
        timeoutMs: 120_000,
      });
      if (!drill) {
        await closeMessagingChains(config.dataDir);
        await writeBackupHead(config.dataDir, manifest, restored.manifest.created);
      }
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const releasedBy = collected.releasedBy.map((r) => r.fiduciary);
      const json = { ok: true, drill, manifest: manifest.toString(), node: restored.manifest.node, files: restored.files, bytes: restored.bytes, releasedBy, audit: collected.releasedBy, unreachable: collected.unreachable, dataDir: drill ? null : config.dataDir };
      const what = drill ? 'restore drill passed' : `restored ${config.dataDir}`;
      return { code: EXIT_OK, text: `${what}: node ${restored.manifest.node}, ${restored.files} files, ${restored.bytes} bytes, shares from ${releasedBy.length} fiduciaries, ${seconds} s`, json };
    } finally {
      if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
    }
  });
}

/**
 * Serves as a fiduciary until SIGTERM/SIGINT, with the node's operational HTTP endpoints (`/v1/node`
 * for its identity and IPFS addresses, `/healthz`, `/readyz`, `/metrics`) on the config's port.
 */
async function serveFiduciary(config: MilagroConfig): Promise<undefined> {
  const logger = pino({ name: 'milagro', level: config.log.level });
  const node = await bootstrapNode(config, NODE_FILES);
  let fiduciary: BackupFiduciary;
  try {
    fiduciary = await BackupFiduciary.open({
      messenger: node.messenger,
      store: node.ipfs.store,
      resolver: node.resolver,
      signer: identitySigner(node.identity, node.keyStore),
      recipient: await identityRecipientKey(node.identity, node.keyStore),
      db: node.db,
      ...(config.backupFiduciary === undefined ? {} : { releaseLimit: { releases: config.backupFiduciary.releaseLimit.releases, windowMs: config.backupFiduciary.releaseLimit.window } }),
      ...(config.backupFiduciary?.maxBytesPerNode === undefined ? {} : { maxBytesPerNode: config.backupFiduciary.maxBytesPerNode }),
      onEvent: (event) => logger.info(event, event.event),
    });
  } catch (error) {
    await node.close();
    throw error;
  }
  fiduciary.start();
  await serveRoles({
    node,
    roles: { roles: [], apis: [createNodeApi(node)], ready: {}, registry: new Registry(), close: () => fiduciary.close() },
    http: config.http,
    title: 'Milagro backup fiduciary',
    logger,
    describe: { roles: ['backup-fiduciary'] },
  });
  return undefined;
}

/** Runs `milagro backup <action> …`; `undefined` when the action keeps running (fiduciary). */
export async function backup(argv: readonly string[]): Promise<BackupOutcome | undefined> {
  const [action, ...rest] = argv;
  const { values } = parseArgs({ args: action?.startsWith('-') === true ? [] : rest, options, strict: true, allowPositionals: false });
  if (values.help || action === undefined || action === 'help' || action === '--help' || action === '-h') return { code: EXIT_OK, text: BACKUP_USAGE, json: { ok: true, usage: BACKUP_USAGE } };
  const config = loadMilagroConfig(values.config);
  switch (action) {
    case 'init-recovery':
      return initRecovery(config, values.force);
    case 'create':
      return create(config, values.config, values);
    case 'list':
      return list(config, values);
    case 'prune':
      return prune(config, values);
    case 'verify':
      return restoreInto(config, values, true);
    case 'restore':
      return restoreInto(config, values, false);
    case 'fiduciary':
      return serveFiduciary(config);
    default:
      throw new UsageError(`milagro backup: unknown action ${JSON.stringify(action)}\n${BACKUP_USAGE}`);
  }
}
