import { nodeCrypto } from './node-crypto.js';

/**
 * True when `a` and `b` hold the same bytes, in time that depends only on their length.
 *
 * Use it to compare MACs, tags, tokens and other secrets. The lengths themselves are not secret
 * (different lengths return `false` at once). On Node it uses `crypto.timingSafeEqual`; elsewhere
 * a branch-free XOR accumulation over every byte.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const node = nodeCrypto();
  if (node) return node.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
