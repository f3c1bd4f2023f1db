/**
 * Vaults and what a principal signs: the vault definition (operators, threshold, spending policy)
 * and spend requests with their approvals. Pure encoding, validation and signature checks; the
 * signing keys are composite (Ed25519 + ML-DSA-65) identity keys of `@milagro/pki`.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { compositeVerify, utf8ToBytes } from '@milagro/crypto';
import { CustodyError } from './errors.js';
import { checkMap, decodeMap, invalid, isBytes, isIdentityId, isInteger, isVaultId } from './wire.js';

/** Most operators a vault may have (the DKG sends n² messages). */
export const MAX_OPERATORS = 32;
/** Most approvers a policy may list. */
export const MAX_APPROVERS = 32;
/** Most allow-listed destinations. */
export const MAX_DESTINATIONS = 64;
/** Largest PSBT accepted, in bytes. */
export const MAX_PSBT_BYTES = 256 * 1024;
/** A signing request id: 16 random bytes. */
export const REQUEST_ID_LENGTH = 16;
/** The total supply of bitcoin in satoshis: the largest amount limit. */
export const MAX_SATS = 21_000_000 * 100_000_000;

/** Signature contexts (domain separation of the principal's and approvers' composite signatures). */
export const SIGNATURE_CONTEXTS = {
  vault: 'milagro/custody/vault/v1',
  spend: 'milagro/custody/spend/v1',
  approval: 'milagro/custody/approval/v1',
  refresh: 'milagro/custody/refresh/v1',
  reshare: 'milagro/custody/reshare/v1',
} as const;

/** What every operator checks on its own before it takes part in signing. */
export interface SpendingPolicy {
  /** Identities whose approvals count. */
  readonly approvers: readonly string[];
  /** How many distinct approvers must approve each request (m of k = approvers.length; 0: none). */
  readonly approvals: number;
  /** Largest amount a PSBT may move out of the vault (outputs to other scripts plus the fee), in satoshis. */
  readonly maxAmountSats: number;
  /** Allowed destination addresses (any network's encoding of a script); empty: any destination. */
  readonly destinations: readonly string[];
  /** Whether raw 32-byte messages (non-Bitcoin use) may be signed. */
  readonly allowMessages: boolean;
}

export interface VaultDefinition {
  readonly vaultId: string;
  /** The identity that owns the vault: it signs the definition and every spend request. */
  readonly principal: string;
  /** The operators (custody servers); the FROST identifier of `operators[i]` is `i + 1`. */
  readonly operators: readonly string[];
  /** How many operators sign (t of n). */
  readonly threshold: number;
  readonly policy: SpendingPolicy;
  /**
   * `escrow` (opt-in, for ECDSA chains): besides FROST signing, an approved `escrow-release`
   * request makes t operators seal their shares to the principal, who then holds the whole key.
   * Absent: the key is never assembled.
   */
  readonly mode?: 'escrow';
}

/** A principal's signed definition: what creates a vault. */
export interface VaultRequest {
  readonly definition: VaultDefinition;
  /** Composite signature of the principal over {@link encodeVaultDefinition}, context `milagro/custody/vault/v1`. */
  readonly signature: Uint8Array;
}

/** What to sign: a PSBT spending the vault's Taproot outputs, or one 32-byte message. */
export type SpendPayload =
  | { readonly kind: 'psbt'; readonly psbt: Uint8Array }
  | { readonly kind: 'message'; readonly message: Uint8Array }
  /** Escrow vaults only: t operators seal their key shares to the principal. */
  | { readonly kind: 'escrow-release' };

export interface SpendRequest {
  readonly vaultId: string;
  /** 16 random bytes, hex: used once, at every operator. */
  readonly requestId: string;
  readonly payload: SpendPayload;
  /** When the principal made it (ms since the epoch; informative). */
  readonly created: number;
}

/** One approver's composite signature over the encoded spend request, context `milagro/custody/approval/v1`. */
export interface Approval {
  readonly approver: string;
  readonly signature: Uint8Array;
}

/** A spend request as submitted: its canonical bytes, the principal's signature and the approvals. */
export interface SignedSpendRequest {
  readonly request: Uint8Array;
  readonly signature: Uint8Array;
  readonly approvals: readonly Approval[];
}

const MAX_DEFINITION_BYTES = 64 * 1024;
const DEFINITION_FIELDS = ['vaultId', 'principal', 'operators', 'threshold', 'policy'];
const MAX_REQUEST_BYTES = MAX_PSBT_BYTES + 1024;

/**
 * Checks a vault definition and returns a frozen copy holding exactly its fields.
 * @throws CustodyError `INVALID_REQUEST` naming the first bad field.
 */
