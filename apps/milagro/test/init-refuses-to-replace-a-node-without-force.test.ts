/**
 * `milagro init` creates a node once: a second init without `--force` exits 2 and changes nothing
 * (same files, same bytes, same modification times); with `--force` it backs the old node up first.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { runMilagro } from './support/milagro-command.js';

jest.setTimeout(300_000);

const env = { MILAGRO_KEYSTORE_PASSPHRASE: 'passphrase of the init test' };
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'milagro-init-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));

/** Every file under `dir`: path → content hash and mtime. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[relative(dir, path)] = `${createHash('sha256').update(readFileSync(path)).digest('hex')} ${statSync(path).mtimeMs}`;
    }
  };
  walk(dir);
  return files;
}

it('init twice: the second refuses with exit 2 and changes nothing; --force backs up and starts afresh', async () => {
  const config = join(root, 'config.yaml');
  const args = ['init', '--yes', '--config', config, '--data-dir', 'data', '--roles', 'dta', '--http-port', '0', '--scrypt-log-n', '10', '--json'];
  const first = await runMilagro(args, env);
  expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
  const created = JSON.parse(first.stdout) as { ok: boolean; identity: string; dataDir: string };
  expect(created).toMatchObject({ ok: true, dataDir: join(root, 'data') });
  expect(created.identity).toMatch(/^baf/);
  // The owner's recovery credential (issue 11): the secret is in the answer once, only its public key on disk.
  const { recoverySecret, recoveryFile } = created as unknown as { recoverySecret: string; recoveryFile: string };
  expect(recoverySecret).toMatch(/^\S{40,}$/);
  expect(recoveryFile).toBe(join(root, 'data', 'backup', 'recovery.json'));
  expect(Object.keys(JSON.parse(readFileSync(recoveryFile, 'utf8')) as object)).toEqual(['publicKey']);
  expect(readFileSync(recoveryFile, 'utf8')).not.toContain(recoverySecret);
  // The written config is commented YAML that names its roles and sections.
  const text = readFileSync(config, 'utf8');
  expect(text).toContain('# Milagro Server configuration');
  expect(parse(text)).toMatchObject({ roles: ['dta'], dataDir: 'data', http: { port: 0 }, dta: { adminToken: { env: 'MILAGRO_DTA_ADMIN_TOKEN' } } });
  expect(text).not.toContain(env.MILAGRO_KEYSTORE_PASSPHRASE);

  const before = snapshot(root);
  const second = await runMilagro(args, env);
  expect(second.code).toBe(2);
  const refusal = JSON.parse(second.stdout) as { ok: boolean; error: { message: string } };
  expect(refusal.ok).toBe(false);
  expect(refusal.error.message).toMatch(/refusing to replace .*--force/);
  expect(snapshot(root)).toEqual(before);

  // Without --json the refusal goes to stderr, still exit 2.
  const human = await runMilagro(args.filter((arg) => arg !== '--json'), env);
  expect(human.code).toBe(2);
  expect(human.stderr).toContain('refusing to replace');
  expect(snapshot(root)).toEqual(before);

  const forced = await runMilagro([...args, '--force'], env);
  expect({ code: forced.code, stderr: forced.stderr }).toEqual({ code: 0, stderr: '' });
  const replaced = JSON.parse(forced.stdout) as { identity: string; backups: string[] };
  expect(replaced.identity).not.toBe(created.identity);
  expect(replaced.backups).toHaveLength(2);
  const [dataBackup, configBackup] = replaced.backups as [string, string];
  expect(existsSync(join(dataBackup, 'keys'))).toBe(true);
  expect(readFileSync(configBackup, 'utf8')).toBe(text);
});

it('init refuses bad flags with exit 2 naming the flag, before touching anything', async () => {
  const dir = mkdtempSync(join(root, 'flags-'));
  const config = join(dir, 'config.yaml');
  const roles = await runMilagro(['init', '--yes', '--config', config, '--roles', 'dta,wallet'], env);
  expect(roles.code).toBe(2);
  expect(roles.stderr).toContain('--roles');
  const mfa = await runMilagro(['init', '--yes', '--config', config, '--roles', 'mfa'], env);
  expect(mfa.code).toBe(2);
  expect(mfa.stderr).toContain('--mfa-issuer');
  const unknown = await runMilagro(['init', '--yes', '--config', config, '--colour', 'blue'], env);
  expect(unknown.code).toBe(2);
  const noPassphrase = await runMilagro(['init', '--yes', '--config', config], { MILAGRO_KEYSTORE_PASSPHRASE: '' });
  expect(noPassphrase.code).toBe(2);
  expect(noPassphrase.stderr).toContain('MILAGRO_KEYSTORE_PASSPHRASE');
  expect(readdirSync(dir)).toEqual([]);
});

it('init creates the directory of a config path that does not exist yet', async () => {
  const config = join(root, 'fresh', 'etc', 'milagro', 'config.yaml');
  const dataDir = join(root, 'fresh-data');
  const result = await runMilagro(['init', '--yes', '--config', config, '--data-dir', dataDir, '--roles', 'dta', '--http-port', '0', '--scrypt-log-n', '10', '--json'], env);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(existsSync(config)).toBe(true);
  expect((statSync(config).mode & 0o777).toString(8)).toBe('600');
});
