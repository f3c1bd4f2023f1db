/**
 * The D-TA server's `backup` (scheduled backups) and `backupFiduciary` sections, from @milagro/node's
 * schemas: parsed with their defaults, handed to the roles with the config file, absent when not
 * given, and refused naming the key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNodeError } from '@milagro/node';
import { configFileOf, loadConfig, rolesOf, type DtaServerConfig } from '../src/config.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'dta-backup-config-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function load(sections: Record<string, unknown>): DtaServerConfig {
  const path = join(root, 'dta.json');
  writeFileSync(path, JSON.stringify({ dataDir: 'data', ...sections }));
  return loadConfig(['--config', path]);
}

function refusal(sections: Record<string, unknown>): string {
  try {
    load(sections);
  } catch (error) {
    expect(isNodeError(error, 'INVALID_CONFIG')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

it('parses both sections with their defaults and hands them to the roles beside the D-TA', () => {
  const config = load({ backup: { fiduciaries: ['f1', 'f2', 'f3'], threshold: 2, every: '24h' }, backupFiduciary: {} });
  const path = join(root, 'dta.json');
  const roles = rolesOf(config, configFileOf(['--config', path]));
  expect(roles.dta).toBeDefined();
  expect(roles.backup?.section).toEqual({ fiduciaries: ['f1', 'f2', 'f3'], threshold: 2, every: 86_400_000, onStart: false, timeout: 600_000 });
  expect(roles.backup?.node.dataDir).toBe(join(root, 'data'));
  expect(roles.backup?.configFile).toBe(path);
  expect(roles.backupFiduciary).toEqual({ releaseLimit: { releases: 3, window: 86_400_000 } });
  // Without the sections: the D-TA alone.
  expect(Object.keys(rolesOf(load({}))).sort()).toEqual(['curveBackend', 'dta']);
});

it('refuses a bad value naming the key', () => {
  expect(refusal({ backup: { fiduciaries: ['f1', 'f2'], threshold: 3, every: '1h' } })).toMatch(/backup\.threshold: expected at most the number of fiduciaries \(2\), found 3/);
  expect(refusal({ backup: { fiduciaries: ['f1'], threshold: 1, every: 'often' } })).toMatch(/backup\.every: expected a duration/);
  expect(refusal({ backup: { fiduciaries: ['f1', 'f1'], threshold: 2, every: '1h' } })).toMatch(/backup\.fiduciaries: a fiduciary is listed twice/);
  expect(refusal({ backupFiduciary: { releaseLimit: { releases: 0 } } })).toMatch(/backupFiduciary\.releaseLimit\.releases/);
  expect(refusal({ backupFiduciary: { enabled: true } })).toMatch(/backupFiduciary: .*enabled/);
});
