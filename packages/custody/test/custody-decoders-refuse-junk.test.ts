/**
 * The custody decoders (vault definition, spend request, PSBT planning): every valid encoding
 * decodes to what was encoded, and any other input (random bytes, mutated encodings, random PSBTs)
 * is refused with CustodyError `INVALID_REQUEST` or `POLICY_REFUSED` only, never another exception.
 */
import fc from 'fast-check';
import { isCustodyError } from '../src/errors.js';
import { planSpend } from '../src/spend.js';
import { decodeSpendRequest, decodeVaultDefinition, encodeSpendRequest, encodeVaultDefinition, type VaultDefinition } from '../src/vault.js';
import { spendPsbt, someAddress } from './support/bitcoin.js';
import { fakeIdentity } from './support/custody-network.js';

let ids: string[];
beforeAll(async () => {
  ids = await Promise.all(['a', 'b', 'c', 'd', 'e', 'p'].map(fakeIdentity));
});

function refusedCleanly(run: () => unknown): boolean {
  try {
    run();
    return true; // a mutation may still be valid
  } catch (error) {
    return isCustodyError(error, 'INVALID_REQUEST') || isCustodyError(error, 'POLICY_REFUSED');
  }
}

const definitionArb = () =>
  fc.record({
    n: fc.integer({ min: 2, max: 5 }),
    t: fc.integer({ min: 2, max: 5 }),
    approvals: fc.integer({ min: 0, max: 2 }),
    max: fc.integer({ min: 0, max: 2_100_000_000_000_000 }),
    messages: fc.boolean(),
    id: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
  });

function definitionOf(v: { n: number; t: number; approvals: number; max: number; messages: boolean; id: string }): VaultDefinition {
  return {
    vaultId: v.id,
    principal: ids[5]!,
    operators: ids.slice(0, v.n),
    threshold: Math.min(v.t, v.n),
    policy: { approvers: ids.slice(0, 2), approvals: v.approvals, maxAmountSats: v.max, destinations: [someAddress(1)], allowMessages: v.messages },
  };
}

it('round-trips vault definitions and spend requests', () => {
  fc.assert(
    fc.property(definitionArb(), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (v, message, rid) => {
      const definition = definitionOf(v);
      expect(decodeVaultDefinition(encodeVaultDefinition(definition))).toEqual(definition);
      const request = { vaultId: v.id, requestId: Buffer.from(rid).toString('hex'), payload: { kind: 'message' as const, message }, created: 1 };
      expect(decodeSpendRequest(encodeSpendRequest(request))).toEqual(request);
    }),
    { numRuns: 100 },
  );
});

it('refuses random bytes and mutated encodings with INVALID_REQUEST only', () => {
  const encoded = encodeVaultDefinition(definitionOf({ n: 3, t: 2, approvals: 1, max: 5, messages: true, id: 'v' }));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (junk, at, flip) => {
      expect(refusedCleanly(() => decodeVaultDefinition(junk))).toBe(true);
      expect(refusedCleanly(() => decodeSpendRequest(junk))).toBe(true);
      const mutated = encoded.slice();
      mutated[at % mutated.length]! ^= flip;
      expect(refusedCleanly(() => decodeVaultDefinition(mutated))).toBe(true);
    }),
    { numRuns: 300 },
  );
});

it('plans only PSBTs that spend the vault within the policy, and refuses junk PSBTs cleanly', () => {
  const outputKey = '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
  const policy = { approvers: [], approvals: 0, maxAmountSats: 50_000, destinations: [] as string[], allowMessages: false };
  const key = Buffer.from(outputKey, 'hex');
  fc.assert(
    fc.property(fc.bigInt({ min: 1000n, max: 98_000n }), fc.uint8Array({ maxLength: 300 }), fc.nat(), (send, junk, at) => {
      const psbt = spendPsbt(outputKey, { send, to: someAddress(2) });
      const ok = refusedCleanly(() => planSpend({ kind: 'psbt', psbt }, policy, key));
      expect(ok).toBe(true);
      if (send + 1000n <= 50_000n) expect(planSpend({ kind: 'psbt', psbt }, policy, key).messages).toHaveLength(1);
      else expect(() => planSpend({ kind: 'psbt', psbt }, policy, key)).toThrow(expect.objectContaining({ code: 'POLICY_REFUSED' }));
      expect(refusedCleanly(() => planSpend({ kind: 'psbt', psbt: junk }, policy, key))).toBe(true);
      const mutated = psbt.slice();
      mutated[at % mutated.length]! ^= 0x5a;
      expect(refusedCleanly(() => planSpend({ kind: 'psbt', psbt: mutated }, policy, key))).toBe(true);
    }),
    { numRuns: 100 },
  );
  expect(() => planSpend({ kind: 'message', message: new Uint8Array(32) }, policy, key)).toThrow(expect.objectContaining({ code: 'POLICY_REFUSED' }));
});
