/**
 * The D-TA server's config takes @milagro/node's `backup` and `backupFiduciary` sections
 * (their defaults and refusals are tested there) and hands them to the roles beside the D-TA,
 * with the config file that each backup archives.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFileOf, loadConfig, rolesOf } from '../src/config.js';

it('hands the backup sections and the config file to the roles beside the D-TA', () => {
  const root = mkdtempSync(join(tmpdir(), 'dta-backup-config-'));
  try {
    const path = join(root, 'dta.json');
    writeFileSync(path, JSON.stringify({ dataDir: 'data', backup: { fiduciaries: ['f1', 'f2', 'f3'], threshold: 2, every: '24h' }, backupFiduciary: {} }));
    const roles = rolesOf(loadConfig(['--config', path]), configFileOf(['--config', path]));
    expect(Object.keys(roles).sort()).toEqual(['backup', 'backupFiduciary', 'curveBackend', 'dta']);
    expect(roles.backup?.section).toMatchObject({ threshold: 2, every: 86_400_000 });
    expect(roles.backup?.configFile).toBe(path);
    // Without the sections: the D-TA alone; and a misspelt one is refused, naming it.
    writeFileSync(path, JSON.stringify({ dataDir: 'data' }));
    expect(Object.keys(rolesOf(loadConfig(['--config', path]))).sort()).toEqual(['curveBackend', 'dta']);
    writeFileSync(path, JSON.stringify({ dataDir: 'data', backups: {} }));
    expect(() => loadConfig(['--config', path])).toThrow(/backups/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
