import { bytesToHex } from '@noble/hashes/utils.js';
import type { Bls12381Backend } from '../src/bls12-381/backend.js';
import { createMclBackend } from '../src/bls12-381/mcl.js';
import { nobleBackend } from '../src/bls12-381/noble.js';
import vectors from './vectors/rfc9380-hash-to-curve-bls12381.json';

/**
 * RFC 9380 Appendix J.9.1 and J.10.1: hash_to_curve for BLS12381G1_XMD:SHA-256_SSWU_RO_ and
 * BLS12381G2_XMD:SHA-256_SSWU_RO_, checked on both backends. Points are compared in the ZCash
 * uncompressed encoding (x ‖ y; an Fp2 element as imaginary ‖ real).
 */
type AnyBackend = Bls12381Backend<unknown, unknown, unknown>;
const backends: Array<[string, () => Promise<AnyBackend>]> = [
  ['noble', async () => nobleBackend as AnyBackend],
  ['mcl', async () => (await createMclBackend()) as AnyBackend],
];
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const g1Suite = vectors['BLS12381G1_XMD:SHA-256_SSWU_RO_'];
const g2Suite = vectors['BLS12381G2_XMD:SHA-256_SSWU_RO_'];

describe.each(backends)('RFC 9380 hash_to_curve on %s', (_name, load) => {
  let backend: AnyBackend;
  beforeAll(async () => {
    backend = await load();
  });

  test.each(g1Suite.vectors.map((v) => [v.msg.slice(0, 12), v] as const))(
    'BLS12381G1_XMD:SHA-256_SSWU_RO_ msg=%j',
    (_label, v) => {
      const point = backend.g1.hash(utf8(v.msg), g1Suite.dst);
      expect(bytesToHex(backend.g1.encode(point, { compressed: false }))).toBe(v.P.x + v.P.y);
    },
  );

  test.each(g2Suite.vectors.map((v) => [v.msg.slice(0, 12), v] as const))(
    'BLS12381G2_XMD:SHA-256_SSWU_RO_ msg=%j',
    (_label, v) => {
      const point = backend.g2.hash(utf8(v.msg), g2Suite.dst);
      expect(bytesToHex(backend.g2.encode(point, { compressed: false }))).toBe(v.P.x1 + v.P.x0 + v.P.y1 + v.P.y0);
    },
  );
});