export function validateVaultDefinition(value: unknown): VaultDefinition {
  const escrow = typeof value === 'object' && value !== null && Object.hasOwn(value, 'mode');
  const v = checkMap(value, escrow ? [...DEFINITION_FIELDS, 'mode'] : DEFINITION_FIELDS, 'vault definition');
  if (escrow && v['mode'] !== 'escrow') throw invalid("mode must be 'escrow' when given");
  if (!isVaultId(v['vaultId'])) throw invalid('vaultId must be 1-63 characters of [a-z0-9-], starting with a letter or digit');
  if (!isIdentityId(v['principal'])) throw invalid('principal must be an identity CID string');
  const operators = v['operators'];
  if (!Array.isArray(operators) || operators.length < 2 || operators.length > MAX_OPERATORS) throw invalid(`operators must list 2..${MAX_OPERATORS} identities`);
  if (!operators.every(isIdentityId)) throw invalid('every operator must be an identity CID string');
  if (new Set(operators).size !== operators.length) throw invalid('operators must be distinct');
  // t = 1 would let any single operator spend: no threshold at all.
  if (!isInteger(v['threshold'], 2, operators.length)) throw invalid('threshold must be an integer in [2, operators]');
  return Object.freeze({
    vaultId: v['vaultId'],
    principal: v['principal'],
    operators: Object.freeze([...(operators as string[])]),
    threshold: v['threshold'],
    policy: validatePolicy(v['policy']),
    ...(escrow ? { mode: 'escrow' as const } : {}),
  });
}


function validatePolicy(value: unknown): SpendingPolicy {
  const p = checkMap(value, ['approvers', 'approvals', 'maxAmountSats', 'destinations', 'allowMessages'], 'policy');
  const approvers = p['approvers'];
  if (!Array.isArray(approvers) || approvers.length > MAX_APPROVERS || !approvers.every(isIdentityId)) throw invalid(`policy.approvers must list at most ${MAX_APPROVERS} identities`);
  if (new Set(approvers).size !== approvers.length) throw invalid('policy.approvers must be distinct');
  if (!isInteger(p['approvals'], 0, approvers.length)) throw invalid('policy.approvals must be an integer in [0, approvers]');
  if (!isInteger(p['maxAmountSats'], 0, MAX_SATS)) throw invalid('policy.maxAmountSats must be an integer in [0, 21e14]');
  const destinations = p['destinations'];
  if (!Array.isArray(destinations) || destinations.length > MAX_DESTINATIONS || !destinations.every((d) => typeof d === 'string' && d.length > 0 && d.length <= 100)) {
    throw invalid(`policy.destinations must list at most ${MAX_DESTINATIONS} addresses`);
  }
  if (typeof p['allowMessages'] !== 'boolean') throw invalid('policy.allowMessages must be a boolean');
  return Object.freeze({
    approvers: Object.freeze([...(approvers as string[])]),
    approvals: p['approvals'],
    maxAmountSats: p['maxAmountSats'],
    destinations: Object.freeze([...(destinations as string[])]),
    allowMessages: p['allowMessages'],
  });
}

function definitionRecord(d: VaultDefinition): Record<string, unknown> {
  return {
    vaultId: d.vaultId,
    principal: d.principal,
    operators: [...d.operators],
    threshold: d.threshold,
    policy: {
      approvers: [...d.policy.approvers],
      approvals: d.policy.approvals,
      maxAmountSats: d.policy.maxAmountSats,
      destinations: [...d.policy.destinations],
      allowMessages: d.policy.allowMessages,
    },
    ...(d.mode === 'escrow' ? { mode: 'escrow' } : {}),
  };
}

/** Deterministic DAG-CBOR of a (valid) definition: what the principal signs and operators store. */
export function encodeVaultDefinition(definition: VaultDefinition): Uint8Array {
  return dagCbor.encode(definitionRecord(validateVaultDefinition(definitionRecord(definition))));
}

/** @throws CustodyError `INVALID_REQUEST` unless `bytes` is a valid definition's canonical encoding. */
export function decodeVaultDefinition(bytes: Uint8Array): VaultDefinition {
  let map: Record<string, unknown>;
  try {
    map = decodeMap(bytes, DEFINITION_FIELDS, MAX_DEFINITION_BYTES, 'vault definition');
  } catch {
    map = decodeMap(bytes, [...DEFINITION_FIELDS, 'mode'], MAX_DEFINITION_BYTES, 'vault definition');
  }
  return validateVaultDefinition(map);
}

/** Encodes a spend request (canonical: what the principal and the approvers sign). */
export function encodeSpendRequest(request: SpendRequest): Uint8Array {
  const payload =
    request.payload.kind === 'psbt'
      ? { kind: 'psbt', bytes: request.payload.psbt }
      : request.payload.kind === 'message'
        ? { kind: 'message', bytes: request.payload.message }
        : { kind: 'escrow-release', bytes: new Uint8Array(0) };
  const bytes = dagCbor.encode({ v: 1, vaultId: request.vaultId, requestId: request.requestId, payload, created: request.created });
  decodeSpendRequest(bytes); // validates
  return bytes;
}

