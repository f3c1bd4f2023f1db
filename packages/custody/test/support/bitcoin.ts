/**
 * Bitcoin helpers for tests: a PSBT spending one (made-up) Taproot output of a vault, and an
 * independent BIP-341 key-path signature hash (SIGHASH_DEFAULT), written out from the BIP with
 * @noble/hashes over btc-signer's raw transaction parser only, to check finalised transactions.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import * as btc from '@scure/btc-signer';

export const REGTEST = { ...btc.TEST_NETWORK, bech32: 'bcrt' };

/** A regtest P2WPKH address of a throwaway key (a destination outside the vault). */
export function someAddress(seed: number): string {
  return btc.p2wpkh(secp256k1.getPublicKey(new Uint8Array(32).fill(seed)), REGTEST).address as string;
}

/** A PSBT spending `amount` sat from the vault's output to `to` (`send` sat), change back to the vault, fee 1000 sat. */
export function spendPsbt(outputKeyHex: string, options: { amount?: bigint; send: bigint; to: string; txid?: Uint8Array }): Uint8Array {
  const outputKey = Buffer.from(outputKeyHex, 'hex');
  const script = btc.OutScript.encode({ type: 'tr', pubkey: outputKey });
  const amount = options.amount ?? 100_000n;
  const tx = new btc.Transaction();
  tx.addInput({ txid: options.txid ?? new Uint8Array(32).fill(0xab), index: 1, witnessUtxo: { script, amount } });
  tx.addOutputAddress(options.to, options.send, REGTEST);
  const change = amount - options.send - 1000n;
  if (change > 0n) tx.addOutput({ script, amount: change });
  return tx.toPSBT();
}

function taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  const t = sha256(new TextEncoder().encode(tag));
  return sha256(concat(t, t, ...parts));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const le32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};
const le64 = (n: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
};
const compact = (n: number): Uint8Array => (n < 0xfd ? Uint8Array.of(n) : concat(Uint8Array.of(0xfd), le32(n).subarray(0, 2)));

/** BIP-341 SigMsg for a key-path spend with SIGHASH_DEFAULT, hashed with the TapSighash tag. */
export function bip341Sighash(raw: Uint8Array, index: number, prevouts: ReadonlyArray<{ script: Uint8Array; amount: bigint }>): Uint8Array {
  const tx = btc.RawTx.decode(raw);
  const shaPrevouts = sha256(concat(...tx.inputs.map((i) => concat(Uint8Array.from(i.txid).reverse(), le32(i.index)))));
  const shaAmounts = sha256(concat(...prevouts.map((p) => le64(p.amount))));
  const shaScripts = sha256(concat(...prevouts.map((p) => concat(compact(p.script.length), p.script))));
  const shaSequences = sha256(concat(...tx.inputs.map((i) => le32(i.sequence))));
  const shaOutputs = sha256(concat(...tx.outputs.map((o) => concat(le64(o.amount), compact(o.script.length), o.script))));
  const msg = concat(Uint8Array.of(0x00, 0x00), le32(tx.version), le32(tx.lockTime), shaPrevouts, shaAmounts, shaScripts, shaSequences, shaOutputs, Uint8Array.of(0x00), le32(index));
  return taggedHash('TapSighash', msg);
}

/** Checks every input's key-path witness of a finalised transaction against the output key, independently. */
export function verifyKeyPathSpend(raw: Uint8Array, outputKeyHex: string, prevouts: ReadonlyArray<{ script: Uint8Array; amount: bigint }>): boolean {
  const tx = btc.RawTx.decode(raw);
  const key = Buffer.from(outputKeyHex, 'hex');
  return tx.inputs.every((_, i) => {
    const witness = tx.witnesses?.[i];
    if (witness?.length !== 1 || witness[0]!.length !== 64) return false;
    return schnorr.verify(witness[0]!, bip341Sighash(raw, i, prevouts), key);
  });
}

/** BIP-341 taproot_tweak_pubkey with an empty script tree, written out: x(lift_x(P) + int(hashTapTweak(P))·G). */
export function bip341OutputKey(internalX: Uint8Array): Uint8Array {
  const t = secp256k1.Point.Fn.fromBytes(taggedHash('TapTweak', internalX));
  const P = secp256k1.Point.fromBytes(concat(Uint8Array.of(0x02), internalX));
  return P.add(secp256k1.Point.BASE.multiply(t)).toBytes(true).slice(1);
}
