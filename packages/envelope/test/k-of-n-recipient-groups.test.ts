import { encodeEnvelope, openEnvelope, sealEnvelope, unwrapShare, type EnvelopeShare } from '../src/index.js';
import { rejectsWith, testRecipient, testRecipients, testSender } from './identities.js';

const alice = testSender('alice');
const custodians = testRecipients('custodian', 5);
const auditor = testRecipient('auditor');
const body = new TextEncoder().encode('wallet backup');

/** All k-subsets of 0..n-1. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...subsets(n - 1, k - 1).map((s) => [...s, n - 1]), ...subsets(n - 1, k)];
}

describe('k-of-n recipient groups', () => {
  let bytes: Uint8Array;
  let shares: EnvelopeShare[];

  beforeAll(async () => {
    // A 3-of-5 group of custodians, plus a direct recipient who can open alone.
    const envelope = await sealEnvelope({
      from: alice.signer,
      to: [auditor.publicKey],
      groups: [{ threshold: 3, members: custodians.map((c) => c.publicKey) }],
      type: 'custody/backup',
      body,
    });
    bytes = encodeEnvelope(envelope);
    shares = await Promise.all(custodians.map((c) => unwrapShare(bytes, { sender: alice.publicKey, recipient: c.key })));
  });

  test('every k-subset of the members opens it', async () => {
    expect(shares.map((s) => s.index)).toEqual([1, 2, 3, 4, 5]);
    for (const subset of subsets(5, 3)) {
      const opened = await openEnvelope(bytes, { sender: alice.publicKey, shares: subset.map((i) => shares[i]!) });
      expect(opened.body).toEqual(body);
    }
    // More than k consistent shares also open it.
    expect((await openEnvelope(bytes, { sender: alice.publicKey, shares })).body).toEqual(body);
    // The direct recipient needs no one.
    expect((await openEnvelope(bytes, { sender: alice.publicKey, recipient: auditor.key })).body).toEqual(body);
  });

  test('k − 1 shares, or one member alone, cannot open it', async () => {
    for (const subset of subsets(5, 2)) {
      await rejectsWith(openEnvelope(bytes, { sender: alice.publicKey, shares: subset.map((i) => shares[i]!) }), 'NOT_ENOUGH_SHARES');
    }
    await rejectsWith(openEnvelope(bytes, { sender: alice.publicKey, recipient: custodians[0]!.key }), 'NOT_ENOUGH_SHARES');
    await rejectsWith(openEnvelope(bytes, { sender: alice.publicKey, shares: [shares[0]!, shares[0]!, shares[1]!] }), 'SHARE_INVALID');
    await rejectsWith(unwrapShare(bytes, { sender: alice.publicKey, recipient: auditor.key }), 'NOT_A_RECIPIENT');
  });

  test('a wrong or foreign share is SHARE_INVALID, not a wrong key', async () => {
    const bad = { ...shares[2]!, value: shares[2]!.value.map((b, i) => (i === 31 ? b ^ 1 : b)) };
    await rejectsWith(openEnvelope(bytes, { sender: alice.publicKey, shares: [shares[0]!, shares[1]!, bad] }), 'SHARE_INVALID');
    await rejectsWith(openEnvelope(bytes, { sender: alice.publicKey, shares: [shares[0]!, shares[1]!, shares[2]!, bad] }), 'SHARE_INVALID');
    const other = await sealEnvelope({
      from: alice.signer,
      groups: [{ threshold: 3, members: custodians.map((c) => c.publicKey) }],
      type: 'custody/backup',
      body,
    });
    const foreign = await unwrapShare(other, { sender: alice.publicKey, recipient: custodians[3]!.key });
    await rejectsWith(openEnvelope(bytes, { sender: alice.publicKey, shares: [shares[0]!, shares[1]!, foreign] }), 'SHARE_INVALID');
    await rejectsWith(openEnvelope(bytes, { sender: alice.publicKey, shares: [shares[0]!, shares[1]!, { ...shares[2]!, group: 7 }] }), 'SHARE_INVALID');
  });

  test('several groups, and a 1-of-n group member opening alone', async () => {
    const envelope = await sealEnvelope({
      from: alice.signer,
      groups: [
        { threshold: 2, members: custodians.slice(0, 3).map((c) => c.publicKey) },
        { threshold: 1, members: custodians.slice(3).map((c) => c.publicKey) },
      ],
      type: 'custody/backup',
      body,
    });
    const a = await unwrapShare(envelope, { sender: alice.publicKey, recipient: custodians[0]!.key });
    const b = await unwrapShare(envelope, { sender: alice.publicKey, recipient: custodians[2]!.key });
    expect((await openEnvelope(envelope, { sender: alice.publicKey, shares: [a, b] })).body).toEqual(body);
    expect((await openEnvelope(envelope, { sender: alice.publicKey, recipient: custodians[4]!.key })).body).toEqual(body);
    const c = await unwrapShare(envelope, { sender: alice.publicKey, recipient: custodians[3]!.key });
    await rejectsWith(openEnvelope(envelope, { sender: alice.publicKey, shares: [a, c] }), 'SHARE_INVALID');
  });
});
