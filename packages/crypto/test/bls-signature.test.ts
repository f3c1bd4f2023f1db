import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import type { Bls12381Backend } from '../src/bls12-381/backend.js';
import { BLS_POP_CIPHERSUITE, BLS_SIGNATURE_CIPHERSUITE, createBlsSignatures, type BlsSignatures } from '../src/bls12-381/bls-signature.js';
import { createMclBackend } from '../src/bls12-381/mcl.js';
import { nobleBackend } from '../src/bls12-381/noble.js';
import { decodeScalar, encodeScalar } from '../src/bls12-381/scalar.js';
import { evaluatePolynomial, randomPolynomial } from '../src/sharing/polynomial.js';
import { expectCryptoError } from './expect-crypto-error.js';
import eth from './vectors/bls-signature-eth-consensus.json';
import eip2333 from './vectors/bls-keygen-eip2333.json';

/**
 * BLS signatures, draft-irtf-cfrg-bls-signature-05, minimal-pubkey-size, proof of possession.
 * Published vectors: Ethereum consensus BLS tests (ethereum/bls12-381-tests) and EIP-2333 (KeyGen).
 */
type AnyBackend = Bls12381Backend<unknown, unknown, unknown>;
const backends: Array<[string, () => Promise<AnyBackend>]> = [
  ['noble', async () => nobleBackend as AnyBackend],
  ['mcl', async () => (await createMclBackend()) as AnyBackend],
];
const h = hexToBytes;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test('ciphersuite identifiers are the draft POP suite', () => {
  expect(BLS_SIGNATURE_CIPHERSUITE).toBe('BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_');
  expect(BLS_POP_CIPHERSUITE).toBe('BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_');
});

test('KeyGen reproduces the EIP-2333 master keys (draft KeyGen with empty key_info)', () => {
  const bls = createBlsSignatures(nobleBackend);
  for (const v of eip2333.vectors) {
    expect(decodeScalar(bls.keyGen(h(v.seed)))).toBe(BigInt(v.master_SK));
  }
  expect(bytesToHex(bls.keyGen(new Uint8Array(32).fill(7), utf8('info')))).not.toBe(bytesToHex(bls.keyGen(new Uint8Array(32).fill(7))));
  expectCryptoError(() => bls.keyGen(new Uint8Array(31)), 'INVALID_ARGUMENT');
});

