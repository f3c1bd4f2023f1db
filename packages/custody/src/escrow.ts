/**
 * Escrow mode, for chains that need ECDSA (which FROST does not give): a vault created with
 * `mode: 'escrow'` has the same FROST key, but an approved `escrow-release` request makes t
 * operators each seal their share to the principal (an envelope signed by the operator, sealed to
 * the principal's X-Wing key); the principal combines them into the whole secret key and signs
 * itself. **The guarantee is weaker**: from the release on, the key exists in one place — the
 * principal's — and whoever holds it can spend without any operator or policy. Until a release the
 * key is as distributed as any vault's. Use it only where threshold signing is not available.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { decodeEnvelope, encodeEnvelope, openEnvelope, sealEnvelope, type EnvelopeRecipientKey, type EnvelopeSigner, type RecipientPublicKey, type SenderPublicKey } from '@milagro/envelope';
import { schnorr_FROST, secp256k1 } from '@noble/curves/secp256k1.js';
import { CustodyError } from './errors.js';
import { operatorIdentifier } from './frost-dkg.js';
import { checkMap, isBytes, isInteger } from './wire.js';

/** The envelope type of a released share. */
export const ESCROW_SHARE_TYPE = 'milagro/custody/escrow-share';

/** One operator's released share, as sealed. */
export interface EscrowShare {
  readonly vaultId: string;
  readonly requestId: string;
  /** The operator's FROST identifier index (1-based). */
  readonly operator: number;
  readonly share: Uint8Array;
}

/** Seals one operator's share to the principal. */
export async function sealEscrowShare(options: { readonly operator: EnvelopeSigner; readonly principal: RecipientPublicKey; readonly share: EscrowShare }): Promise<Uint8Array> {
  const { share } = options;
  const envelope = await sealEnvelope({
    from: options.operator,
    to: [options.principal],
    type: ESCROW_SHARE_TYPE,
    typeVersion: 1,
    body: dagCbor.encode({ vaultId: share.vaultId, requestId: share.requestId, operator: share.operator, share: share.share }),
  });
  return encodeEnvelope(envelope);
}

/**
 * The principal's side: opens t released shares (each must be signed by the operator whose index it
 * claims and answer this vault and request), combines them, and checks the result against the
 * vault's key. Returns the 32-byte secp256k1 secret key whose public key is the vault's group key
 * (`compressedKey`, i.e. the x-only output key with its parity).
 * @throws CustodyError `NOT_AUTHORISED` (an envelope not from its operator, or for another request),
 *   `INVALID_REQUEST` (too few shares, or they do not give the vault's key).
 */
export async function recoverEscrowKey(options: {
  readonly vault: { readonly vaultId: string; readonly operators: readonly string[]; readonly threshold: number; readonly outputKey: Uint8Array };
  readonly requestId: string;
  readonly shares: ReadonlyArray<{ readonly operator: number; readonly envelope: Uint8Array }>;
  readonly recipient: EnvelopeRecipientKey;
  /** The operators' composite signing keys (through the PKI). */
  readonly operatorKey: (operator: string) => Promise<Uint8Array>;
}): Promise<{ secretKey: Uint8Array; compressedKey: Uint8Array }> {
  const { vault } = options;
  const opened: Array<{ identifier: string; signingShare: Uint8Array }> = [];
  for (const { operator, envelope } of options.shares) {
    const id = vault.operators[operator - 1];
    if (id === undefined) throw new CustodyError('INVALID_REQUEST', `no operator ${operator}`);
    const sender: SenderPublicKey = { id, publicKey: await options.operatorKey(id) };
    let body: Uint8Array;
    try {
      ({ body } = await openEnvelope(decodeEnvelope(envelope), { sender, recipient: options.recipient }));
    } catch (cause) {
      throw new CustodyError('NOT_AUTHORISED', `the share of operator ${operator} does not open as its envelope to you`, { cause });
    }
    const m = checkMap(dagCbor.decode(body), ['vaultId', 'requestId', 'operator', 'share'], 'escrow share');
    if (m['vaultId'] !== vault.vaultId || m['requestId'] !== options.requestId || m['operator'] !== operator || !isInteger(m['operator'], 1, vault.operators.length) || !isBytes(m['share'], 32)) {
      throw new CustodyError('NOT_AUTHORISED', `the share of operator ${operator} answers another vault or request`);
    }
    opened.push({ identifier: operatorIdentifier(operator), signingShare: m['share'] });
  }
  if (opened.length < vault.threshold) throw new CustodyError('INVALID_REQUEST', `${opened.length} shares, the vault needs ${vault.threshold}`);
  const secretKey = schnorr_FROST.combineSecret(opened.slice(0, vault.threshold), { min: vault.threshold, max: vault.operators.length });
  const compressedKey = secp256k1.getPublicKey(secretKey, true);
  if (!compressedKey.slice(1).every((b, i) => b === vault.outputKey[i])) throw new CustodyError('INVALID_REQUEST', "the released shares do not give the vault's key");
  return { secretKey, compressedKey };
}
