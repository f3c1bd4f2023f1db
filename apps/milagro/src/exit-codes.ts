/** What the `milagro` command's exit code means. */
export const EXIT_OK = 0;
/** The command ran and failed: a node that does not start or answer, an I/O error. */
export const EXIT_FAILURE = 1;
/** The command was wrong or refused: unknown flags, a missing or invalid config, a refusal to overwrite. */
export const EXIT_USAGE = 2;

/** A refusal the user can fix by changing the command line or the config (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
