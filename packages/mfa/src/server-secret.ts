/**
 * The server secret s·Q: where it comes from (a port the app implements by fetching t
 * server-secret shares from the realm's D-TAs and combining them) and the self-check it must pass
 * before the service answers logins.
 */
import { createServerKey, type MpinSuite, type ServerKey } from '@milagro/mpin';
import { MfaError } from './errors.js';

/** What a source yields. */
export interface ServerSecretMaterial {
  /** The combined server secret s·Q in the suite's G2 encoding. */
  readonly serverSecret: Uint8Array;
  /** The realm's group public key s·G1 (48-byte compressed), from the D-TAs' realm status: enables the consistency check. */
  readonly groupPublicKey?: Uint8Array | undefined;
}

/** Yields the combined server secret; rejects while it is not available (the service retries). */
export interface ServerSecretSource {
  load(signal: AbortSignal): Promise<ServerSecretMaterial>;
}

/** A source over a secret already in hand (tests, or an app that combined the shares itself). */
export function staticServerSecret(material: ServerSecretMaterial): ServerSecretSource {
  return { load: async () => material };
}

/**
 * Decodes and validates s·Q (curve, subgroup, not infinity) and, given s·G1, checks
 * e(G1, s·Q) = e(s·G1, Q): a combination from a wrong share or wrong indices fails here instead of
 * failing every login.
 * @throws MfaError `NOT_READY` when the material is unusable.
 */
export function checkServerSecret(suite: MpinSuite, material: ServerSecretMaterial): ServerKey {
  let key: ServerKey;
  try {
    key = createServerKey(suite, material.serverSecret);
  } catch (error) {
    throw new MfaError('NOT_READY', 'the server secret is not a valid G2 point', { cause: error });
  }
  if (material.groupPublicKey !== undefined) {
    const { backend } = suite;
    let groupPublicKey: unknown;
    try {
      groupPublicKey = backend.g1.decode(material.groupPublicKey);
    } catch (error) {
      throw new MfaError('NOT_READY', 'the group public key is not a valid G1 point', { cause: error });
    }
    const consistent = backend.pairingProductIsOne([
      [backend.g1.negate(backend.g1.base), key.preparedSecret],
      [groupPublicKey, key.preparedBase],
    ]);
    if (!consistent) throw new MfaError('NOT_READY', 'the server secret does not match the realm group public key');
  }
  return key;
}