/** @throws CustodyError `INVALID_REQUEST`. */
export function decodeSpendRequest(bytes: Uint8Array): SpendRequest {
  const r = decodeMap(bytes, ['v', 'vaultId', 'requestId', 'payload', 'created'], MAX_REQUEST_BYTES, 'spend request');
  if (!isVaultId(r['vaultId'])) throw invalid('spend request: bad vaultId');
  const requestId = r['requestId'];
  if (typeof requestId !== 'string' || !new RegExp(`^[0-9a-f]{${2 * REQUEST_ID_LENGTH}}$`).test(requestId)) throw invalid(`spend request: requestId must be ${REQUEST_ID_LENGTH} bytes in lower-case hex`);
  if (!isInteger(r['created'], 0, Number.MAX_SAFE_INTEGER)) throw invalid('spend request: bad created time');
  const p = checkMap(r['payload'], ['kind', 'bytes'], 'spend payload');
  let payload: SpendPayload;
  if (p['kind'] === 'message') {
    if (!isBytes(p['bytes'], 32)) throw invalid('a message to sign must be 32 bytes');
    payload = { kind: 'message', message: p['bytes'] };
  } else if (p['kind'] === 'psbt') {
    if (!isBytes(p['bytes']) || p['bytes'].length === 0 || p['bytes'].length > MAX_PSBT_BYTES) throw invalid(`a PSBT must be 1..${MAX_PSBT_BYTES} bytes`);
    payload = { kind: 'psbt', psbt: p['bytes'] };
  } else if (p['kind'] === 'escrow-release') {
    if (!isBytes(p['bytes'], 0)) throw invalid('an escrow release carries no bytes');
    payload = { kind: 'escrow-release' };
  } else {
    throw invalid('spend payload kind must be psbt, message or escrow-release');
  }
  return { vaultId: r['vaultId'], requestId, payload, created: r['created'] };
}

/** Looks up an identity's current composite signing public key (through the PKI). */
export type SigningKeyLookup = (identity: string) => Promise<Uint8Array>;

const context = (name: keyof typeof SIGNATURE_CONTEXTS): Uint8Array => utf8ToBytes(SIGNATURE_CONTEXTS[name]);

/** Verifies one composite signature of `identity`; a key that cannot be looked up is `DEPENDENCY_UNAVAILABLE`. */
async function verifyBy(lookup: SigningKeyLookup, identity: string, message: Uint8Array, signature: Uint8Array, name: keyof typeof SIGNATURE_CONTEXTS): Promise<boolean> {
  let key: Uint8Array;
  try {
    key = await lookup(identity);
  } catch (cause) {
    throw new CustodyError('DEPENDENCY_UNAVAILABLE', 'an identity could not be resolved through the PKI', { cause });
  }
  try {
    return compositeVerify(key, message, signature, context(name));
  } catch {
    return false;
  }
}

/**
 * Checks the principal's signature on a vault definition.
 * @throws CustodyError `NOT_AUTHORISED` when it does not verify.
 */
export async function verifyVaultRequest(request: VaultRequest, lookup: SigningKeyLookup): Promise<VaultDefinition> {
  const definition = validateVaultDefinition(definitionRecord(request.definition));
  if (!isBytes(request.signature)) throw invalid('the vault signature must be bytes');
  if (!(await verifyBy(lookup, definition.principal, encodeVaultDefinition(definition), request.signature, 'vault'))) {
    throw new CustodyError('NOT_AUTHORISED', "the principal's signature on the vault definition does not verify");
  }
  return definition;
}

/**
 * Checks a signed spend request against its vault: it names the vault, the principal signed it,
 * and at least `policy.approvals` distinct listed approvers approved it (other approvals are
 * ignored). Amount and destination limits are checked on the payload by the caller.
 * @throws CustodyError `INVALID_REQUEST`, `NOT_AUTHORISED` (principal), `POLICY_REFUSED` (approvals).
 */
export async function verifySpendRequest(signed: SignedSpendRequest, vault: VaultDefinition, lookup: SigningKeyLookup): Promise<SpendRequest> {
  const request = decodeSpendRequest(signed.request);
  if (request.vaultId !== vault.vaultId) throw invalid('the request names another vault');
  if (!(await verifyBy(lookup, vault.principal, signed.request, signed.signature, 'spend'))) {
    throw new CustodyError('NOT_AUTHORISED', "the principal's signature on the request does not verify");
  }
  if (request.payload.kind === 'message' && !vault.policy.allowMessages) throw new CustodyError('POLICY_REFUSED', 'the policy does not allow signing raw messages');
  if (request.payload.kind === 'escrow-release' && vault.mode !== 'escrow') throw new CustodyError('POLICY_REFUSED', 'only escrow vaults release key shares');
  const approvers = new Set<string>();
  for (const approval of signed.approvals) {
    if (!vault.policy.approvers.includes(approval.approver) || approvers.has(approval.approver)) continue;
    if (await verifyBy(lookup, approval.approver, signed.request, approval.signature, 'approval')) approvers.add(approval.approver);
  }
  if (approvers.size < vault.policy.approvals) {
    throw new CustodyError('POLICY_REFUSED', `${approvers.size} valid approval(s), the policy requires ${vault.policy.approvals}`);
  }
  return request;
}

