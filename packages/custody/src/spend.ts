/**
 * What a spend request asks the operators to sign, checked against the vault's policy: for a
 * PSBT, every input must be a key-path spend of the vault's own output (SIGHASH_DEFAULT, no
 * scripts), the amount leaving the vault (outputs to other scripts plus the fee) must stay within
 * the limit and every destination on the allow-list; the BIP-341 signature hashes are what FROST
 * signs. Afterwards the signatures go into the PSBT, which is finalised.
 */
import { bytesToHex } from '@milagro/crypto';
import * as btc from '@scure/btc-signer';
import { CustodyError } from './errors.js';
import { addressScript, taprootScript } from './taproot.js';
import type { SpendPayload, SpendingPolicy } from './vault.js';
import { bytesEqual } from './wire.js';

/** What the operators sign for one request, after the policy allowed it. */
export interface SpendPlan {
  /** One 32-byte message per signature (PSBT: one BIP-341 sighash per input). */
  readonly messages: readonly Uint8Array[];
  /** PSBT only: the amount leaving the vault, in satoshis (outputs elsewhere + fee). */
  readonly amountSats?: number;
  /** PSBT only: the scripts paid outside the vault, as addresses are unknown to the policy. */
  readonly destinations?: readonly string[];
}

const refused = (message: string): CustodyError => new CustodyError('POLICY_REFUSED', message);

function parsePsbt(psbt: Uint8Array): btc.Transaction {
  try {
    return btc.Transaction.fromPSBT(psbt);
  } catch (cause) {
    throw new CustodyError('INVALID_REQUEST', 'the PSBT does not decode', { cause });
  }
}

/**
 * Checks the payload against the policy and returns what to sign.
 * @throws CustodyError `INVALID_REQUEST` (undecodable PSBT), `POLICY_REFUSED`.
 */
export function planSpend(payload: SpendPayload, policy: SpendingPolicy, outputKey: Uint8Array): SpendPlan {
  if (payload.kind === 'message') {
    if (!policy.allowMessages) throw refused('the policy does not allow signing raw messages');
    return { messages: [payload.message] };
  }
  if (payload.kind === 'escrow-release') return { messages: [] }; // nothing to sign: see escrow.ts
  try {
    return planPsbt(parsePsbt(payload.psbt), policy, outputKey);
  } catch (error) {
    if (error instanceof CustodyError) throw error;
    throw new CustodyError('INVALID_REQUEST', 'the PSBT cannot be analysed', { cause: error });
  }
}

function planPsbt(tx: btc.Transaction, policy: SpendingPolicy, outputKey: Uint8Array): SpendPlan {
  const vaultScript = taprootScript(outputKey);
  if (tx.inputsLength === 0 || tx.outputsLength === 0) throw new CustodyError('INVALID_REQUEST', 'the PSBT needs inputs and outputs');
  const scripts: Uint8Array[] = [];
  const amounts: bigint[] = [];
  for (let i = 0; i < tx.inputsLength; i++) {
    const input = tx.getInput(i);
    if (input.witnessUtxo === undefined) throw refused(`input ${i} has no witness UTXO`);
    if (!bytesEqual(input.witnessUtxo.script, vaultScript)) throw refused(`input ${i} does not spend this vault's output`);
    if (input.sighashType !== undefined && input.sighashType !== btc.SigHash.DEFAULT) throw refused(`input ${i} asks for a sighash type other than SIGHASH_DEFAULT`);
    if ((input.tapLeafScript?.length ?? 0) > 0 || input.tapMerkleRoot !== undefined) throw refused(`input ${i} is not a key-path spend`);
    scripts.push(input.witnessUtxo.script);
    amounts.push(input.witnessUtxo.amount);
  }
  const allowed = policy.destinations.map((d) => addressScript(d)).filter((s): s is Uint8Array => s !== undefined);
  let leaving = amounts.reduce((a, b) => a + b, 0n);
  const destinations: string[] = [];
  for (let i = 0; i < tx.outputsLength; i++) {
    const output = tx.getOutput(i);
    if (output.script === undefined || output.amount === undefined) throw new CustodyError('INVALID_REQUEST', `output ${i} is incomplete`);
    if (bytesEqual(output.script, vaultScript)) {
      leaving -= output.amount; // change back to the vault
      continue;
    }
    if (policy.destinations.length > 0 && !allowed.some((s) => bytesEqual(s, output.script as Uint8Array))) throw refused(`output ${i} pays a destination outside the allow-list`);
    destinations.push(bytesToHex(output.script));
  }
  if (leaving < 0n) throw new CustodyError('INVALID_REQUEST', 'the outputs exceed the inputs');
  if (leaving > BigInt(policy.maxAmountSats)) throw refused(`the request moves ${leaving} sat out of the vault, the limit is ${policy.maxAmountSats}`);
  const messages: Uint8Array[] = [];
  for (let i = 0; i < tx.inputsLength; i++) messages.push(tx.preimageWitnessV1(i, scripts, btc.SigHash.DEFAULT, amounts));
  return { messages, amountSats: Number(leaving), destinations };
}

/** Puts one BIP-340 signature per input into the PSBT and finalises it. */
export function finalisePsbt(psbt: Uint8Array, signatures: readonly Uint8Array[]): { psbt: Uint8Array; transaction: Uint8Array; txid: string } {
  const tx = parsePsbt(psbt);
  if (signatures.length !== tx.inputsLength) throw new CustodyError('INVALID_REQUEST', 'one signature per input');
  signatures.forEach((sig, i) => tx.updateInput(i, { tapKeySig: sig }));
  tx.finalize();
  return { psbt: tx.toPSBT(), transaction: tx.extract(), txid: tx.id };
}
