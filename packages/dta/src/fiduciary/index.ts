/**
 * Fiduciary orders: the public surface (re-exported by the package index).
 *
 * Fiduciary side: {@link FiduciaryService} (`fulfilOrder`, `redeemOrder`) with the plugins enabled
 * by config ({@link fiduciaryPlugins}). Principal side: {@link createOrder}, {@link openFulfilment},
 * {@link createRedemption}, {@link openRelease}, and each plugin's helpers.
 */
import { DtaError } from '../errors.js';
import { BITCOIN_ADDRESS, bitcoinAddressPlugin, type BitcoinNetwork } from './bitcoin-address.js';
import type { FiduciaryPlugin } from './fiduciary-plugin.js';
import { SAFEGUARD_SECRET, safeguardSecretPlugin } from './safeguard-secret.js';

export type { FiduciaryPlugin, FiduciaryValue, OrderVault, PluginFulfilment, PluginOrder, PluginRedemption } from './fiduciary-plugin.js';
export { FiduciaryService, type EnvelopeStore, type FiduciaryServiceOptions, type IdentityDirectory } from './fiduciary-service.js';
export type { ChainEnvelope } from './order-envelopes.js';
export { FULFILMENT_TYPE, ORDER_TYPE, REDEMPTION_TYPE, RELEASE_TYPE } from './order-messages.js';
export {
  createOrder,
  createRedemption,
  openFulfilment,
  openRelease,
  type CreateOrderOptions,
  type CreateRedemptionOptions,
  type Fulfilment,
  type OpenAnswerOptions,
  type Release,
} from './principal.js';
export {
  SAFEGUARD_SECRET,
  MAX_SAFEGUARDED_SECRET_BYTES,
  safeguardSecretPlugin,
  safeguardCommitment,
  checkSafeguardCommitment,
  releasedSecret,
  type SafeguardSecretParams,
} from './safeguard-secret.js';
export {
  BITCOIN_ADDRESS,
  bitcoinAddressPlugin,
  bitcoinAddressOf,
  checkBitcoinCommitment,
  combineBitcoinKeys,
  jointBitcoinAddress,
  releasedBitcoinKey,
  type BitcoinAddressCommitment,
  type BitcoinAddressParams,
  type BitcoinAddressPluginOptions,
  type BitcoinNetwork,
} from './bitcoin-address.js';

/** Which plugins a fiduciary D-TA enables (config). A plugin left out is refused in orders. */
export interface FiduciaryPluginsConfig {
  readonly 'safeguard-secret'?: boolean;
  readonly 'bitcoin-address'?: false | { readonly network: BitcoinNetwork };
}

/** The built-in plugins enabled by `config`. */
export function fiduciaryPlugins(config: FiduciaryPluginsConfig): FiduciaryPlugin[] {
  const plugins: FiduciaryPlugin[] = [];
  if (config[SAFEGUARD_SECRET] === true) plugins.push(safeguardSecretPlugin() as FiduciaryPlugin);
  const bitcoin = config[BITCOIN_ADDRESS];
  if (bitcoin !== undefined && bitcoin !== false) {
    if (typeof bitcoin !== 'object' || bitcoin === null) throw new DtaError('INVALID_REQUEST', 'bitcoin-address: config must be { network }');
    plugins.push(bitcoinAddressPlugin(bitcoin) as FiduciaryPlugin);
  }
  return plugins;
}
