import {
  blockCid,
  decodeEnvelope,
  encodeEnvelope,
  envelopeCid,
  openEnvelope,
  sealEnvelope,
  verifyEnvelope,
  xwingRecipientKey,
} from '../src/index.js';
import { fixedBytes, rejectsWith, testRecipient, testRecipients, testSender } from './identities.js';

const alice = testSender('alice');
const recipients = testRecipients('reader', 3);
const stranger = testRecipient('stranger');
const body = new TextEncoder().encode('the D-TA share order #42');

describe('seal and open an envelope', () => {
  test('one recipient opens, encodes, decodes and addresses it', async () => {
    const [bob] = recipients as [typeof recipients[0]];
    const envelope = await sealEnvelope({ from: alice.signer, to: [bob.publicKey], type: 'milagro/test/note', typeVersion: 3, body });
    const bytes = encodeEnvelope(envelope);
    const decoded = decodeEnvelope(bytes);
    expect(encodeEnvelope(decoded)).toEqual(bytes);
    expect(decoded.header.type).toBe('milagro/test/note');
    expect(decoded.header.typeVersion).toBe(3);
    expect(decoded.header.from).toBe(alice.id);
    const cid = envelopeCid(bytes);
    expect(cid.version).toBe(1);
    expect(cid.code).toBe(0x71);
    expect(envelopeCid(decoded).equals(cid)).toBe(true);
    const opened = await openEnvelope(bytes, { sender: alice.publicKey, recipient: bob.key });
    expect(new TextDecoder().decode(opened.body)).toBe('the D-TA share order #42');
  });

  test('every one of N recipients opens; anyone else gets NOT_A_RECIPIENT', async () => {
    const envelope = await sealEnvelope({ from: alice.signer, to: recipients.map((r) => r.publicKey), type: 'milagro/test/note', body });
    const bytes = encodeEnvelope(envelope);
    for (const r of recipients) {
      expect((await openEnvelope(bytes, { sender: alice.publicKey, recipient: r.key })).body).toEqual(body);
    }
    await rejectsWith(openEnvelope(bytes, { sender: alice.publicKey, recipient: stranger.key }), 'NOT_A_RECIPIENT');
    // The right identity with another key (e.g. after rotation) is told so, not given garbage.
    const rotated = xwingRecipientKey(recipients[0]!.id, fixedBytes('rotated', 32));
    await rejectsWith(openEnvelope(bytes, { sender: alice.publicKey, recipient: rotated }), 'NOT_A_RECIPIENT');
  });

  test('empty and multi-chunk bodies round-trip; prev links to the previous envelope', async () => {
    const first = await sealEnvelope({ from: alice.signer, to: [recipients[0]!.publicKey], type: 'log/entry', body: new Uint8Array(0) });
    const prev = envelopeCid(first);
    const big = fixedBytes('big body', 5000);
    const second = await sealEnvelope({ from: alice.signer, to: [recipients[0]!.publicKey], type: 'log/entry', prev, chunkSize: 1024, body: big });
    const decoded = decodeEnvelope(encodeEnvelope(second));
    expect(decoded.header.prev?.equals(prev)).toBe(true);
    expect((await openEnvelope(first, { sender: alice.publicKey, recipient: recipients[0]!.key })).body).toEqual(new Uint8Array(0));
    expect((await openEnvelope(decoded, { sender: alice.publicKey, recipient: recipients[0]!.key })).body).toEqual(big);
    const viaString = await sealEnvelope({ from: alice.signer, to: [recipients[0]!.publicKey], type: 'log/entry', prev: prev.toString(), body });
    expect(viaString.header.prev?.equals(prev)).toBe(true);
  });

  test('verifyEnvelope accepts the sender and refuses anyone else', async () => {
    const mallory = testSender('mallory');
    const envelope = await sealEnvelope({ from: alice.signer, to: [recipients[0]!.publicKey], type: 'milagro/test/note', body });
    expect(verifyEnvelope(encodeEnvelope(envelope), alice.publicKey).header.from).toBe(alice.id);
    // Mallory's key under Alice's name, and Mallory's own name: both refused.
    await rejectsWith(() => verifyEnvelope(envelope, { id: alice.id, publicKey: mallory.publicKey.publicKey }), 'BAD_SIGNATURE');
    await rejectsWith(() => verifyEnvelope(envelope, mallory.publicKey), 'BAD_SIGNATURE');
    await rejectsWith(openEnvelope(envelope, { sender: mallory.publicKey, recipient: recipients[0]!.key }), 'BAD_SIGNATURE');
    // An envelope signed by Mallory but claiming Alice as its sender.
    const forged = await sealEnvelope({
      from: { id: alice.id, sign: mallory.signer.sign },
      to: [recipients[0]!.publicKey],
      type: 'milagro/test/note',
      body,
    });
    await rejectsWith(openEnvelope(forged, { sender: alice.publicKey, recipient: recipients[0]!.key }), 'BAD_SIGNATURE');
  });

  test('bad seal arguments are INVALID_ARGUMENT', async () => {
    const base = { from: alice.signer, type: 'milagro/test/note', body };
    await rejectsWith(sealEnvelope({ ...base, to: [] }), 'INVALID_ARGUMENT');
    await rejectsWith(sealEnvelope({ ...base, to: [{ id: 'not-a-cid', publicKey: recipients[0]!.publicKey.publicKey }] }), 'INVALID_ARGUMENT');
    await rejectsWith(sealEnvelope({ ...base, to: [{ id: recipients[0]!.id, publicKey: new Uint8Array(10) }] }), 'INVALID_ARGUMENT');
    await rejectsWith(sealEnvelope({ ...base, to: [recipients[0]!.publicKey, recipients[0]!.publicKey] }), 'INVALID_ARGUMENT');
    await rejectsWith(sealEnvelope({ ...base, to: [recipients[0]!.publicKey], type: 'has space' }), 'INVALID_ARGUMENT');
    await rejectsWith(sealEnvelope({ ...base, to: [recipients[0]!.publicKey], chunkSize: 10 }), 'INVALID_ARGUMENT');
    await rejectsWith(sealEnvelope({ ...base, to: [recipients[0]!.publicKey], prev: blockCid(new Uint8Array(1)) }), 'INVALID_ARGUMENT');
    await rejectsWith(sealEnvelope({ ...base, to: [recipients[0]!.publicKey], prev: 'not a cid' }), 'INVALID_ARGUMENT');
    await rejectsWith(sealEnvelope({ ...base, groups: [{ threshold: 3, members: [recipients[0]!.publicKey] }] }), 'INVALID_ARGUMENT');
  });
});
