/**
 * Runs `shutdown` on the first SIGTERM or SIGINT, then exits with 0 (1 if it failed). Later
 * signals during the shutdown are ignored once; a further one gets Node's default (immediate exit).
 */
export function onShutdownSignals(shutdown: (signal: string) => Promise<void>): void {
  let started = false;
  const handle = (signal: string): void => {
    if (started) return;
    started = true;
    shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`shutdown after ${signal} failed:`, error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handle);
  process.once('SIGINT', handle);
}
