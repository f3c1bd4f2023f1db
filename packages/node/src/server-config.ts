/**
 * What every server's configuration shares beyond {@link nodeConfigShape}: the optional backup
 * sections (`backup`: scheduled backups of this node; `backupFiduciary`: serve as a fiduciary for
 * other nodes) and the roles they turn on. A single-role server is its role's section plus these:
 *
 * ```ts
 * const Schema = z.object({ ...nodeConfigShape, dta: dtaSectionSchema.prefault({}), ...backupSectionsShape }).strict();
 * const roles = { curveBackend: config.curveBackend, dta: config.dta, ...backupRolesOf(config, { configFile }) };
 * ```
 */
import { backupFiduciarySectionSchema, type BackupFiduciarySection } from './backup-fiduciary-role.js';
import { backupSectionSchema, type BackupScheduleConfig, type BackupSection } from './backup-schedule.js';
import type { NodeConfig } from './config.js';
import type { RolesConfig } from './start-roles.js';

/** The two optional backup sections, to spread into a server's config schema. */
export const backupSectionsShape = {
  backup: backupSectionSchema.optional(),
  backupFiduciary: backupFiduciarySectionSchema.optional(),
};

/** A parsed config that may carry the backup sections. */
export interface BackupSections {
  readonly backup?: BackupSection | undefined;
  readonly backupFiduciary?: BackupFiduciarySection | undefined;
}

/**
 * The backup roles `config` turns on, absent when their sections are: `configFile` is archived in
 * each backup, and `exclude` leaves data-dir paths out of it (e.g. a live process's run file).
 */
export function backupRolesOf(
  config: NodeConfig & BackupSections,
  options: Pick<BackupScheduleConfig, 'configFile' | 'exclude'> = {},
): Pick<RolesConfig, 'backup' | 'backupFiduciary'> {
  const { configFile, exclude } = options;
  return {
    ...(config.backupFiduciary === undefined ? {} : { backupFiduciary: config.backupFiduciary }),
    ...(config.backup === undefined
      ? {}
      : { backup: { section: config.backup, node: config, ...(configFile === undefined ? {} : { configFile }), ...(exclude === undefined ? {} : { exclude }) } }),
  };
}
