/** Entry bundled for the headless-browser test: exposes resolve and chain building on `globalThis.pkiTest`. */
import { bytesToHex, hexToBytes } from '@milagro/crypto';
import { documentCid, IdentityResolver, isPkiError } from '../src/index.js';
import { chain } from './support/document-builder.js';
import { MemoryDocumentStore } from './support/memory-document-store.js';

(globalThis as unknown as { pkiTest: unknown }).pkiTest = {
  /** Proves the page, not Node, did the work (no `process`, so no node:crypto). */
  runtime(): { userAgent: string; hasProcess: boolean } {
    return { userAgent: navigator.userAgent, hasProcess: typeof (globalThis as { process?: unknown }).process !== 'undefined' };
  },
  /** Resolves `identity` over a store holding `blocks`; the newest seq and KEM key, or the error code. */
  async resolve(identity: string, blocks: string[], heads: string[]): Promise<{ seq: number; kem: string } | string> {
    const store = new MemoryDocumentStore();
    for (const hex of blocks) {
      const bytes = hexToBytes(hex);
      store.blocks.set((await documentCid(bytes)).toString(), bytes);
    }
    try {
      const resolved = await new IdentityResolver({ store }).resolve(identity, { heads });
      return { seq: resolved.seq, kem: bytesToHex(resolved.keys.kem) };
    } catch (error) {
      return isPkiError(error) ? `PkiError:${error.code}` : `other:${String(error)}`;
    }
  },
  /** Signs a chain of `rotations` rotations in the page; returns its identity, head and blocks. */
  async makeChain(name: string, rotations: number): Promise<{ identity: string; head: string; blocks: string[] }> {
    const blocks = new Map<string, Uint8Array>();
    const made = await chain(blocks, name, rotations);
    return { identity: made.id.toString(), head: made.cids[rotations]!.toString(), blocks: [...blocks.values()].map(bytesToHex) };
  },
};
