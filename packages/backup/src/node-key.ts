/**
 * The node key a backup is checked under: the signing key of the identity document the manifest
 * links (the one current when the backup was made), after the PKI has verified that document is part
 * of the node's chain. So a backup stays restorable after the node rotated its keys.
 */
import { decodeIdentityDocument } from '@milagro/pki';
import type { KeyResolver } from './backup-messenger.js';
import type { BackupStore } from './backup-store.js';
import { BackupError } from './errors.js';
import type { SignedManifest } from './manifest.js';

/**
 * The node's composite signing key at the time of `manifest`.
 * @throws BackupError `NOT_FOUND` (the node or its document does not resolve), `MALFORMED` (the linked document is not one of the node's, or carries no keys)
 */
export async function nodeKeyAtBackup(resolver: KeyResolver, store: Pick<BackupStore, 'get'>, manifest: SignedManifest, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
  let resolved: Awaited<ReturnType<KeyResolver['resolve']>>;
  try {
    // Naming the manifest's document as a head makes the resolver verify it belongs to the node's chain.
    resolved = await resolver.resolve(manifest.node, { heads: [manifest.identity], ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }) });
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'BROKEN_CHAIN' || code === 'FORKED') throw new BackupError('MALFORMED', `the manifest links a document that is not in ${manifest.node}'s chain`, { cause });
    throw new BackupError('NOT_FOUND', `the node ${manifest.node} does not resolve`, { cause });
  }
  // (Compared as strings: `CID.equals` is a type guard and would narrow the manifest's link to `never` below.)
  if (resolved.head === undefined || resolved.head.toString() === manifest.identity.toString()) return resolved.keys.sign;
  let document: ReturnType<typeof decodeIdentityDocument>;
  try {
    document = decodeIdentityDocument(await store.get(manifest.identity, options));
  } catch (cause) {
    throw new BackupError('NOT_FOUND', `the node's document ${manifest.identity.toString()} could not be read`, { cause });
  }
  if (!('keys' in document)) throw new BackupError('MALFORMED', 'the manifest links a revocation, not a key document');
  return document.keys.sign;
}
