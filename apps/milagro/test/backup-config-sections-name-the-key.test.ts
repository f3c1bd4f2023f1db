/**
 * The `backup` (scheduled backups) and `backupFiduciary` sections of config.yaml: defaults, what
 * `milagro start` is handed, refusals that name the key and what was expected, and what a backup of
 * the node cannot contain.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupGaps } from '@milagro/node';
import { loadMilagroConfig, rolesOf } from '../src/config.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'milagro-backup-config-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const BASE = 'roles: [dta]\ndataDir: data\n';

function load(text: string): ReturnType<typeof loadMilagroConfig> {
  const path = join(root, 'config.yaml');
  writeFileSync(path, `${BASE}${text}`);
  return loadMilagroConfig(path, {});
}

function refusal(text: string): string {
  try {
    load(text);
  } catch (error) {
    expect((error as Error).name).toBe('UsageError');
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

it('hands the schedule and the fiduciary to start, with defaults, the config file and the run file left out', () => {
  const config = load('backup:\n  fiduciaries: [f1, f2, f3]\n  threshold: 2\n  every: 24h\nbackupFiduciary: {}\n');
  const roles = rolesOf(config);
  expect(roles.backup?.section).toEqual({ fiduciaries: ['f1', 'f2', 'f3'], threshold: 2, every: 86_400_000, onStart: false, timeout: 600_000, keep: 7 });
  expect(roles.backup?.configFile).toBe(join(root, 'config.yaml'));
  expect(roles.backup?.node.dataDir).toBe(join(root, 'data'));
  expect(roles.backup?.exclude?.('milagro.run.json')).toBe(true);
  expect(roles.backup?.exclude?.('milagro.sqlite')).toBe(false);
  expect(roles.backupFiduciary).toEqual({ releaseLimit: { releases: 3, window: 86_400_000 } });
  // Durations: seconds, minutes, days, or a number of minutes.
  expect(rolesOf(load('backup: { fiduciaries: [f1], threshold: 1, every: 90 }\n')).backup?.section.every).toBe(5_400_000);
  expect(rolesOf(load('backup: { fiduciaries: [f1], threshold: 1, every: 30s }\n')).backup?.section.every).toBe(30_000);
  expect(rolesOf(load('backupFiduciary: { releaseLimit: { releases: 5, window: 7d } }\n')).backupFiduciary).toEqual({ releaseLimit: { releases: 5, window: 604_800_000 } });
  // Retention and the per-node quota.
  expect(rolesOf(load('backup: { fiduciaries: [f1], threshold: 1, every: 1h, keep: 2 }\n')).backup?.section.keep).toBe(2);
  expect(rolesOf(load('backupFiduciary: { maxBytesPerNode: 1000000 }\n')).backupFiduciary?.maxBytesPerNode).toBe(1_000_000);
  // Without the sections, nothing is added.
  expect(Object.keys(rolesOf(load(''))).sort()).toEqual(['curveBackend', 'dta']);
});

it('names the key and the expectation', () => {
  expect(refusal('backup: { fiduciaries: [f1, f2], threshold: 3, every: 1h }\n')).toMatch(/backup\.threshold: expected at most the number of fiduciaries \(2\), found 3/);
  expect(refusal('backup: { fiduciaries: [f1, f2, f3], threshold: 1, every: 1h }\n')).toMatch(/backup\.threshold: expected at least 2 with several fiduciaries/);
  expect(refusal('backup: { fiduciaries: [f1, f1], threshold: 2, every: 1h }\n')).toMatch(/backup\.fiduciaries: a fiduciary is listed twice/);
  expect(refusal('backup: { fiduciaries: [f1, f2], threshold: 2, confirmations: 3, every: 1h }\n')).toMatch(/backup\.confirmations: expected at most/);
  expect(refusal('backup: { fiduciaries: [f1], threshold: 1, every: often }\n')).toMatch(/backup\.every: expected a duration like '30s', '15m', '24h' or '7d'/);
  expect(refusal('backup: { fiduciaries: [f1], threshold: 1, every: 0 }\n')).toMatch(/backup\.every: expected a duration/);
  expect(refusal('backup: { fiduciaries: [f1], threshold: 1 }\n')).toMatch(/backup\.every/);
  expect(refusal('backup: { fiduciaries: [f1], threshold: 1, every: 1h, colour: blue }\n')).toMatch(/backup: .*colour/);
  expect(refusal('backupFiduciary: { releaseLimit: { releases: 0 } }\n')).toMatch(/backupFiduciary\.releaseLimit\.releases/);
  expect(refusal('backup: { fiduciaries: [f1], threshold: 1, every: 1h, keep: 0 }\n')).toMatch(/backup\.keep: expected at least 1: the newest backup is never retired/);
  expect(refusal('backup: { fiduciaries: [f1], threshold: 1, every: 1h, keep: 2.5 }\n')).toMatch(/backup\.keep: expected a whole number of backups to keep/);
  expect(refusal('backup: { fiduciaries: [f1], threshold: 1, every: 1h, keep: all }\n')).toMatch(/backup\.keep: expected a whole number of backups to keep/);
  expect(refusal('backupFiduciary: { maxBytesPerNode: 0 }\n')).toMatch(/backupFiduciary\.maxBytesPerNode: expected at least 1 byte/);
  expect(refusal('backupFiduciary: { enabled: true }\n')).toMatch(/backupFiduciary: .*enabled/);
});

it('names what a backup of this node cannot contain: PKCS#11 keys (the HSM backs up its token) and a PostgreSQL database (pg_dump)', () => {
  expect(backupGaps(load(''))).toEqual([]);
  const hsm = backupGaps(load('keyStore: { kind: pkcs11, module: /usr/lib/softhsm/libsofthsm2.so, pin: { env: HSM_PIN } }\n'));
  expect(hsm).toEqual([expect.stringMatching(/PKCS#11 key store: its keys stay on the HSM token \(non-extractable\); back the token up with the HSM's own mechanism/)]);
  const postgres = backupGaps(load('database: { kind: postgres }\n'));
  expect(postgres).toEqual([expect.stringMatching(/PostgreSQL database: back it up with pg_dump/)]);
});
