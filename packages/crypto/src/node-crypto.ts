import type * as NodeCryptoModule from 'node:crypto';

/** The shape of Node's `node:crypto` module (types only; nothing is imported at run time). */
export type NodeCrypto = typeof NodeCryptoModule;

type ProcessWithBuiltins = { getBuiltinModule?: (id: string) => unknown };

let cached: NodeCrypto | null | undefined;

/**
 * `node:crypto` when running on Node (≥ 20.16 / 22.3), otherwise `undefined`.
 *
 * Obtained through `process.getBuiltinModule` rather than an `import`, so browser bundlers never
 * see a reference to a Node built-in and the package stays importable on platform "neutral".
 * Internal: not part of the package's public API.
 */
export function nodeCrypto(): NodeCrypto | undefined {
  if (cached === undefined) {
    const proc = (globalThis as { process?: ProcessWithBuiltins }).process;
    let mod: unknown;
    try {
      mod = proc?.getBuiltinModule?.('node:crypto');
    } catch {
      mod = undefined;
    }
    cached = (mod as NodeCrypto | undefined) ?? null;
  }
  return cached ?? undefined;
}

/** A Buffer view of `bytes` (no copy), for node:crypto calls that want one. */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Public `KeyObject`s kept per key type (most recently used last). Internal. */
const PUBLIC_KEY_CACHE_ENTRIES = 256;
const publicKeyObjects = new Map<string, NodeCryptoModule.KeyObject>();

/**
 * The `KeyObject` of a raw public key, parsed once: a verifier sees the same few keys again and
 * again (a D-TA verifies every grant against its MFA service's key), and building a `KeyObject`
 * from DER costs as much as an Ed25519 verification. Keyed by the key's exact bytes (and type),
 * so a cached object is only ever used for the same key; bounded, least recently used evicted.
 * Internal: not part of the package's public API.
 */
export function cachedPublicKey(crypto: NodeCrypto, type: string, publicKey: Uint8Array, spkiPrefix: Uint8Array): NodeCryptoModule.KeyObject {
  const id = `${type}:${toBuffer(publicKey).toString('base64')}`;
  let key = publicKeyObjects.get(id);
  if (key === undefined) {
    const der = new Uint8Array(spkiPrefix.length + publicKey.length);
    der.set(spkiPrefix);
    der.set(publicKey, spkiPrefix.length);
    key = crypto.createPublicKey({ key: toBuffer(der), format: 'der', type: 'spki' });
  } else {
    publicKeyObjects.delete(id);
  }
  publicKeyObjects.set(id, key);
  if (publicKeyObjects.size > PUBLIC_KEY_CACHE_ENTRIES) publicKeyObjects.delete(publicKeyObjects.keys().next().value as string);
  return key;
}
