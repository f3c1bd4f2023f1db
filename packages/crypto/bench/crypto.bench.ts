/**
 * Suite `crypto`: 2-pairing product check (noble and mcl-wasm, prepared G2), hash to G1, G1 and G2
 * scalar multiplication, HPKE seal per recipient, and STREAM AES-256-GCM over 64 MiB with bare
 * `node:crypto` AES-256-GCM over the same bytes as its baseline (target ratio ≥ 0.8).
 */
import { createCipheriv, createDecipheriv, randomBytes as nodeRandomBytes } from 'node:crypto';
import type { BenchSuite } from '../../../tools/bench/suite.js';
import {
  createMclBackend,
  decryptChunks,
  encryptChunks,
  hpkeSeal,
  nobleBackend,
  randomScalar,
  xwingKeyPairFromSeed,
  type Bls12381Backend,
} from '@milagro/crypto';

const MiB = 1024 * 1024;
const body = new Uint8Array(nodeRandomBytes(64 * MiB));
const key = new Uint8Array(nodeRandomBytes(32));
const iv = new Uint8Array(nodeRandomBytes(12));
let sealedBare: Uint8Array = new Uint8Array(0);
let bareTag: Uint8Array = new Uint8Array(0);
let sealedStream: Uint8Array = new Uint8Array(0);
let mcl: Bls12381Backend;
let pairingCheck: Record<string, () => boolean> = {};
const recipient = xwingKeyPairFromSeed(new Uint8Array(32).fill(7));
const contentKey = new Uint8Array(32).fill(1);
const message = new TextEncoder().encode('benchmark message');

function bareSeal(): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const out = Buffer.concat([cipher.update(body), cipher.final()]);
  bareTag = cipher.getAuthTag();
  return out;
}

function prepareCheck(backend: Bls12381Backend): () => boolean {
  // e(a·P, Q) · e(−P, a·Q) = 1, with both G2 points prepared once, as a server does.
  const a = randomScalar();
  const P = backend.g1.hash(message, 'MILAGRO-BENCH');
  const pairs = [
    [backend.g1.multiply(P, a), backend.prepareG2(backend.g2.base)],
    [backend.g1.negate(P), backend.prepareG2(backend.g2.multiply(backend.g2.base, a))],
  ] as const;
  return () => {
    if (!backend.pairingProductIsOne(pairs)) throw new Error('pairing check failed');
    return true;
  };
}

export default {
  suite: 'crypto',
  async setup() {
    mcl = (await createMclBackend()) as unknown as Bls12381Backend;
    pairingCheck = { noble: prepareCheck(nobleBackend as unknown as Bls12381Backend), mcl: prepareCheck(mcl) };
    sealedBare = bareSeal();
    sealedStream = await encryptChunks(key, body);
  },
  cases: [
    { name: 'pairing 2-product check (noble)', fn: () => pairingCheck.noble?.() },
    { name: 'pairing 2-product check (mcl-wasm)', fn: () => pairingCheck.mcl?.(), baseline: 'pairing 2-product check (noble)', iterations: 100 },
    { name: 'hash to G1 (noble)', fn: () => nobleBackend.g1.hash(message, 'MILAGRO-BENCH') },
    { name: 'hash to G1 (mcl-wasm)', fn: () => mcl.g1.hash(message, 'MILAGRO-BENCH'), baseline: 'hash to G1 (noble)', iterations: 100 },
    { name: 'G1 multiply (noble)', fn: () => nobleBackend.g1.multiply(nobleBackend.g1.base, randomScalar()) },
    { name: 'G1 multiply (mcl-wasm)', fn: () => mcl.g1.multiply(mcl.g1.base, randomScalar()), baseline: 'G1 multiply (noble)', iterations: 100 },
    { name: 'G2 multiply (noble)', fn: () => nobleBackend.g2.multiply(nobleBackend.g2.base, randomScalar()) },
    { name: 'G2 multiply (mcl-wasm)', fn: () => mcl.g2.multiply(mcl.g2.base, randomScalar()), baseline: 'G2 multiply (noble)', iterations: 100 },
    { name: 'HPKE X-Wing seal of a 32-byte key (per recipient)', fn: () => hpkeSeal(recipient.publicKey, contentKey), iterations: 100 },
    { name: 'node:crypto AES-256-GCM seal 64 MiB', fn: bareSeal, bytes: 64 * MiB, iterations: 7, time: 0 },
    { name: 'STREAM AES-256-GCM seal 64 MiB', fn: () => encryptChunks(key, body), bytes: 64 * MiB, baseline: 'node:crypto AES-256-GCM seal 64 MiB', iterations: 7, time: 0 },
    {
      name: 'node:crypto AES-256-GCM open 64 MiB',
      fn: () => {
        const d = createDecipheriv('aes-256-gcm', key, iv);
        d.setAuthTag(bareTag);
        return Buffer.concat([d.update(sealedBare), d.final()]);
      },
      bytes: 64 * MiB,
      iterations: 7,
      time: 0,
    },
    { name: 'STREAM AES-256-GCM open 64 MiB', fn: () => decryptChunks(key, sealedStream), bytes: 64 * MiB, baseline: 'node:crypto AES-256-GCM open 64 MiB', iterations: 7, time: 0 },
  ],
} satisfies BenchSuite;
