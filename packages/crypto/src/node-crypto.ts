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
