/**
 * Each operator's audit chain per vault: every request, approval, protocol round and result is an
 * envelope (composite-signed by the operator, sealed to the operator and the vault's principal)
 * whose `prev` is the previous entry, stored in IPFS; the repository keeps the head. Rewriting
 * an entry changes its CID and breaks every later `prev`, so the chain is tamper-evident. Entries
 * hold public facts only (ids, hashes, indices, reasons), never key shares or nonces.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { decodeEnvelope, encodeEnvelope, envelopeCid, openEnvelope, sealEnvelope, type EnvelopeRecipientKey, type EnvelopeSigner, type RecipientPublicKey, type SenderPublicKey } from '@milagro/envelope';

/** The envelope type of audit entries. */
export const AUDIT_ENTRY_TYPE = 'milagro/custody/audit';

/** One audit fact: `kind` plus public fields. */
export interface AuditEntry {
  readonly kind:
    | 'vault-proposed'
    | 'dkg-round'
    | 'vault-active'
    | 'vault-failed'
    | 'spend-request'
    | 'spend-refused'
    | 'sign-round'
    | 'spend-signed'
    | 'spend-signed-against-policy'
    | 'spend-failed'
    | 'refresh-proposed'
    | 'refresh-done'
    | 'refresh-failed'
    | 'reshare-proposed'
    | 'reshare-done'
    | 'reshare-retired'
    | 'reshare-failed'
    | 'escrow-released';
  readonly vaultId: string;
  readonly [field: string]: unknown;
}

/** Where entries go: a content store's `put` (IPFS). */
export interface AuditStore {
  putDag(value: unknown, options?: { pin?: boolean; recursive?: boolean }): Promise<unknown>;
}

export interface AuditChainOptions {
  readonly signer: EnvelopeSigner;
  /** The operator's own X-Wing key (it can always read its chain). */
  readonly self: RecipientPublicKey;
  readonly store: AuditStore;
  /** The principal's X-Wing key, if it can be resolved (it can then read the chain too). */
  readonly principalKey?: (principal: string) => Promise<RecipientPublicKey | undefined>;
  /** Clock (ms). */
  readonly now?: () => number;
}

export class AuditChain {
  readonly #options: AuditChainOptions;

  constructor(options: AuditChainOptions) {
    this.#options = options;
  }

  /** Seals `entry` after `prev`, stores and pins it, and returns its CID string (the new head). */
  async append(entry: AuditEntry, prev: string | undefined, principal: string): Promise<string> {
    const recipients: RecipientPublicKey[] = [this.#options.self];
    const principalKey = await this.#options.principalKey?.(principal).catch(() => undefined);
    if (principalKey !== undefined && principalKey.id !== this.#options.self.id) recipients.push(principalKey);
    const envelope = await sealEnvelope({
      from: this.#options.signer,
      to: recipients,
      type: AUDIT_ENTRY_TYPE,
      typeVersion: 1,
      ...(prev === undefined ? {} : { prev }),
      body: dagCbor.encode({ ...entry, at: (this.#options.now ?? Date.now)() }),
    });
    const bytes = encodeEnvelope(envelope);
    // Stored as the DAG-CBOR block it is, so its address is the envelope's CID.
    await this.#options.store.putDag(dagCbor.decode(bytes), { pin: true, recursive: false });
    return envelopeCid(bytes).toString();
  }
}

/** One opened audit entry. */
export interface OpenedAuditEntry {
  readonly cid: string;
  readonly prev?: string;
  readonly entry: AuditEntry & { readonly at: number };
}

/**
 * Reads a chain back from `head`, newest first, verifying each envelope's signature by the
 * operator and following `prev` (at most `limit` entries). For operators and principals alike.
 */
export async function readAuditChain(options: {
  readonly get: (cid: string) => Promise<Uint8Array>;
  readonly head: string;
  readonly operator: SenderPublicKey;
  readonly recipient: EnvelopeRecipientKey;
  readonly limit?: number;
}): Promise<OpenedAuditEntry[]> {
  const out: OpenedAuditEntry[] = [];
  let cid: string | undefined = options.head;
  while (cid !== undefined && out.length < (options.limit ?? 10_000)) {
    const bytes = await options.get(cid);
    if (envelopeCid(bytes).toString() !== cid) throw new Error('an audit entry does not match its CID');
    const envelope = decodeEnvelope(bytes);
    if (envelope.header.type !== AUDIT_ENTRY_TYPE) throw new Error('not an audit entry');
    const { body } = await openEnvelope(envelope, { sender: options.operator, recipient: options.recipient });
    const prev = envelope.header.prev?.toString();
    out.push({ cid, ...(prev === undefined ? {} : { prev }), entry: dagCbor.decode(body) as AuditEntry & { at: number } });
    cid = prev;
  }
  return out;
}
