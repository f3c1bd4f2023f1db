import type { CID } from 'multiformats/cid';

/**
 * What backups need from `@milagro/messaging`'s `Messenger` (which satisfies it, as does the
 * per-role view `NodeInbox.claim` hands out): send to an identity, read the inbox.
 */
export interface BackupMessage {
  readonly position: number;
  /** The sender's identity, verified by the messenger against the PKI. */
  readonly from: string;
  readonly type: string;
  readonly body: Uint8Array;
}

export interface BackupMessenger {
  /** This side's identity. */
  readonly id: string;
  send(to: string, message: { readonly type: string; readonly body: Uint8Array }): Promise<unknown>;
  messages(options?: { readonly signal?: AbortSignal }): AsyncIterable<BackupMessage>;
  consumed(position: number): Promise<void>;
}

/** Resolves identities to their current keys (`@milagro/pki`'s `IdentityResolver`). */
export interface KeyResolver {
  resolve(
    id: string,
    options?: { readonly heads?: readonly CID[]; readonly timeoutMs?: number },
  ): Promise<{ readonly head?: CID; readonly keys: { readonly sign: Uint8Array; readonly kem: Uint8Array } }>;
}
