/**
 * A missing or invalid config.yaml stops `milagro` with exit 2 and a message that names the key,
 * what was expected and what was found, and never echoes a secret.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMilagroConfig, rolesOf } from '../src/config.js';
import { runMilagro } from './support/milagro-command.js';

jest.setTimeout(120_000);

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'milagro-config-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
}

function refusal(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadMilagroConfig(write('config.yaml', text), env);
  } catch (error) {
    expect((error as Error).name).toBe('UsageError');
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

const DTA_ONLY = 'roles: [dta]\ndataDir: data\n';
const MFA = 'mfa:\n  issuer: https://login.acme.example\n  realm: { id: acme, threshold: 1, dtas: [{ id: bafydta1, url: "https://dta1.acme.example" }] }\n  activation: { kind: admin }\n';

describe('config.yaml', () => {
  it('fills in defaults, resolves dataDir against the file, and gives a listed role without section its defaults', () => {
    const config = loadMilagroConfig(write('ok.yaml', DTA_ONLY), {});
    expect(config.dataDir).toBe(join(root, 'data'));
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(rolesOf(config).dta).toMatchObject({ trustedProposers: [], adminToken: { env: 'MILAGRO_DTA_ADMIN_TOKEN' } });
    expect(rolesOf(config).mfa).toBeUndefined();
    const both = loadMilagroConfig(write('both.yaml', `roles: [dta, mfa]\ndataDir: data\n${MFA}`), {});
    expect(Object.keys(rolesOf(both)).sort()).toEqual(['curveBackend', 'dta', 'mfa']);
    const custody = loadMilagroConfig(write('custody.yaml', 'roles: [custody]\ndataDir: data\n'), {});
    expect(rolesOf(custody)).toMatchObject({ custody: { protocolRoundTimeoutMs: 60_000 } });
  });

  it('names the key, the expectation and what was found', () => {
    expect(refusal(`${DTA_ONLY}http: { port: eighty }\n`)).toMatch(/http\.port: .*expected number, received string/);
    expect(refusal('dataDir: data\n')).toContain('roles');
    expect(refusal('roles: [dta, vault]\ndataDir: data\n')).toContain('roles.1');
    expect(refusal('roles: [mfa]\ndataDir: data\n')).toMatch(/mfa: expected the mfa section/);
    expect(refusal(`${DTA_ONLY}${MFA}`)).toMatch(/mfa: found a mfa section, but roles does not list mfa/);
    expect(refusal(`${DTA_ONLY}colour: blue\n`)).toContain('colour');
    expect(refusal('roles: [dta]\ndataDir: [\n')).toMatch(/not valid YAML at line \d+/);
  });

  it('never echoes a secret written into the file', () => {
    const message = refusal(`${DTA_ONLY}keyStore: { kind: file, passphrase: "correct horse battery staple" }\ndta: { adminToken: "inline-admin-token-123456" }\n`);
    expect(message).toContain('keyStore.passphrase');
    expect(message).toContain('dta.adminToken');
    expect(message).not.toContain('correct horse');
    expect(message).not.toContain('inline-admin-token');
  });

  it('MILAGRO_<SECTION>_<KEY> overrides a scalar key, and a bad override is named like a bad key', () => {
    const config = loadMilagroConfig(write('env.yaml', DTA_ONLY), { MILAGRO_HTTP_PORT: '9443', MILAGRO_LOG_LEVEL: 'warn', MILAGRO_KEYSTORE_PASSPHRASE: 'not a config key' });
    expect(config.http.port).toBe(9443);
    expect(config.log.level).toBe('warn');
    expect(config.keyStore).toMatchObject({ passphrase: { env: 'MILAGRO_KEYSTORE_PASSPHRASE' } });
    expect(refusal(DTA_ONLY, { MILAGRO_HTTP_PORT: 'eighty' })).toMatch(/http\.port: .*expected number, received string/);
  });
});

describe('milagro start', () => {
  it('exits 2 when the config is missing, naming the file and the way out', async () => {
    const missing = join(root, 'nowhere.yaml');
    const result = await runMilagro(['start', '--config', missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(missing);
    expect(result.stderr).toContain('milagro init');
  });

  it('exits 2 on an invalid config, with --json too', async () => {
    const path = write('bad.yaml', `${DTA_ONLY}http: { port: 70000 }\n`);
    const result = await runMilagro(['start', '--config', path, '--json']);
    expect(result.code).toBe(2);
    const answer = JSON.parse(result.stdout) as { ok: boolean; exitCode: number; error: { message: string } };
    expect(answer).toMatchObject({ ok: false, exitCode: 2 });
    expect(answer.error.message).toContain('http.port');
  });
});
