/**
 * Fixed-window request counters in memory, per replica. They slow floods (per client address, per
 * identity); the hard bound on PIN guessing is the persistent wrong-PIN counter in the database,
 * which every replica shares.
 */

/** At most `limit` events per `windowSeconds`. */
export interface RateLimit {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** Keys tracked before expired windows are swept (bounds memory under a flood of distinct keys). */
const SWEEP_THRESHOLD = 10_000;

export class RateLimiter {
  readonly #limit: RateLimit;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(limit: RateLimit) {
    if (!Number.isSafeInteger(limit.limit) || limit.limit < 1 || !(limit.windowSeconds > 0)) {
      throw new RangeError('a rate limit needs a positive integer limit and a positive window');
    }
    this.#limit = limit;
  }

  /**
   * Counts one event for `key` at `nowMs`. Returns 0 when it is allowed, else the seconds until the
   * window ends (for `Retry-After`).
   */
  take(key: string, nowMs: number): number {
    const windowMs = this.#limit.windowSeconds * 1000;
    let window = this.#windows.get(key);
    if (window === undefined || nowMs - window.start >= windowMs) {
      if (this.#windows.size >= SWEEP_THRESHOLD) this.#sweep(nowMs, windowMs);
      window = { start: nowMs, count: 0 };
      this.#windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= this.#limit.limit) return 0;
    return Math.max(1, Math.ceil((window.start + windowMs - nowMs) / 1000));
  }

  #sweep(nowMs: number, windowMs: number): void {
    for (const [key, window] of this.#windows) if (nowMs - window.start >= windowMs) this.#windows.delete(key);
    // Still full of live windows: drop the oldest rather than grow without bound.
    while (this.#windows.size >= SWEEP_THRESHOLD) {
      const oldest = this.#windows.keys().next();
      if (oldest.done === true) break;
      this.#windows.delete(oldest.value);
    }
  }
}
