/**
 * Micro-batched verification of pass-2 proofs. The proofs that reach verification within one turn
 * of the event loop are checked together with `verifyLoginBatch` of `@milagro/mpin` (one pairing
 * product for the batch, about a third of the single cost per login at 32); when a batch fails,
 * its bisection finds the wrong proofs, so a wrong PIN never fails another login and every verdict
 * equals what `verifyLogin` would say. Why a batch is cheaper, and what its timing reveals:
 * docs/adr/0011-batched-login-verification.md, docs/specs/mfa-threat-model.md (T10).
 */
import { verifyLogin, verifyLoginBatch, type LoginProof, type LoginVerdict, type ServerKey } from '@milagro/mpin';
import { Histogram, type Registry } from 'prom-client';

/** Most proofs one pairing product checks; more wait for the next turn (bounds latency and the cost of a failing batch). */
export const DEFAULT_MAX_VERIFICATION_BATCH = 32;

export interface LoginVerificationOptions {
  /** Largest batch; 1 verifies every proof alone. */
  readonly maxBatch: number;
  /** Called after each batch with its size, its wall time, and whether every proof held. */
  readonly onBatch?: (batch: { size: number; seconds: number; held: boolean }) => void;
}

interface Pending {
  readonly proof: LoginProof;
  readonly resolve: (verdict: LoginVerdict) => void;
  readonly reject: (error: unknown) => void;
}

export class LoginVerification {
  readonly #key: ServerKey;
  readonly #options: LoginVerificationOptions;
  #pending: Pending[] = [];
  #scheduled = false;

  constructor(key: ServerKey, options: LoginVerificationOptions) {
    if (!Number.isSafeInteger(options.maxBatch) || options.maxBatch < 1) throw new RangeError('maxBatch must be a positive integer');
    this.#key = key;
    this.#options = options;
  }

  /** The verdict of `proof`, checked with the others that arrive in this turn of the event loop. */
  verify(proof: LoginProof): Promise<LoginVerdict> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ proof, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * The batch runs in a `setImmediate` callback, after the poll phase: each request arrives in its
   * own I/O callback and reaches {@link verify} in that callback's microtasks (node:sqlite answers
   * synchronously), so every pass 2 read in one poll phase joins the batch. While a batch runs, the
   * loop is blocked and new requests queue up for the next one: batches grow with the load.
   */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#run());
  }

  #run(): void {
    const batch = this.#pending.splice(0, this.#options.maxBatch);
    this.#scheduled = false;
    if (this.#pending.length > 0) this.#schedule();
    const started = process.hrtime.bigint();
    let verdicts: LoginVerdict[];
    try {
      verdicts = batch.length === 1 ? [verifyLogin(this.#key, (batch[0] as Pending).proof)] : verifyLoginBatch(this.#key, batch.map((p) => p.proof));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    this.#options.onBatch?.({ size: batch.length, seconds: Number(process.hrtime.bigint() - started) / 1e9, held: verdicts.every((v) => v.ok) });
    batch.forEach((pending, i) => pending.resolve(verdicts[i] as LoginVerdict));
  }
}

/**
 * `mfa_login_verification_batch_size{outcome="held"|"failed"}`: proofs per batch (count = batches,
 * sum = proofs). A `failed` batch paid for bisection; many of them mean many wrong proofs (a flood).
 */
export function verificationBatchMetric(registry: Registry | undefined, maxBatch: number): (batch: { size: number; held: boolean }) => void {
  if (registry === undefined) return () => undefined;
  const buckets = [1, 2, 4, 8, 16, 32, 64, 128].filter((b) => b < maxBatch).concat(maxBatch);
  const histogram = new Histogram({
    name: 'mfa_login_verification_batch_size',
    help: 'Pass-2 proofs verified together (one pairing product when all hold; a failed batch is bisected)',
    labelNames: ['outcome'] as const,
    buckets,
    registers: [registry],
  });
  return ({ size, held }) => histogram.observe({ outcome: held ? 'held' : 'failed' }, size);
}
