/**
 * A recipient reveals one envelope's content key (`revealContentKey`): anyone holding the envelope
 * and that key opens it (`openEnvelope` with `contentKey`), the sender's signature still checked.
 * The key opens nothing else (another envelope to the same recipient), another key does not open
 * it, a group member cannot reveal this way, and a non-recipient cannot reveal at all.
 */
import { encodeEnvelope, openEnvelope, revealContentKey, sealEnvelope } from '../src/index.js';
import { fixedBytes, rejectsWith, testRecipients, testSender } from './identities.js';

const alice = testSender('alice');
const mallory = testSender('mallory');
const [bob, carol] = testRecipients('reveal', 2) as [ReturnType<typeof testRecipients>[0], ReturnType<typeof testRecipients>[0]];

async function sealed(body: Uint8Array, options: { groups?: boolean } = {}) {
  return encodeEnvelope(
    await sealEnvelope({
      from: alice.signer,
      to: options.groups ? [] : [bob.publicKey],
      ...(options.groups ? { groups: [{ threshold: 1, members: [bob.publicKey, carol.publicKey] }] } : {}),
      type: 'test/evidence',
      body,
    }),
  );
}

it('the revealed key opens that envelope for a third party, with the sender checked', async () => {
  const body = fixedBytes('evidence body', 777);
  const bytes = await sealed(body);
  const contentKey = await revealContentKey(bytes, { sender: alice.publicKey, recipient: bob.key });
  expect(contentKey).toHaveLength(32);
  const opened = await openEnvelope(bytes, { sender: alice.publicKey, contentKey });
  expect(Buffer.from(opened.body)).toEqual(Buffer.from(body));
  expect(opened.envelope.header.to.map((r) => r.id)).toEqual([bob.id]);
  // The caller's key is not wiped by opening.
  expect(contentKey.some((b) => b !== 0)).toBe(true);
  // Still only the sender's envelope.
  await rejectsWith(openEnvelope(bytes, { sender: { ...mallory.publicKey, id: alice.id }, contentKey }), 'BAD_SIGNATURE');
});

it('the key of one envelope opens no other, and no other key opens it', async () => {
  const first = await sealed(fixedBytes('first', 100));
  const second = await sealed(fixedBytes('second', 100));
  const key = await revealContentKey(first, { sender: alice.publicKey, recipient: bob.key });
  await rejectsWith(openEnvelope(second, { sender: alice.publicKey, contentKey: key }), 'TAMPERED');
  const flipped = key.slice();
  flipped[0]! ^= 1;
  await rejectsWith(openEnvelope(first, { sender: alice.publicKey, contentKey: flipped }), 'TAMPERED');
  await rejectsWith(openEnvelope(first, { sender: alice.publicKey, contentKey: new Uint8Array(31) }), 'INVALID_ARGUMENT');
});

it('only a direct recipient reveals, after the sender is verified', async () => {
  const direct = await sealed(fixedBytes('direct', 64));
  await rejectsWith(revealContentKey(direct, { sender: alice.publicKey, recipient: carol.key }), 'NOT_A_RECIPIENT');
  await rejectsWith(revealContentKey(direct, { sender: mallory.publicKey, recipient: bob.key }), 'BAD_SIGNATURE');
  const grouped = await sealed(fixedBytes('grouped', 64), { groups: true });
  await rejectsWith(revealContentKey(grouped, { sender: alice.publicKey, recipient: bob.key }), 'NOT_A_RECIPIENT');
});
