/**
 * Checks the published envelope-v1 vectors (test/vectors/envelope-v1.json), as another
 * implementation would: each envelope decodes, re-encodes to the very same bytes, has the stated
 * CID and digests, verifies under the sender, yields the stated content key to its first opener,
 * and opens for every listed opener (and for k shares of every group) to the stated plaintext;
 * each negative vector fails with its code. The same checks run on a freshly generated set, so the
 * generator cannot drift from the file's shape.
 */
import { bytesToHex, hexToBytes, sha256 } from '@milagro/crypto';
import {
  decodeEnvelope,
  encodeEnvelope,
  envelopeCid,
  openEnvelope,
  unwrapShare,
  verifyEnvelope,
  xwingRecipientKey,
  type SenderPublicKey,
} from '../src/index.js';
import { headerDigest, signedBytes } from '../src/envelope-encoding.js';
import { unwrapEntry } from '../src/key-wrap.js';
import { rejectsWith } from './identities.js';
import committed from './vectors/envelope-v1.json';
import { generateVectors, type EnvelopeVector, type NegativeVector, type VectorFile } from './vectors/envelope-v1-vectors.js';

function keysOf(file: VectorFile) {
  const sender = (name: string): SenderPublicKey => {
    const s = file.senders.find((x) => x.name === name)!;
    return { id: s.id, publicKey: hexToBytes(s.publicKey) };
  };
  const recipientKey = (name: string) => {
    const r = file.recipients.find((x) => x.name === name)!;
    const key = xwingRecipientKey(r.id, hexToBytes(r.secretKey));
    expect(bytesToHex(key.publicKey)).toBe(r.publicKey);
    return key;
  };
  return { sender, recipientKey };
}

async function checkVector(file: VectorFile, v: EnvelopeVector): Promise<void> {
  const { sender, recipientKey } = keysOf(file);
  const bytes = hexToBytes(v.envelope);
  const envelope = decodeEnvelope(bytes);
  expect(bytesToHex(encodeEnvelope(envelope))).toBe(v.envelope);
  expect(envelopeCid(bytes).toString()).toBe(v.cid);
  expect(envelopeCid(envelope).toString()).toBe(v.cid);
  expect(bytesToHex(headerDigest(envelope.header))).toBe(v.headerDigest);
  expect(bytesToHex(sha256(signedBytes(1, envelope.header, envelope.body)))).toBe(v.signedBytesSha256);
  verifyEnvelope(bytes, sender(v.sender));

  const first = recipientKey(v.openers[0]!);
  const entry = envelope.header.to.find((e) => e.id === first.id)!;
  expect(bytesToHex(await unwrapEntry(first, entry, envelope.header.nonce))).toBe(v.contentKey);

  const body = v.form === 'stream' ? [hexToBytes(v.ciphertext!)] : v.form === 'blocks' ? v.blocks!.map((b) => hexToBytes(b.bytes)) : undefined;
  if (v.form === 'blocks') {
    expect('blocks' in envelope.body && envelope.body.blocks.map(String)).toEqual(v.blocks!.map((b) => b.cid));
  }
  for (const name of v.openers) {
    const opened = await openEnvelope(bytes, { sender: sender(v.sender), recipient: recipientKey(name), ...(body ? { body } : {}) });
    expect(bytesToHex(opened.body)).toBe(v.plaintext);
  }
  for (const [g, group] of v.groups.entries()) {
    const shares = await Promise.all(
      group.members.slice(-group.threshold).map((m) => unwrapShare(bytes, { sender: sender(v.sender), recipient: recipientKey(m), group: g })),
    );
    const opened = await openEnvelope(bytes, { sender: sender(v.sender), shares, ...(body ? { body } : {}) });
    expect(bytesToHex(opened.body)).toBe(v.plaintext);
  }
}

async function checkNegative(file: VectorFile, v: NegativeVector): Promise<void> {
  const { sender, recipientKey } = keysOf(file);
  await rejectsWith(openEnvelope(hexToBytes(v.envelope), { sender: sender(v.sender), recipient: recipientKey(v.opener) }), v.error);
}

const file = committed as VectorFile;

describe('envelope-v1 test vectors (committed file)', () => {
  test.each(file.vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => checkVector(file, v));
  test.each(file.negative.map((v) => [v.name, v] as const))('negative: %s', (_name, v) => checkNegative(file, v));
});

test('a freshly generated set has the same shape and passes the same checks', async () => {
  const fresh = JSON.parse(JSON.stringify(await generateVectors())) as VectorFile;
  expect(fresh.senders).toEqual(file.senders);
  expect(fresh.recipients).toEqual(file.recipients);
  expect(fresh.vectors.map((v) => [v.name, v.form, v.openers, v.groups, v.plaintext])).toEqual(
    file.vectors.map((v) => [v.name, v.form, v.openers, v.groups, v.plaintext]),
  );
  expect(fresh.negative.map((v) => [v.name, v.error])).toEqual(file.negative.map((v) => [v.name, v.error]));
  // Fresh randomness: new envelopes every time.
  expect(fresh.vectors.map((v) => v.cid)).not.toEqual(file.vectors.map((v) => v.cid));
  for (const v of fresh.vectors) await checkVector(fresh, v);
  for (const v of fresh.negative) await checkNegative(fresh, v);
});
