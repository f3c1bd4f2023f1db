/**
 * Plugin `bitcoin-address`: a 2-party additive secp256k1 key. The principal keeps k_p and sends
 * P_p = k_p·G; the fiduciary generates k_f and keeps it; the address is P2WPKH of P_p + P_f. Neither
 * party alone can spend. Redemption releases k_f to the beneficiary (or the principal), who adds
 * k_p to get the address's private key: k = k_p + k_f mod n.
 *
 * k_f is kept as a key-store `secret` (sealed at rest; under a PKCS#11 store, wrapped by the HSM's
 * key-encryption key), not as a `secp256k1` key, because HSM-resident keys cannot be exported and
 * releasing k_f is the point of the order.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { NETWORK, p2wpkh, TEST_NETWORK } from '@scure/btc-signer';
import { DtaError } from '../errors.js';
import type { FiduciaryPlugin, FiduciaryValue } from './fiduciary-plugin.js';

export const BITCOIN_ADDRESS = 'bitcoin-address';

/** Bitcoin networks, named as in config. */
export type BitcoinNetwork = 'mainnet' | 'testnet' | 'regtest';

const NETWORKS = {
  mainnet: NETWORK,
  testnet: TEST_NETWORK,
  regtest: { ...TEST_NETWORK, bech32: 'bcrt' },
} as const;

const Point = secp256k1.Point;
type SecpPoint = InstanceType<typeof Point>;

/** Params of a `bitcoin-address` order: the principal's compressed public key P_p (33 bytes). */
export interface BitcoinAddressParams {
  readonly publicKey: Uint8Array;
}

/** The public commitment: the fiduciary's half P_f and the joint address. */
export interface BitcoinAddressCommitment {
  readonly publicKey: Uint8Array;
  readonly address: string;
}

function invalid(message: string): never {
  throw new DtaError('INVALID_REQUEST', `bitcoin-address: ${message}`);
}

function networkOf(network: BitcoinNetwork): (typeof NETWORKS)[BitcoinNetwork] {
  if (!Object.hasOwn(NETWORKS, network)) invalid('network must be mainnet, testnet or regtest');
  return NETWORKS[network];
}

/** Decodes a compressed SEC1 point; refuses anything off the curve (and the point at infinity). */
function decodePoint(bytes: unknown, what: string): SecpPoint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 33) invalid(`${what} must be a 33-byte compressed secp256k1 point`);
  try {
    const point = Point.fromBytes(bytes);
    point.assertValidity();
    return point;
  } catch {
    invalid(`${what} is not a point on secp256k1`);
  }
}

function decodeSecretKey(bytes: Uint8Array, what: string): bigint {
  if (!secp256k1.utils.isValidSecretKey(bytes)) invalid(`${what} must be a 32-byte scalar in [1, n-1]`);
  return Point.Fn.fromBytes(bytes);
}

function addressOfPoint(point: SecpPoint, network: BitcoinNetwork): string {
  if (point.is0()) invalid('the joint public key is the point at infinity');
  const address = p2wpkh(point.toBytes(true), networkOf(network)).address;
  if (address === undefined) invalid('no address for this key');
  return address;
}

/** The P2WPKH (bech32) address of the joint key P_p + P_f. */
export function jointBitcoinAddress(principalPublicKey: Uint8Array, fiduciaryPublicKey: Uint8Array, network: BitcoinNetwork): string {
  return addressOfPoint(decodePoint(principalPublicKey, 'principal public key').add(decodePoint(fiduciaryPublicKey, 'fiduciary public key')), network);
}

/** The P2WPKH (bech32) address of a private key. */
export function bitcoinAddressOf(privateKey: Uint8Array, network: BitcoinNetwork): string {
  return addressOfPoint(Point.BASE.multiply(decodeSecretKey(privateKey, 'private key')), network);
}

/**
 * The address's private key: k_p + k_f mod n (32 bytes, big-endian).
 * @throws DtaError `INVALID_REQUEST` for an invalid scalar, or a sum of zero
 */
export function combineBitcoinKeys(principalSecret: Uint8Array, fiduciarySecret: Uint8Array): Uint8Array {
  const sum = Point.Fn.add(decodeSecretKey(principalSecret, 'principal secret'), decodeSecretKey(fiduciarySecret, 'fiduciary secret'));
  if (sum === 0n) invalid('the two halves sum to zero');
  return Point.Fn.toBytes(sum);
}

/**
 * Principal side: checks a fulfilment's commitment against the principal's own public key and
 * returns it (the address is recomputed, never trusted).
 * @throws DtaError `INVALID_REQUEST` when it is malformed or the address does not match
 */
export function checkBitcoinCommitment(commitment: FiduciaryValue, principalPublicKey: Uint8Array, network: BitcoinNetwork): BitcoinAddressCommitment {
  if (typeof commitment !== 'object' || commitment === null || Array.isArray(commitment) || commitment instanceof Uint8Array) invalid('commitment must be { publicKey, address }');
  const { publicKey, address } = commitment as { readonly [key: string]: FiduciaryValue };
  if (!(publicKey instanceof Uint8Array) || typeof address !== 'string') invalid('commitment must be { publicKey, address }');
  if (jointBitcoinAddress(principalPublicKey, publicKey, network) !== address) invalid('the committed address is not the address of the joint key');
  return { publicKey, address };
}

/** Principal side: the fiduciary's half k_f from a `bitcoin-address` release. */
export function releasedBitcoinKey(secret: FiduciaryValue): Uint8Array {
  if (!(secret instanceof Uint8Array)) invalid('a release carries the 32-byte key half');
  decodeSecretKey(secret, 'released key');
  return secret;
}

/** Config of the `bitcoin-address` plugin. */
export interface BitcoinAddressPluginOptions {
  readonly network: BitcoinNetwork;
}

/** The `bitcoin-address` plugin for one network. */
export function bitcoinAddressPlugin(options: BitcoinAddressPluginOptions): FiduciaryPlugin<BitcoinAddressParams> {
  const network = options.network;
  networkOf(network);
  return {
    name: BITCOIN_ADDRESS,
    parseParams(params) {
      if (typeof params !== 'object' || params === null || Array.isArray(params) || params instanceof Uint8Array || Object.keys(params).length !== 1) {
        invalid('params must be { publicKey }');
      }
      const publicKey = (params as { readonly [key: string]: FiduciaryValue }).publicKey;
      decodePoint(publicKey, 'publicKey');
      return { publicKey: publicKey as Uint8Array };
    },
    async order({ params }, vault) {
      // The vault hands back k_f already held for this reference (a replay) instead of a new one.
      const secret = await vault.keepSecret(() => secp256k1.utils.randomSecretKey());
      const fiduciaryPoint = Point.BASE.multiply(decodeSecretKey(secret, 'stored key half'));
      secret.fill(0);
      const publicKey = fiduciaryPoint.toBytes(true);
      return { commitment: { publicKey, address: jointBitcoinAddress(params.publicKey, publicKey, network) } };
    },
    async redeem(_request, vault) {
      const secret = await vault.readSecret();
      decodeSecretKey(secret, 'stored key half');
      return secret;
    },
  };
}
