import { KeyStoreError } from '../errors.js';

/** What the pool needs from a connection: its sessions and a way to tear it down. */
export interface PooledConnection<S> {
  readonly sessions: readonly S[];
  close(): void;
}

interface Waiter<S> {
  resolve(session: S): void;
  reject(err: KeyStoreError): void;
}

/**
 * A fixed set of logged-in PKCS#11 sessions shared by concurrent operations: each operation borrows
 * one session for its duration (a session runs one cryptographic operation at a time), and waits
 * when all are busy. When an operation reports the connection lost, the pool drops the connection,
 * fails every waiting operation with `TOKEN_UNAVAILABLE`, and the next operation reconnects.
 */
export class SessionPool<S> {
  readonly #connect: () => PooledConnection<S>;
  #connection: PooledConnection<S> | undefined;
  #idle: S[] = [];
  #waiters: Waiter<S>[] = [];
  #closed = false;

  constructor(connect: () => PooledConnection<S>) {
    this.#connect = connect;
  }

  /** Connects now (so open() reports a wrong PIN or a missing token immediately). */
  connect(): void {
    this.#ensureConnection();
  }

  #ensureConnection(): PooledConnection<S> {
    if (this.#closed) throw new KeyStoreError('CLOSED', 'the key store is closed');
    if (!this.#connection) {
      this.#connection = this.#connect();
      this.#idle = [...this.#connection.sessions];
    }
    return this.#connection;
  }

  async #acquire(): Promise<{ session: S; connection: PooledConnection<S> }> {
    const connection = this.#ensureConnection();
    const session = this.#idle.pop();
    if (session !== undefined) return { session, connection };
    const waited = await new Promise<S>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    return { session: waited, connection: this.#connection! };
  }

  #release(session: S, connection: PooledConnection<S>): void {
    if (connection !== this.#connection) return; // from a connection already dropped
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(session);
    else this.#idle.push(session);
  }

  /**
   * Runs `operation` with a borrowed session. If it throws an error for which `lost(err)` is true,
   * the connection is dropped so that the next call starts a fresh one.
   */
  async use<T>(operation: (session: S) => T | Promise<T>, lost: (err: unknown) => boolean): Promise<T> {
    const { session, connection } = await this.#acquire();
    try {
      return await operation(session);
    } catch (err) {
      if (lost(err)) this.#drop(connection);
      throw err;
    } finally {
      this.#release(session, connection);
    }
  }

  #drop(connection: PooledConnection<S>, code: 'TOKEN_UNAVAILABLE' | 'CLOSED' = 'TOKEN_UNAVAILABLE'): void {
    if (connection !== this.#connection) return;
    this.#connection = undefined;
    this.#idle = [];
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      waiter.reject(
        code === 'CLOSED'
          ? new KeyStoreError('CLOSED', 'the key store is closed')
          : new KeyStoreError('TOKEN_UNAVAILABLE', 'the connection to the token was lost'),
      );
    }
    try {
      connection.close();
    } catch {
      // The module may already be finalised; the handles are gone either way.
    }
  }

  /** Closes the connection; later calls reject with `CLOSED`. */
  close(): void {
    if (this.#connection) this.#drop(this.#connection, 'CLOSED');
    this.#closed = true;
  }
}
