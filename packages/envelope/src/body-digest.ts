/**
 * SHA-256 of body ciphertext on the fastest implementation at hand (`createSha256` of
 * `@milagro/crypto`: `node:crypto` on Node, noble elsewhere). Inline bodies run to megabytes,
 * so this matters for sealing, verifying and addressing.
 *
 * Sealing a large inline body can also hash on a worker thread ({@link createBodyHasher}): the
 * ciphertext's SHA-256 (the signed body commitment) then runs on the other core while this thread
 * encrypts and copies, instead of after it. Same hash, same bytes; only where it runs changes.
 */
import { createSha256 } from '@milagro/crypto';

/** SHA-256 of `bytes`. */
export function digestBytes(bytes: Uint8Array): Uint8Array {
  return createSha256().update(bytes).digest();
}

/** An incremental SHA-256 that may run on a worker thread. */
export interface BodyHasher {
  /**
   * Absorbs `piece`. With `give`, the hasher may take the piece's `ArrayBuffer` (transfer it to
   * the worker, which detaches it here) instead of copying it: pass it only for bytes nobody else
   * holds. Otherwise the bytes are copied (or hashed) before `update` returns.
   */
  update(piece: Uint8Array, give?: boolean): void;
  /** The 32-byte SHA-256 of everything absorbed; rejects if the worker failed (hash here then). */
  digest(): Promise<Uint8Array>;
  /** Abandons the hash (after a failure of the caller's own work); idempotent. */
  cancel(): void;
}

/** Bodies below this size are hashed on the calling thread: a message round trip costs more. */
export const BACKGROUND_HASH_MIN_BYTES = 1024 * 1024;
/** Pieces below this size are copied into a batch rather than transferred one by one. */
const TRANSFER_MIN_BYTES = 16 * 1024;
/** Copied bytes are batched into parts of about this size. */
const BATCH_BYTES = 64 * 1024;
/**
 * Bytes per message to the worker. Each message wakes the worker, which on a busy machine can
 * preempt this thread, so pieces are sent a few megabytes at a time rather than one by one.
 */
const MESSAGE_BYTES = 2 * 1024 * 1024;

// The worker: one incremental node:crypto SHA-256 per job id; a message carries the job's next
// parts in order (transferred ArrayBuffers or copied Uint8Arrays). Runs as a CommonJS script.
const WORKER_SOURCE = `'use strict';
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.cancel) { jobs.delete(m.id); return; }
  let hash = jobs.get(m.id);
  if (hash === undefined) { hash = createHash('sha256'); jobs.set(m.id, hash); }
  for (const part of m.parts) hash.update(part instanceof ArrayBuffer ? new Uint8Array(part) : part);
  if (m.end) {
    jobs.delete(m.id);
    const d = hash.digest();
    parentPort.postMessage({ id: m.id, digest: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) });
  }
});
`;

interface WorkerLike {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  on(event: string, listener: (value: never) => void): unknown;
  once(event: string, listener: () => void): unknown;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}
type WorkerThreads = { Worker: new (source: string, options: { eval: true; name?: string }) => WorkerLike };
type Settle = { resolve: (digest: Uint8Array) => void; reject: (error: Error) => void };

interface HashWorker {
  readonly worker: WorkerLike;
  online: boolean;
  /** False once the worker failed or exited: its pending and future digests reject. */
  alive: boolean;
  nextId: number;
  readonly waiting: Map<number, Settle>;
}

/** `undefined`: not started yet; `null`: unavailable here (no worker_threads, or it failed). */
let shared: HashWorker | null | undefined;

function workerThreads(): WorkerThreads | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.('node:worker_threads') as WorkerThreads | undefined;
  } catch {
    return undefined;
  }
}

function failed(state: HashWorker, error: Error): void {
  state.alive = false;
  if (shared === state) shared = null; // do not retry: hash on the calling thread from now on
  for (const settle of state.waiting.values()) settle.reject(error);
  state.waiting.clear();
  void state.worker.terminate().catch(() => undefined);
}

/**
 * The shared hash worker if it is up. The first call starts it (unreferenced, so it never keeps
 * the process alive) and returns `undefined`: that body is hashed here while the worker boots.
 */
