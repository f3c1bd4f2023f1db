/**
 * The MFA server's config takes @milagro/node's `backup` and `backupFiduciary` sections (their
 * defaults and refusals are tested there) and hands them to the roles beside the MFA service, with
 * the config file that each backup archives.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFileOf, loadConfig, parseConfig, rolesOf } from '../src/config.js';

const DTAS = [1, 2, 3].map((i) => ({ id: `bafyreidta${i}`, url: `https://dta${i}.acme.example` }));
const minimal = (sections: Record<string, unknown> = {}) => ({
  dataDir: 'data',
  mfa: { issuer: 'https://login.acme.example', realm: { id: 'acme', threshold: 2, dtas: DTAS }, activation: { kind: 'admin' } },
  ...sections,
});

it('hands the backup sections and the config file to the roles beside the MFA service', () => {
  const root = mkdtempSync(join(tmpdir(), 'mfa-backup-config-'));
  try {
    const path = join(root, 'mfa.json');
    writeFileSync(path, JSON.stringify(minimal({ backup: { fiduciaries: ['f1', 'f2', 'f3'], threshold: 2, every: '24h' }, backupFiduciary: {} })));
    const roles = rolesOf(loadConfig(['--config', path]), configFileOf(['--config', path]));
    expect(Object.keys(roles).sort()).toEqual(['backup', 'backupFiduciary', 'curveBackend', 'mfa']);
    expect(roles.mfa?.realm.id).toBe('acme');
    expect(roles.backup?.section).toMatchObject({ threshold: 2, every: 86_400_000 });
    expect(roles.backup?.configFile).toBe(path);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  // Without the sections: the MFA service alone; and a misspelt one is refused, naming it.
  expect(Object.keys(rolesOf(parseConfig(minimal(), '/srv/mfa'))).sort()).toEqual(['curveBackend', 'mfa']);
  expect(() => parseConfig(minimal({ backups: {} }), '/srv/mfa')).toThrow(/backups/);
});
