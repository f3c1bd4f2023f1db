import { randomBytes } from 'node:crypto';
import { resealEntries, SealedKeyStore, type SealedEntry, type SealedState } from './sealed-key-store.js';

/**
 * A {@link KeyStore} in process memory, for tests and ephemeral nodes. Secrets are still sealed
 * under a random per-instance KEK, so the memory and file stores share one code path; nothing
 * survives the process.
 *
 * @example
 * ```ts
 * const store = new MemoryKeyStore();
 * await store.generate('ed25519', { label: 'identity' });
 * const signature = await store.sign({ label: 'identity' }, message);
 * ```
 */
export class MemoryKeyStore extends SealedKeyStore {
  #state: SealedState = { entries: [], kek: new Uint8Array(randomBytes(32)) };

  protected async load(): Promise<SealedState> {
    return this.#state;
  }

  protected async commit(change: (state: SealedState) => SealedEntry[]): Promise<void> {
    this.#state = { entries: change(this.#state), kek: this.#state.kek };
  }

  protected async rotate(): Promise<void> {
    const kek = new Uint8Array(randomBytes(32));
    const old = this.#state;
    this.#state = { entries: resealEntries(old.entries, old.kek, kek), kek };
    old.kek.fill(0);
  }

  protected async release(): Promise<void> {
    this.#state.kek.fill(0);
    this.#state = { entries: [], kek: this.#state.kek };
  }
}