function hashWorker(): HashWorker | undefined {
  if (shared === null) return undefined;
  if (shared === undefined) {
    const threads = workerThreads();
    if (threads === undefined) {
      shared = null;
      return undefined;
    }
    try {
      const worker = new threads.Worker(WORKER_SOURCE, { eval: true, name: 'milagro-envelope-sha256' });
      const state: HashWorker = { worker, online: false, alive: true, nextId: 1, waiting: new Map() };
      worker.unref();
      worker.once('online', () => {
        state.online = true;
      });
      worker.on('message', (m: { id: number; digest: Uint8Array }) => {
        const settle = state.waiting.get(m.id);
        if (settle === undefined) return;
        state.waiting.delete(m.id);
        if (state.waiting.size === 0) worker.unref();
        settle.resolve(m.digest);
      });
      worker.on('error', (error: Error) => failed(state, error));
      worker.on('exit', (code: number) => failed(state, new Error(`the hash worker exited (code ${code})`)));
      shared = state;
    } catch {
      shared = null;
    }
    return undefined;
  }
  return shared.online && shared.alive ? shared : undefined;
}

function localHasher(): BodyHasher {
  const hash = createSha256();
  return {
    update: (piece) => void hash.update(piece),
    digest: async () => hash.digest(),
    cancel: () => undefined,
  };
}

function workerHasher(state: HashWorker): BodyHasher {
  const id = state.nextId++;
  const batch = new Uint8Array(BATCH_BYTES);
  let batched = 0;
  /** Parts not sent yet, in order, their bytes, and the buffers among them to transfer. */
  let parts: (Uint8Array | ArrayBuffer)[] = [];
  let partBytes = 0;
  let transfer: ArrayBuffer[] = [];
  let done = false;
  /** Moves the batched copies into `parts`, in an array of their own (`batch` is reused). */
  const closeBatch = (): void => {
    if (batched === 0) return;
    parts.push(batch.slice(0, batched));
    partBytes += batched;
    batched = 0;
  };
  const send = (end: boolean): void => {
    closeBatch();
    const message = { id, parts, end };
    const buffers = transfer;
    parts = [];
    partBytes = 0;
    transfer = [];
    try {
      state.worker.postMessage(message, buffers);
    } catch {
      state.worker.postMessage(message); // a buffer was not transferable (e.g. pooled memory): cloned instead
    }
  };
  return {
    update(piece, give = false) {
      if (done) throw new Error('body hasher: update after digest or cancel');
      const buffer = piece.buffer;
      if (give && piece.byteLength >= TRANSFER_MIN_BYTES && buffer instanceof ArrayBuffer && piece.byteOffset === 0 && piece.byteLength === buffer.byteLength) {
        closeBatch();
        parts.push(buffer);
        transfer.push(buffer);
        partBytes += piece.byteLength;
      } else if (piece.byteLength >= BATCH_BYTES) {
        closeBatch();
        parts.push(piece.slice()); // copied now: the caller keeps its bytes
        partBytes += piece.byteLength;
      } else {
        if (batched + piece.byteLength > BATCH_BYTES) closeBatch();
        batch.set(piece, batched);
        batched += piece.byteLength;
      }
      if (partBytes + batched >= MESSAGE_BYTES) send(false);
    },
    digest() {
      if (done) return Promise.reject(new Error('body hasher: digest after digest or cancel'));
      done = true;
      if (!state.alive) return Promise.reject(new Error('the hash worker is gone'));
      return new Promise<Uint8Array>((resolve, reject) => {
        state.waiting.set(id, { resolve, reject });
        state.worker.ref(); // a pending digest keeps the process alive
        try {
          send(true);
        } catch (error) {
          state.waiting.delete(id);
          reject(error as Error);
        }
      });
    },
    cancel() {
      if (done) return;
      done = true;
      parts = [];
      transfer = [];
      try {
        state.worker.postMessage({ id, cancel: true });
      } catch {
        // the worker is gone: nothing to drop
      }
    },
  };
}

/**
 * A SHA-256 for a body of about `expectedBytes`: on the shared worker thread when the body is
 * large and the worker is up (Node), else on the calling thread. Both give the same digest.
 */
export function createBodyHasher(expectedBytes: number): BodyHasher {
  const state = expectedBytes >= BACKGROUND_HASH_MIN_BYTES ? hashWorker() : undefined;
  return state === undefined ? localHasher() : workerHasher(state);
}

/** For tests: waits until the hash worker is up; `false` if it cannot run here. */
export async function bodyHashWorkerReady(timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  hashWorker();
  while (shared !== null && shared !== undefined && !shared.online && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return shared !== null && shared !== undefined && shared.online;
}
