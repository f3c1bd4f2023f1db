/**
 * Suite `envelope` (brief §7): seal and open of a 64 MiB body against bare node:crypto
 * AES-256-GCM over the same bytes (target ratio ≥ 0.8), the cost of each additional recipient
 * (target ≤ 1.5 ms), and a 100-recipient seal. The identity-resolution case of this suite lives
 * in packages/pki/bench/envelope.bench.ts. Identity keys are derived from fixed seeds in setup.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import {
  compositeKeyPairFromSeed,
  xwingKeyPairFromSeed,
} from '@milagro/crypto';
import {
  compositeSigner,
  openEnvelope,
  sealEnvelope,
  xwingRecipientKey,
  type Envelope,
  type EnvelopeRecipientKey,
  type RecipientPublicKey,
  type SenderPublicKey,
} from '@milagro/envelope';
import type { BenchSuite } from '../../../tools/bench/suite.js';

const SIZE = 64 * 1024 * 1024;
const body = randomBytes(SIZE);
const aesKey = randomBytes(32);
const iv = randomBytes(12);
let sealedBaseline: Buffer;
let tag: Buffer;

const seed = (label: string) => createHash('sha256').update(`bench/${label}`).digest();
const id = (label: string) => {
  // CIDv1 dag-cbor sha2-256 of the label, as a stand-in identity id (base32 "b" + multibase).
  const digest = createHash('sha256').update(label).digest();
  const bytes = Buffer.concat([Buffer.from([0x01, 0x71, 0x12, 0x20]), digest]);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = 'b';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
};

const senderPair = compositeKeyPairFromSeed(seed('sender'));
const sender: SenderPublicKey = { id: id('sender'), publicKey: senderPair.publicKey };
const signer = compositeSigner(sender.id, senderPair.secretKey);
let recipients: RecipientPublicKey[] = [];
let reader: EnvelopeRecipientKey;
let sealed64: Envelope;

export default {
  suite: 'envelope',
  setup: async () => {
    recipients = Array.from({ length: 100 }, (_, i) => ({ id: id(`r${i}`), publicKey: xwingKeyPairFromSeed(seed(`r${i}`)).publicKey }));
    reader = xwingRecipientKey(recipients[0]!.id, seed('r0'));
    const cipher = createCipheriv('aes-256-gcm', aesKey, iv);
    sealedBaseline = Buffer.concat([cipher.update(body), cipher.final()]);
    tag = cipher.getAuthTag();
    sealed64 = await sealEnvelope({ from: signer, to: [recipients[0]!], type: 'bench/blob', body });
  },
  cases: [
    {
      name: 'node:crypto AES-256-GCM seal 64 MiB (baseline)',
      bytes: SIZE,
      iterations: 10,
      fn: () => {
        const cipher = createCipheriv('aes-256-gcm', aesKey, iv);
        Buffer.concat([cipher.update(body), cipher.final()]);
        cipher.getAuthTag();
      },
    },
    {
      name: 'seal 64 MiB, 1 recipient',
      bytes: SIZE,
      iterations: 10,
      baseline: 'node:crypto AES-256-GCM seal 64 MiB (baseline)',
      fn: () => sealEnvelope({ from: signer, to: [recipients[0]!], type: 'bench/blob', body }),
    },
    {
      name: 'node:crypto AES-256-GCM open 64 MiB (baseline)',
      bytes: SIZE,
      iterations: 10,
      fn: () => {
        const decipher = createDecipheriv('aes-256-gcm', aesKey, iv);
        decipher.setAuthTag(tag);
        Buffer.concat([decipher.update(sealedBaseline), decipher.final()]);
      },
    },
    {
      name: 'open 64 MiB',
      bytes: SIZE,
      iterations: 10,
      baseline: 'node:crypto AES-256-GCM open 64 MiB (baseline)',
      fn: () => openEnvelope(sealed64, { sender, recipient: reader }),
    },
    {
      name: 'seal 1 KiB to 1 recipient',
      fn: () => sealEnvelope({ from: signer, to: recipients.slice(0, 1), type: 'bench/note', body: body.subarray(0, 1024) }),
    },
    {
      name: 'seal 1 KiB to 100 recipients',
      fn: () => sealEnvelope({ from: signer, to: recipients, type: 'bench/note', body: body.subarray(0, 1024) }),
    },
    {
      name: 'seal 1 KiB, each recipient beyond the first (100 vs 1)',
      minus: 'seal 1 KiB to 1 recipient',
      perItem: 99,
      fn: () => sealEnvelope({ from: signer, to: recipients, type: 'bench/note', body: body.subarray(0, 1024) }),
    },
  ],
} satisfies BenchSuite;
