/**
 * The principal's and approvers' side: sign a vault definition, build and sign a spend request,
 * approve one, sign a refresh. No I/O; pass a signing capability (`identitySigner` of
 * `@milagro/pki`, or `compositeSigner` of `@milagro/envelope` over an in-memory key).
 */
import { bytesToHex, randomBytes, utf8ToBytes } from '@milagro/crypto';
import { refreshMessage, reshareMessage } from './custody-service.js';
import { encodeSpendRequest, encodeVaultDefinition, REQUEST_ID_LENGTH, SIGNATURE_CONTEXTS, type Approval, type SignedSpendRequest, type SpendPayload, type VaultDefinition, type VaultRequest } from './vault.js';

/** A composite signing capability (the shape of `@milagro/envelope`'s `EnvelopeSigner`). */
export interface CustodySigner {
  readonly id: string;
  sign(message: Uint8Array, context: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

/** The principal signs the definition of a vault it creates. */
export async function signVaultDefinition(principal: CustodySigner, definition: VaultDefinition): Promise<VaultRequest> {
  return { definition, signature: await principal.sign(encodeVaultDefinition(definition), utf8ToBytes(SIGNATURE_CONTEXTS.vault)) };
}

/** A new spend request (fresh random id) signed by the principal; add approvals with {@link approveSpend}. */
export async function createSpendRequest(principal: CustodySigner, vaultId: string, payload: SpendPayload, options: { requestId?: string; now?: number } = {}): Promise<SignedSpendRequest> {
  const request = encodeSpendRequest({ vaultId, requestId: options.requestId ?? bytesToHex(randomBytes(REQUEST_ID_LENGTH)), payload, created: options.now ?? Date.now() });
  return { request, signature: await principal.sign(request, utf8ToBytes(SIGNATURE_CONTEXTS.spend)), approvals: [] };
}

/** One approver's approval of an encoded spend request. */
export async function approveSpend(approver: CustodySigner, request: Uint8Array): Promise<Approval> {
  return { approver: approver.id, signature: await approver.sign(request, utf8ToBytes(SIGNATURE_CONTEXTS.approval)) };
}

/** The principal's signature asking the operators to refresh the vault's shares at its current `epoch`. */
export async function signRefresh(principal: CustodySigner, vaultId: string, epoch: number): Promise<Uint8Array> {
  return principal.sign(refreshMessage(vaultId, epoch), utf8ToBytes(SIGNATURE_CONTEXTS.refresh));
}

/** The principal's signature moving the vault to the operators and threshold of `definition` (same vault id and principal), at its current `epoch`. */
export async function signReshare(principal: CustodySigner, definition: VaultDefinition, epoch: number): Promise<Uint8Array> {
  return principal.sign(reshareMessage(definition, epoch), utf8ToBytes(SIGNATURE_CONTEXTS.reshare));
}
