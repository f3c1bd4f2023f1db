/**
 * Issue 11 with real processes: a D-TA (with a realm) is backed up by `milagro backup create` to three
 * fiduciaries (`milagro backup fiduciary`, 2 of 3). A restore drill (`backup verify`) runs while the
 * D-TA is live and changes nothing of it, and a restore over it is refused; a wrong recovery secret
 * and a tampered manifest are refused;
 * then, with one fiduciary offline, the D-TA's data dir is destroyed and `backup restore` brings back
 * the same identity, key store, database and realm.
 */
import { createEmbeddedNode } from '@milagro/ipfs';
import { generateSwarmKey } from '@milagro/node';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { jsonRequest } from '../../../tools/jest/dta-cluster.js';
import { waitFor } from '../../../tools/jest/peer-process.js';
import { spawnServer, type ServerProcess } from '../../../tools/jest/server-process.js';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { runMilagro, startMilagro } from './support/milagro-command.js';

jest.setTimeout(900_000);

const ADMIN_TOKEN = 'operator-token-for-milagro-backup-tests';
const env = { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the backup test', MILAGRO_DTA_ADMIN_TOKEN: ADMIN_TOKEN };
const ENTRY = new URL('../src/main.ts', import.meta.url).pathname;

let root: string;
const running: ServerProcess[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'milagro-backup-e2e-'));
});
afterAll(async () => {
  for (const server of running) await server.kill();
  rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

async function init(name: string, peers: readonly string[]): Promise<string> {
  const config = join(root, name, 'config.yaml');
  const args = ['init', '--yes', '--config', config, '--data-dir', 'data', '--roles', 'dta', '--http-port', '0', '--scrypt-log-n', '10', '--swarm-key-file', join(root, 'swarm.key'), '--json'];
  const result = await runMilagro([...args, ...peers.flatMap((peer) => ['--peer', peer])], env);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  return config;
}

async function startFiduciary(config: string): Promise<ServerProcess> {
  const server = await spawnServer({ entry: ENTRY, args: ['backup', 'fiduciary', '--config', config], env });
  running.push(server);
  return server;
}

async function nodeInfo(url: string): Promise<{ identity: string; addresses: string[] }> {
  return (await jsonRequest(`${url}/v1/node`)).body as unknown as { identity: string; addresses: string[] };
}

async function backupCommand(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; out: Record<string, unknown>; stderr: string }> {
  const result = await runMilagro(['backup', ...args, '--json'], { ...env, ...extraEnv });
  let out: Record<string, unknown>;
  try {
    out = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    out = { stdout: result.stdout };
  }
  return { code: result.code, out, stderr: result.stderr };
}

/** What must survive: the key file's bytes, every table's rows, the IPFS peer key, the recovery key. */
function nodeState(dataDir: string): Record<string, string> {
  const hash = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');
  const db = new DatabaseSync(join(dataDir, 'milagro.sqlite'), { readOnly: true });
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>;
  const rows = tables.map(({ name }) => [name, (db.prepare(`SELECT * FROM "${name}"`).all() as unknown[]).map((row) => JSON.stringify(row, (_, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? v.toString() : v))).sort()]);
  db.close();
  return {
    keys: hash(readFileSync(join(dataDir, 'keys'))),
    database: hash(JSON.stringify(rows)),
    peerKey: hash(readFileSync(join(dataDir, 'ipfs', 'peer.key'))),
    recovery: hash(readFileSync(join(dataDir, 'backup', 'recovery.json'))),
  };
}

it('backs up a D-TA, drills, refuses a wrong secret and a tampered manifest, and restores with 2 of 3 fiduciaries', async () => {
  writeFileSync(join(root, 'swarm.key'), generateSwarmKey(), { mode: 0o600 });

  // Three fiduciaries, each dialling those before it.
  const fiduciaries: Array<{ config: string; server: ServerProcess; identity: string; addresses: string[] }> = [];
  for (const name of ['f1', 'f2', 'f3']) {
    const config = await init(name, fiduciaries.flatMap((f) => f.addresses));
    const server = await startFiduciary(config);
    fiduciaries.push({ config, server, ...(await nodeInfo(server.url)) });
  }

  // The D-TA, with committed state: a one-member realm.
  const dtaConfig = await init('dta', fiduciaries.flatMap((f) => f.addresses));
  const dataDir = join(root, 'dta', 'data');
  let dta = await startMilagro(dtaConfig, env);
  running.push(dta);
  const { identity } = await nodeInfo(dta.url);
  const created = await jsonRequest(`${dta.url}/v1/realms`, { bearer: ADMIN_TOKEN, json: { realmId: 'solo', threshold: 1, members: [identity], mfaService: identity } });
  expect(created.status).toBe(202);
  await waitFor('realm active', async () => (await jsonRequest(`${dta.url}/v1/realms/solo`)).body['state'] === 'active', 120_000, 250);
  const realm = (await jsonRequest(`${dta.url}/v1/realms/solo`)).body;
  await dta.stop();

  // The owner's recovery credential: init created one (shown once then); replacing it needs --force.
  expect((await backupCommand(['init-recovery', '--config', dtaConfig])).code).toBe(2);
  const recovery = await backupCommand(['init-recovery', '--force', '--config', dtaConfig]);
  expect(recovery.code).toBe(0);
  // Then a backup sealed 2 of 3 and pinned by all three.
  const secret = String(recovery.out['recoverySecret']);
  const backup = await backupCommand(['create', '--config', dtaConfig, '--threshold', '2', '--confirmations', '3', '--timeout', '300', ...fiduciaries.flatMap((f) => ['--fiduciary', f.identity])]);
  const events = fiduciaries.flatMap((f) => f.server.logs.filter((line) => typeof line['event'] === 'string'));
  if (backup.code !== 0) throw new Error(`backup create failed: ${JSON.stringify({ out: backup.out, stderr: backup.stderr, events }, null, 1)}`);
  expect(backup.out).toMatchObject({ ok: true, node: identity, threshold: 2 });
  expect([...(backup.out['pinnedBy'] as string[])].sort()).toEqual(fiduciaries.map((f) => f.identity).sort());
  const manifest = String(backup.out['manifest']);
  const listed = await backupCommand(['list', '--config', dtaConfig]);
  expect(listed.code).toBe(0);
  expect((listed.out['backups'] as Array<{ manifest: string }>).map((b) => b.manifest)).toEqual([manifest]);

  // A restore drill while the D-TA runs: it passes and the live node is as it was.
  dta = await startMilagro(dtaConfig, env);
  running.push(dta);
  const live = nodeState(dataDir);
  const siblings = readdirSync(join(root, 'dta')).sort();
  const drill = await backupCommand(['verify', '--config', dtaConfig], { MILAGRO_RECOVERY_SECRET: secret });
  if (drill.code !== 0) throw new Error(`backup verify failed: ${JSON.stringify({ out: drill.out, stderr: drill.stderr }, null, 1)}`);
  expect(drill.out).toMatchObject({ ok: true, drill: true, node: identity, manifest });
  expect(nodeState(dataDir)).toEqual(live);
  expect(readdirSync(join(root, 'dta')).sort()).toEqual(siblings);
  expect((await nodeInfo(dta.url)).identity).toBe(identity);
  // A restore over the running node's data dir is refused before anything is fetched or touched.
  const overLive = await backupCommand(['restore', '--config', dtaConfig, '--manifest', manifest, '--replace'], { MILAGRO_RECOVERY_SECRET: secret });
  expect({ code: overLive.code, out: overLive.out }).toMatchObject({ code: 2, out: { ok: false, error: { message: expect.stringContaining('stop it before `backup restore`') } } });
  expect(nodeState(dataDir)).toEqual(live);
  await dta.stop();

  // A wrong recovery secret: every fiduciary refuses; nothing is released.
  const wrong = await backupCommand(['verify', '--config', dtaConfig, '--timeout', '120'], { MILAGRO_RECOVERY_SECRET: 'milagro-recovery-1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
  expect(wrong.code).toBe(1);
  expect(wrong.out).toMatchObject({ ok: false, error: { code: 'NOT_AUTHORISED' } });

  // A tampered manifest (one field changed, so its signature no longer verifies) is refused and overwrites
  // nothing. A helper node holds it; the D-TA's config lists the helper so the restore can fetch it.
  const tamperDir = mkdtempSync(join(root, 'tamper-'));
  const helper = await createEmbeddedNode({ dataDir: tamperDir, peers: fiduciaries[0]!.addresses, swarmKey: readFileSync(join(root, 'swarm.key'), 'utf8') });
  const configText = readFileSync(dtaConfig, 'utf8');
  try {
    const value = await helper.store.getDag<Record<string, unknown>>(manifest, { timeoutMs: 60_000 });
    const tampered = (await helper.store.putDag({ ...value, threshold: 1 }, { pin: true, recursive: false })).toString();
    const withHelper = parseYaml(configText) as { ipfs: { peers: string[] } };
    withHelper.ipfs.peers = [...(await helper.multiaddrs()), ...withHelper.ipfs.peers];
    writeFileSync(dtaConfig, stringifyYaml(withHelper));
    const before = nodeState(dataDir);
    const refused = await backupCommand(['restore', '--config', dtaConfig, '--manifest', tampered, '--replace', '--timeout', '120'], { MILAGRO_RECOVERY_SECRET: secret });
    expect({ code: refused.code, out: refused.out, stderr: refused.stderr }).toMatchObject({ code: 1, out: { ok: false, error: { code: 'MALFORMED' } } });
    expect(nodeState(dataDir)).toEqual(before);
  } finally {
    writeFileSync(dtaConfig, configText);
    await helper.stop();
  }

  // Disaster: the D-TA's data dir is gone and one fiduciary is offline. Restore with the other two.
  await fiduciaries[2]!.server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  const restored = await backupCommand(['restore', '--config', dtaConfig, '--manifest', manifest], { MILAGRO_RECOVERY_SECRET: secret });
  if (restored.code !== 0) throw new Error(`backup restore failed: ${JSON.stringify({ out: restored.out, stderr: restored.stderr }, null, 1)}`);
  expect([...(restored.out['releasedBy'] as string[])].sort()).toEqual([fiduciaries[0]!.identity, fiduciaries[1]!.identity].sort());
  expect(nodeState(dataDir)).toEqual(live);
  expect(existsSync(join(dataDir, 'backup', 'head.json'))).toBe(true);

  // It resumes with the same identity and realm.
  dta = await startMilagro(dtaConfig, env);
  running.push(dta);
  expect((await nodeInfo(dta.url)).identity).toBe(identity);
  const after = await jsonRequest(`${dta.url}/v1/realms/solo`);
  expect(after.body).toMatchObject({ state: 'active', groupPublicKey: realm['groupPublicKey'] });

  // Each release (drill and restore) is in the releasing fiduciary's log with its audit entry.
  for (const f of fiduciaries.slice(0, 2)) {
    const releases = f.server.logs.filter((line) => line['event'] === 'share-released');
    expect(releases.length).toBeGreaterThanOrEqual(2);
    expect(releases.every((line) => typeof line['audit'] === 'string')).toBe(true);
  }
});
