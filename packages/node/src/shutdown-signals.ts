/**
 * Runs `shutdown` on the first SIGTERM or SIGINT, then exits with 0 (1 if it failed). Later
 * signals during the shutdown are ignored once; a further one gets Node's default (immediate exit).
 * Returns a function that runs the same shutdown for a reason of the process's own and exits with 1.
 */
export function onShutdownSignals(shutdown: (signal: string) => Promise<void>): (reason: string) => void {
  let started = false;
  const run = (cause: string, exitCode: number): void => {
    if (started) return;
    started = true;
    shutdown(cause).then(
      () => process.exit(exitCode),
      (error: unknown) => {
        console.error(`shutdown after ${cause} failed:`, error);
        process.exit(1);
      },
    );
  };
  const handle = (signal: string): void => run(signal, 0);
  process.once('SIGTERM', handle);
  process.once('SIGINT', handle);
  // The process's own reason to stop (e.g. a role can no longer run safely): the same shutdown, exit code 1.
  return (reason) => run(reason, 1);
}
