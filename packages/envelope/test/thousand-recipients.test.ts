import { decodeEnvelope, encodeEnvelope, openEnvelope, sealEnvelope, xwingRecipientKey } from '../src/index.js';
import { identityId, recipientPublicKey, rejectsWith, seedOf, testRecipient, testSender } from './identities.js';

const COUNT = 1000;
/**
 * Distinct X-Wing key pairs behind the 1,000 identities. Key generation is not what this test
 * measures, so identities share key pairs round-robin; every entry still gets its own
 * encapsulation, and each opener below uses its own identity with the matching secret key.
 */
const KEY_PAIRS = 25;
const alice = testSender('alice');
const body = new TextEncoder().encode('announcement to the whole consortium');

test(`one envelope to ${COUNT} recipients opens for any of them`, async () => {
  const keys = Array.from({ length: KEY_PAIRS }, (_, k) => recipientPublicKey(`member-key-${k}`).publicKey);
  const recipients = Array.from({ length: COUNT }, (_, i) => ({ id: identityId(`member-${i}`), publicKey: keys[i % KEY_PAIRS]! }));
  const started = performance.now();
  const envelope = await sealEnvelope({ from: alice.signer, to: recipients, type: 'milagro/test/broadcast', body });
  const sealMs = performance.now() - started;
  const bytes = encodeEnvelope(envelope);
  expect(decodeEnvelope(bytes).header.to).toHaveLength(COUNT);
  expect(new Set(envelope.header.to.map((e) => e.id)).size).toBe(COUNT);
  for (const i of [0, 1, 499, 998, 999]) {
    const key = xwingRecipientKey(recipients[i]!.id, seedOf('x-wing', `member-key-${i % KEY_PAIRS}`));
    const opened = await openEnvelope(bytes, { sender: alice.publicKey, recipient: key });
    expect(opened.body).toEqual(body);
  }
  await rejectsWith(openEnvelope(bytes, { sender: alice.publicKey, recipient: testRecipient('member-1000').key }), 'NOT_A_RECIPIENT');
  // Informational: so CI logs show the cost per recipient on the machine at hand.
  console.log(`seal to ${COUNT} recipients: ${sealMs.toFixed(0)} ms (${(sealMs / COUNT).toFixed(2)} ms/recipient); envelope ${bytes.length} bytes`);
}, 900_000);
