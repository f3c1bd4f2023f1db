/**
 * The MFA server's `backup` (scheduled backups) and `backupFiduciary` sections, from @milagro/node's
 * schemas: parsed with their defaults, handed to the roles with the config file, absent when not
 * given, and refused naming the key.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNodeError } from '@milagro/node';
import { configFileOf, loadConfig, parseConfig, rolesOf } from '../src/config.js';

const DTAS = [1, 2, 3].map((i) => ({ id: `bafyreidta${i}`, url: `https://dta${i}.acme.example` }));
const minimal = (sections: Record<string, unknown> = {}) => ({
  dataDir: 'data',
  mfa: { issuer: 'https://login.acme.example', realm: { id: 'acme', threshold: 2, dtas: DTAS }, activation: { kind: 'admin' } },
  ...sections,
});

function refusal(raw: unknown): string {
  try {
    parseConfig(raw, '/srv/mfa');
  } catch (error) {
    expect(isNodeError(error, 'INVALID_CONFIG')).toBe(true);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

it('parses both sections with their defaults and hands them to the roles beside the MFA service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mfa-backup-config-'));
  try {
    const path = join(dir, 'mfa.json');
    writeFileSync(path, JSON.stringify(minimal({ backup: { fiduciaries: ['f1', 'f2', 'f3'], threshold: 2, every: 90, onStart: true, timeout: '30s' }, backupFiduciary: { releaseLimit: { releases: 5, window: '7d' } } })));
    const roles = rolesOf(loadConfig(['--config', path]), configFileOf(['--config', path]));
    expect(roles.mfa?.realm.id).toBe('acme');
    expect(roles.backup?.section).toEqual({ fiduciaries: ['f1', 'f2', 'f3'], threshold: 2, every: 5_400_000, onStart: true, timeout: 30_000 });
    expect(roles.backup?.node.dataDir).toBe(join(dir, 'data'));
    expect(roles.backup?.configFile).toBe(path);
    expect(roles.backupFiduciary).toEqual({ releaseLimit: { releases: 5, window: 604_800_000 } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Without the sections: the MFA service alone.
  expect(Object.keys(rolesOf(parseConfig(minimal(), '/srv/mfa'))).sort()).toEqual(['curveBackend', 'mfa']);
});

it('refuses a bad value naming the key', () => {
  expect(refusal(minimal({ backup: { fiduciaries: ['f1', 'f2', 'f3'], threshold: 1, every: '1h' } }))).toMatch(/backup\.threshold: expected at least 2 with several fiduciaries/);
  expect(refusal(minimal({ backup: { fiduciaries: ['f1', 'f2'], threshold: 2, confirmations: 3, every: '1h' } }))).toMatch(/backup\.confirmations: expected at most/);
  expect(refusal(minimal({ backup: { fiduciaries: ['f1'], threshold: 1 } }))).toMatch(/backup\.every/);
  expect(refusal(minimal({ backup: { fiduciaries: ['f1'], threshold: 1, every: 0 } }))).toMatch(/backup\.every: expected a duration/);
  expect(refusal(minimal({ backupFiduciary: { releaseLimit: { releases: 3, window: 'soon' } } }))).toMatch(/backupFiduciary\.releaseLimit\.window/);
});
