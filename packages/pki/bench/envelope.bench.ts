/**
 * Suite `envelope` (issue 5), the PKI's case: resolving an identity with a 10-step rotation chain,
 * i.e. fetching and verifying 11 documents (composite signatures, BLS proofs of possession,
 * pre-rotation commitments), with a cold cache, with each BLS backend, and with a warm cache.
 */
import { createBlsSignatures, createMclBackend, type BlsSignatures } from '@milagro/crypto';
import { MemoryKeyStore } from '@milagro/keystore';
import { createIdentity, IdentityResolver, rotateIdentity, MemoryDocumentStore, type OwnedIdentity } from '@milagro/pki';
import type { BenchSuite } from '../../../tools/bench/suite.js';

const store = new MemoryDocumentStore();

let alice: OwnedIdentity;
let mcl: BlsSignatures;
let warm: IdentityResolver;

export default {
  suite: 'envelope',
  setup: async () => {
    const keyStore = new MemoryKeyStore();
    alice = await createIdentity({ keyStore, store, labelPrefix: 'alice' });
    for (let i = 0; i < 10; i++) alice = await rotateIdentity(alice, { keyStore, store });
    mcl = createBlsSignatures(await createMclBackend());
    warm = new IdentityResolver({ store, bls: mcl });
    await warm.resolve(alice.id, { heads: [alice.head] });
  },
  cases: [
    {
      name: 'resolve identity, 10-step rotation chain, cold cache (noble BLS)',
      iterations: 10,
      fn: () => new IdentityResolver({ store }).resolve(alice.id, { heads: [alice.head] }),
    },
    {
      name: 'resolve identity, 10-step rotation chain, cold cache (mcl BLS)',
      iterations: 10,
      fn: () => new IdentityResolver({ store, bls: mcl }).resolve(alice.id, { heads: [alice.head] }),
    },
    {
      name: 'resolve identity, warm cache, known head',
      fn: () => warm.resolve(alice.id, { heads: [alice.head] }),
    },
  ],
} satisfies BenchSuite;
