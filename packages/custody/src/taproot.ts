/**
 * A vault's Bitcoin face: its Taproot output key (the FROST group key, already tweaked by BIP-341
 * with an empty script tree, so key-path spends are the only spends) and its P2TR addresses
 * (bech32m) on each network.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as btc from '@scure/btc-signer';
import { CustodyError } from './errors.js';

export type BitcoinNetwork = 'mainnet' | 'testnet' | 'regtest';
export const BITCOIN_NETWORKS: readonly BitcoinNetwork[] = ['mainnet', 'testnet', 'regtest'];

/** btc-signer's network parameters (regtest: `bcrt` addresses). */
export const NETWORK_PARAMS: Readonly<Record<BitcoinNetwork, typeof btc.NETWORK>> = {
  mainnet: btc.NETWORK,
  testnet: btc.TEST_NETWORK,
  regtest: { ...btc.TEST_NETWORK, bech32: 'bcrt' },
};

/** The 32-byte x-only key of a compressed point. */
export function xOnly(point: Uint8Array): Uint8Array {
  if (point.length !== 33) throw new CustodyError('INVALID_REQUEST', 'expected a 33-byte compressed point');
  return point.slice(1);
}

/** The P2TR output script of an x-only output key: `OP_1 <32 bytes>`. */
export function taprootScript(outputKey: Uint8Array): Uint8Array {
  return btc.OutScript.encode({ type: 'tr', pubkey: outputKey });
}

/** The vault's address on `network` (bech32m of the x-only output key). */
export function taprootAddress(outputKey: Uint8Array, network: BitcoinNetwork): string {
  return btc.Address(NETWORK_PARAMS[network]).encode({ type: 'tr', pubkey: outputKey });
}

/** Addresses on every network. */
export function taprootAddresses(outputKey: Uint8Array): Record<BitcoinNetwork, string> {
  return { mainnet: taprootAddress(outputKey, 'mainnet'), testnet: taprootAddress(outputKey, 'testnet'), regtest: taprootAddress(outputKey, 'regtest') };
}

/** The output script of an address of any network, or undefined when it is not one. */
export function addressScript(address: string): Uint8Array | undefined {
  for (const network of BITCOIN_NETWORKS) {
    try {
      return btc.OutScript.encode(btc.Address(NETWORK_PARAMS[network]).decode(address));
    } catch {
      // try the next network
    }
  }
  return undefined;
}

/** The sum of compressed points (the untweaked FROST group key: the Taproot internal key is its x). */
export function sumPoints(points: readonly Uint8Array[]): Uint8Array {
  let sum = secp256k1.Point.ZERO;
  for (const point of points) sum = sum.add(secp256k1.Point.fromBytes(point));
  return sum.toBytes(true);
}
