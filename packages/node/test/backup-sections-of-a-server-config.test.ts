/**
 * The backup sections every server's configuration may add (`backupSectionsShape`), the roles they
 * turn on (`backupRolesOf`) and the configuration file archived in each backup (`configFileOf`):
 * defaults, absent sections, and refusals that name the key and what was expected.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { backupRolesOf, backupSectionsShape, configFileOf, isNodeError, loadConfig, nodeConfigShape, parseConfig } from '../src/index.js';

const schema = z.object({ ...nodeConfigShape, ...backupSectionsShape }).strict();
const ENV_VAR = 'MILAGRO_TEST_SERVER_CONFIG';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'node-backup-sections-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  delete process.env[ENV_VAR];
});

function refusal(sections: Record<string, unknown>): string {
  try {
    parseConfig(schema, { dataDir: 'data', ...sections }, { baseDir: root, label: 'test' });
  } catch (error) {
    expect(isNodeError(error, 'INVALID_CONFIG')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

it('parses both sections with their defaults and hands them, the config file and the exclusions to the roles', () => {
  const path = join(root, 'server.json');
  writeFileSync(path, JSON.stringify({ dataDir: 'data', backup: { fiduciaries: ['f1', 'f2', 'f3'], threshold: 2, every: '24h' }, backupFiduciary: {} }));
  const config = loadConfig(schema, { envVar: ENV_VAR, label: 'test', argv: ['--config', path] });
  const exclude = (file: string): boolean => file === 'run.json';
  const roles = backupRolesOf(config, { configFile: configFileOf(ENV_VAR, ['--config', path]), exclude });
  expect(roles.backup?.section).toMatchObject({ fiduciaries: ['f1', 'f2', 'f3'], threshold: 2, every: 86_400_000, onStart: false, timeout: 600_000 });
  expect(roles.backup?.node.dataDir).toBe(join(root, 'data'));
  expect(roles.backup?.configFile).toBe(path);
  expect(roles.backup?.exclude).toBe(exclude);
  expect(roles.backupFiduciary).toMatchObject({ releaseLimit: { releases: 3, window: 86_400_000 } });
  // Durations as a number of minutes, and the fiduciary's own limit.
  const other = parseConfig(schema, { dataDir: 'data', backup: { fiduciaries: ['f1'], threshold: 1, every: 90, onStart: true, timeout: '30s' }, backupFiduciary: { releaseLimit: { releases: 5, window: '7d' } } }, { baseDir: root, label: 'test' });
  expect(backupRolesOf(other).backup?.section).toMatchObject({ every: 5_400_000, onStart: true, timeout: 30_000 });
  expect(backupRolesOf(other).backup).not.toHaveProperty('configFile');
  expect(backupRolesOf(other).backupFiduciary).toMatchObject({ releaseLimit: { releases: 5, window: 604_800_000 } });
  // Without the sections: no backup roles at all.
  expect(backupRolesOf(parseConfig(schema, { dataDir: 'data' }, { baseDir: root, label: 'test' }))).toEqual({});
});

it('names the config file from --config before the environment, as an absolute path', () => {
  expect(configFileOf(ENV_VAR, [])).toBeUndefined();
  process.env[ENV_VAR] = '';
  expect(configFileOf(ENV_VAR, [])).toBeUndefined();
  process.env[ENV_VAR] = 'from-env.json';
  expect(configFileOf(ENV_VAR, [])).toBe(join(process.cwd(), 'from-env.json'));
  expect(configFileOf(ENV_VAR, ['--config', '/etc/milagro/server.json'])).toBe('/etc/milagro/server.json');
});

it('refuses a bad value naming the key', () => {
  expect(refusal({ backup: { fiduciaries: ['f1', 'f2'], threshold: 3, every: '1h' } })).toMatch(/backup\.threshold: expected at most the number of fiduciaries \(2\), found 3/);
  expect(refusal({ backup: { fiduciaries: ['f1', 'f2', 'f3'], threshold: 1, every: '1h' } })).toMatch(/backup\.threshold: expected at least 2 with several fiduciaries/);
  expect(refusal({ backup: { fiduciaries: ['f1', 'f2'], threshold: 2, confirmations: 3, every: '1h' } })).toMatch(/backup\.confirmations: expected at most/);
  expect(refusal({ backup: { fiduciaries: ['f1', 'f1'], threshold: 2, every: '1h' } })).toMatch(/backup\.fiduciaries: a fiduciary is listed twice/);
  expect(refusal({ backup: { fiduciaries: ['f1'], threshold: 1 } })).toMatch(/backup\.every/);
  expect(refusal({ backup: { fiduciaries: ['f1'], threshold: 1, every: 0 } })).toMatch(/backup\.every: expected a duration/);
  expect(refusal({ backup: { fiduciaries: ['f1'], threshold: 1, every: 'often' } })).toMatch(/backup\.every: expected a duration/);
  expect(refusal({ backupFiduciary: { releaseLimit: { releases: 0 } } })).toMatch(/backupFiduciary\.releaseLimit\.releases/);
  expect(refusal({ backupFiduciary: { releaseLimit: { releases: 3, window: 'soon' } } })).toMatch(/backupFiduciary\.releaseLimit\.window/);
  expect(refusal({ backupFiduciary: { enabled: true } })).toMatch(/backupFiduciary: .*enabled/);
});