describe.each(backends)('BLS signatures on %s', (name, load) => {
  // mcl runs every vector; pure-JS noble (~10x slower) a diagonal sample, to keep the suite fast.
  // The backends agree bit for bit (bls12-381-cross-backend.test.ts), so this loses no coverage.
  const sample = (j: number): boolean => name === 'mcl' || j === 1;
  let bls: BlsSignatures;
  beforeAll(async () => {
    bls = createBlsSignatures(await load());
  });

  describe('Ethereum consensus test vectors', () => {
    test('SkToPk', () => {
      eth.privkeys.forEach((sk, i) => expect(bytesToHex(bls.skToPk(h(sk)))).toBe(eth.pubkeys[i]));
    });

    test('Sign and Verify', () => {
      eth.privkeys.forEach((sk, i) => {
        eth.messages.forEach((msg, j) => {
          if (name !== 'mcl' && i !== j) return;
          const expected = eth.signatures_by_privkey_then_message[i]![j]!;
          expect(bytesToHex(bls.sign(h(sk), h(msg)))).toBe(expected);
          expect(bls.verify(h(eth.pubkeys[i]!), h(msg), h(expected))).toBe(true);
        });
      });
    });

    test('Aggregate and FastAggregateVerify', () => {
      eth.messages.forEach((msg, j) => {
        if (!sample(j)) return;
        const sigs = eth.signatures_by_privkey_then_message.map((row) => h(row[j]!));
        const aggregate = bls.aggregateSignatures(sigs);
        expect(bytesToHex(aggregate)).toBe(eth.aggregate_of_all_privkeys_by_message[j]);
        expect(bls.fastAggregateVerify(eth.pubkeys.map(h), h(msg), aggregate)).toBe(true);
        expect(bls.fastAggregateVerify(eth.pubkeys.slice(1).map(h), h(msg), aggregate)).toBe(false);
      });
    });

    test('AggregateVerify', () => {
      const sig = h(eth.aggregate_verify_privkey_i_signs_message_i);
      expect(bytesToHex(bls.aggregateSignatures(eth.signatures_by_privkey_then_message.map((row, i) => h(row[i]!))))).toBe(
        eth.aggregate_verify_privkey_i_signs_message_i,
      );
      expect(bls.aggregateVerify(eth.pubkeys.map(h), eth.messages.map(h), sig)).toBe(true);
      expect(bls.aggregateVerify(eth.pubkeys.map(h), [...eth.messages].reverse().map(h), sig)).toBe(false);
      expect(bls.aggregateVerify(eth.pubkeys.map(h), eth.messages.slice(1).map(h), sig)).toBe(false);
      expect(bls.aggregateVerify([], [], sig)).toBe(false);
    });
  });

  describe('sign/verify', () => {
    const sk = (seed: number) => createBlsSignatures(nobleBackend).keyGen(new Uint8Array(32).fill(seed));

    test('round trip for random messages', () => {
      const secret = sk(1);
      const pk = bls.skToPk(secret);
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (msg) => {
          expect(bls.verify(pk, msg, bls.sign(secret, msg))).toBe(true);
        }),
        { numRuns: 3 },
      );
    });

    test('wrong key, wrong message and tampered signatures are refused', () => {
      const secret = sk(2);
      const pk = bls.skToPk(secret);
      const msg = utf8('attest: block 42');
      const sig = bls.sign(secret, msg);
      expect(bls.verify(pk, msg, sig)).toBe(true);
      expect(bls.verify(bls.skToPk(sk(3)), msg, sig)).toBe(false);
      expect(bls.verify(pk, utf8('attest: block 43'), sig)).toBe(false);
      for (const bit of [0, 7, 100, 767]) {
        const tampered = sig.slice();
        tampered[bit >> 3]! ^= 1 << (bit & 7);
        expect(bls.verify(pk, msg, tampered)).toBe(false);
      }
      // malformed keys and signatures are simply invalid, never a crash
      expect(bls.verify(pk, msg, sig.subarray(0, 95))).toBe(false);
      expect(bls.verify(pk.subarray(0, 47), msg, sig)).toBe(false);
      const infinityPk = new Uint8Array(48);
      infinityPk[0] = 0xc0;
      const infinitySig = new Uint8Array(96);
      infinitySig[0] = 0xc0;
      expect(bls.verify(infinityPk, msg, infinitySig)).toBe(false);
      expect(bls.keyValidate(infinityPk)).toBe(false);
      expect(bls.keyValidate(pk)).toBe(true);
      // the uncompressed form of a valid key is not a key encoding of this scheme
      const uncompressedPk = bls.backend.g1.encode(bls.backend.g1.decode(pk), { compressed: false });
      expect(bls.keyValidate(uncompressedPk)).toBe(false);
    });

    test('invalid secret keys give typed errors', () => {
      expectCryptoError(() => bls.sign(new Uint8Array(32), utf8('m')), 'INVALID_SCALAR');
      expectCryptoError(() => bls.skToPk(new Uint8Array(32).fill(0xff)), 'INVALID_SCALAR');
      expectCryptoError(() => bls.sign(new Uint8Array(31), utf8('m')), 'INVALID_LENGTH');
    });

    test('aggregation refuses empty lists and malformed members', () => {
      expectCryptoError(() => bls.aggregateSignatures([]), 'INVALID_ARGUMENT');
      expectCryptoError(() => bls.aggregatePublicKeys([]), 'INVALID_ARGUMENT');
      expectCryptoError(() => bls.aggregateSignatures([h(eth.aggregate_verify_privkey_i_signs_message_i), new Uint8Array(96)]), 'INVALID_ENCODING');
      const pks = eth.pubkeys.map(h);
      expect(bytesToHex(bls.aggregatePublicKeys(pks))).toBe(bytesToHex(bls.aggregatePublicKeys([...pks].reverse())));
      expect(bls.fastAggregateVerify([], h(eth.messages[0]!), h(eth.aggregate_of_all_privkeys_by_message[0]!))).toBe(false);
    });
  });

  describe('proof of possession', () => {
    test('PopProve/PopVerify, bound to the key and domain-separated from signatures', () => {
      const bls0 = createBlsSignatures(nobleBackend);
      const secret = bls0.keyGen(new Uint8Array(32).fill(9));
      const pk = bls.skToPk(secret);
      const proof = bls.popProve(secret);
      expect(bls.popVerify(pk, proof)).toBe(true);
      expect(bls.popVerify(h(eth.pubkeys[0]!), proof)).toBe(false);
      // a PoP is not a signature on the key bytes, and vice versa
      expect(bls.verify(pk, pk, proof)).toBe(false);
      expect(bls.popVerify(pk, bls.sign(secret, pk))).toBe(false);
    });
  });

  describe('threshold signatures', () => {
    test('any 2 of 3 partial signatures combine into the full-key signature', () => {
      const secret = decodeScalar(createBlsSignatures(nobleBackend).keyGen(new Uint8Array(32).fill(4)));
      const poly = randomPolynomial(secret, 2);
      const shares = [1n, 2n, 3n].map((index) => ({ index, value: evaluatePolynomial(poly, index) }));
      const msg = utf8('threshold message');
      const partials = shares.map((s) => bls.signShare(s, msg));
      // a partial verifies under its share's public key
      expect(bls.verify(bls.skToPk(encodeScalar(shares[2]!.value)), msg, partials[2]!.signature)).toBe(true);
      const full = bytesToHex(bls.sign(encodeScalar(secret), msg));
      expect(bytesToHex(bls.combineSignatureShares([partials[0]!, partials[1]!]))).toBe(full);
      expect(bytesToHex(bls.combineSignatureShares([partials[2]!, partials[0]!]))).toBe(full);
      expect(bytesToHex(bls.combineSignatureShares([partials[1]!, partials[2]!]))).toBe(full);
      expect(bls.verify(bls.skToPk(encodeScalar(secret)), msg, hexToBytes(full))).toBe(true);
      // one share is not enough, duplicates are refused, a bad partial spoils the result
      expect(bytesToHex(bls.combineSignatureShares([partials[0]!]))).not.toBe(full);
      expectCryptoError(() => bls.combineSignatureShares([partials[0]!, partials[0]!]), 'NOT_ENOUGH_SHARES');
      expectCryptoError(() => bls.combineSignatureShares([]), 'NOT_ENOUGH_SHARES');
      const forged = { index: 2n, signature: bls.sign(encodeScalar(secret), utf8('other')) };
      expect(bytesToHex(bls.combineSignatureShares([partials[0]!, forged]))).not.toBe(full);
      expectCryptoError(() => bls.signShare({ index: 1n, value: 0n }, msg), 'INVALID_SCALAR');
    });
  });
});

test('signatures made on noble verify on mcl and the other way round', async () => {
  const noble = createBlsSignatures(nobleBackend);
  const mcl = createBlsSignatures(await createMclBackend());
  const secret = noble.keyGen(new Uint8Array(32).fill(5));
  const msg = utf8('cross-backend');
  expect(mcl.verify(noble.skToPk(secret), msg, noble.sign(secret, msg))).toBe(true);
  expect(noble.verify(mcl.skToPk(secret), msg, mcl.sign(secret, msg))).toBe(true);
  expect(noble.popVerify(mcl.skToPk(secret), mcl.popProve(secret))).toBe(true);
});
