/**
 * SHA-256 of bytes in memory on the fastest implementation at hand (`createSha256` of
 * `@milagro/crypto`: `node:crypto` on Node, noble elsewhere). Inline bodies run to megabytes,
 * so this matters for sealing, verifying and addressing.
 */
import { createSha256 } from '@milagro/crypto';

/** SHA-256 of `bytes`. */
export function digestBytes(bytes: Uint8Array): Uint8Array {
  return createSha256().update(bytes).digest();
}
