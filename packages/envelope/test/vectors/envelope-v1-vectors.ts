/**
 * The envelope-v1 test vectors: how they are made (here) and their JSON shape. `generate.ts`
 * writes them to `envelope-v1.json`; `envelope-v1-vectors.test.ts` opens the committed file (and
 * a freshly generated one). Sealing draws ordinary randomness, so every run of the generator gives
 * different envelopes; what is fixed is the identities (keys from seeds) and the plaintexts. The
 * vectors prove that an implementation opens, verifies and re-encodes envelopes exactly, which is
 * what interoperability needs; nothing about sealing requires reproducing another's random draws.
 */
import { bytesToHex, sha256 } from '@milagro/crypto';
import {
  encodeEnvelope,
  envelopeCid,
  sealEnvelope,
  sealEnvelopeBlocks,
  sealEnvelopeStream,
  type Envelope,
} from '../../src/index.js';
import { headerDigest, signedBytes } from '../../src/envelope-encoding.js';
import { unwrapEntry } from '../../src/key-wrap.js';
import { fixedBytes, identityId, testRecipient, testSender } from '../identities.js';

export interface VectorIdentity {
  name: string;
  id: string;
  /** Sender: composite secret key (Ed25519 seed ‖ ML-DSA-65 seed), hex. Recipient: X-Wing secret key (seed), hex. */
  secretKey: string;
  /** Sender: composite public key (1984 bytes). Recipient: X-Wing public key (1216 bytes). Hex. */
  publicKey: string;
}

export interface EnvelopeVector {
  name: string;
  description: string;
  /** Body form: inline `data`, a separate ciphertext stream, or detached blocks. */
  form: 'inline' | 'stream' | 'blocks';
  sender: string;
  /** Direct recipients (names) who can open it alone. */
  openers: string[];
  /** Groups: for each, the member names in share order and the threshold. */
  groups: { threshold: number; members: string[] }[];
  plaintext: string;
  /** The content key K this envelope was sealed under, hex (for debugging another implementation). */
  contentKey: string;
  /** DAG-CBOR of the envelope, hex. */
  envelope: string;
  cid: string;
  /** SHA-256 of the header's DAG-CBOR: the STREAM associated data. */
  headerDigest: string;
  /** SHA-256 of the signed bytes (DAG-CBOR of {v, header, body}). */
  signedBytesSha256: string;
  /** `stream` form: the body ciphertext, hex. */
  ciphertext?: string;
  /** `blocks` form: the blocks in order. */
  blocks?: { cid: string; bytes: string }[];
}

export interface NegativeVector {
  name: string;
  description: string;
  envelope: string;
  /** Who tries to open it (a recipient name) and as which sender. */
  opener: string;
  sender: string;
  /** The EnvelopeError code an implementation must report. */
  error: string;
}

export interface VectorFile {
  description: string;
  generator: string;
  senders: VectorIdentity[];
  recipients: VectorIdentity[];
  vectors: EnvelopeVector[];
  negative: NegativeVector[];
}

const SENDERS = ['alice', 'mallory'];
const RECIPIENTS = ['bob', 'carol', 'dave', 'erin', 'frank'];

function hex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

/** Builds every vector: identities and plaintexts are fixed, sealing uses fresh randomness. */
export async function generateVectors(): Promise<VectorFile> {
  const senders = Object.fromEntries(SENDERS.map((n) => [n, testSender(n)]));
  const recipients = Object.fromEntries(RECIPIENTS.map((n) => [n, testRecipient(n)]));
  const alice = senders['alice']!;
  const pk = (name: string) => recipients[name]!.publicKey;

  const vectors: EnvelopeVector[] = [];
  const describe = async (
    name: string,
    description: string,
    form: EnvelopeVector['form'],
    openers: string[],
    groups: { threshold: number; members: string[] }[],
    plaintext: Uint8Array,
    seal: () => Promise<{ envelope: Envelope; ciphertext?: Uint8Array; blocks?: { cid: string; bytes: string }[] }>,
  ): Promise<Envelope> => {
    const sealed = await seal();
    const bytes = encodeEnvelope(sealed.envelope);
    // Every vector has a direct opener; its entry gives back the content key.
    const opener = recipients[openers[0]!]!;
    const entry = sealed.envelope.header.to.find((e) => e.id === opener.id)!;
    const contentKey = await unwrapEntry(opener.key, entry, sealed.envelope.header.nonce);
    vectors.push({
      name,
      description,
      form,
      sender: 'alice',
      openers,
      groups,
      plaintext: hex(plaintext),
      contentKey: hex(contentKey),
      envelope: hex(bytes),
      cid: envelopeCid(bytes).toString(),
      headerDigest: hex(headerDigest(sealed.envelope.header)),
      signedBytesSha256: hex(sha256(signedBytes(1, sealed.envelope.header, sealed.envelope.body))),
      ...(sealed.ciphertext === undefined ? {} : { ciphertext: hex(sealed.ciphertext) }),
      ...(sealed.blocks === undefined ? {} : { blocks: sealed.blocks }),
    });
    return sealed.envelope;
  };

  const hello = new TextEncoder().encode('hello, envelope v1');
  const first = await describe('one-recipient', 'One direct recipient, inline body of one chunk.', 'inline', ['bob'], [], hello, async () => ({
    envelope: await sealEnvelope({ from: alice.signer, to: [pk('bob')], type: 'milagro/test/note', body: hello }),
  }));

  const multi = fixedBytes('three recipients body', 2500);
  await describe(
    'three-recipients-prev',
    'Three direct recipients, 1 KiB chunks (3 chunks), typeVersion 2, prev = CID of "one-recipient".',
    'inline',
    ['bob', 'carol', 'dave'],
    [],
    multi,
    async () => ({
      envelope: await sealEnvelope({
        from: alice.signer,
        to: [pk('bob'), pk('carol'), pk('dave')],
        type: 'milagro/test/log-entry',
        typeVersion: 2,
        prev: envelopeCid(first),
        chunkSize: 1024,
        body: multi,
      }),
    }),
  );

  const secret = new TextEncoder().encode('custody key backup');
  await describe(
    'group-2-of-3-and-direct',
    'Direct recipient erin, and a 2-of-3 group of bob, carol, dave.',
    'inline',
    ['erin'],
    [{ threshold: 2, members: ['bob', 'carol', 'dave'] }],
    secret,
    async () => ({
      envelope: await sealEnvelope({
        from: alice.signer,
        to: [pk('erin')],
        groups: [{ threshold: 2, members: [pk('bob'), pk('carol'), pk('dave')] }],
        type: 'custody/backup',
        body: secret,
      }),
    }),
  );

  const empty = new Uint8Array(0);
  await describe('empty-body', 'Empty body (one empty final chunk).', 'inline', ['frank'], [], empty, async () => ({
    envelope: await sealEnvelope({ from: alice.signer, to: [pk('frank')], type: 'milagro/test/ping', body: empty }),
  }));

  const streamed = fixedBytes('streamed body', 3000);
  await describe('streamed', 'Body as a separate ciphertext stream, 1 KiB chunks; the envelope has no data.', 'stream', ['bob'], [], streamed, async () => {
    const parts: Uint8Array[] = [];
    const envelope = await sealEnvelopeStream(
      { from: alice.signer, to: [pk('bob')], type: 'backup/archive', chunkSize: 1024, body: [streamed] },
      (p) => void parts.push(p.slice()),
    );
    const ciphertext = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((o, p) => (ciphertext.set(p, o), o + p.length), 0);
    return { envelope, ciphertext };
  });

  const detached = fixedBytes('detached body', 5000);
  await describe('detached-blocks', 'Body as raw blocks of 2 KiB ciphertext (1 KiB chunks).', 'blocks', ['carol'], [], detached, async () => {
    const blocks: { cid: string; bytes: string }[] = [];
    const envelope = await sealEnvelopeBlocks(
      { from: alice.signer, to: [pk('carol')], type: 'backup/archive', chunkSize: 1024, blockSize: 2048, body: [detached] },
      (b) => void blocks.push({ cid: b.cid.toString(), bytes: hex(b.bytes) }),
    );
    return { envelope, blocks };
  });

  // Negative vectors: well-formed encodings an implementation must refuse with the given code.
  const negative: NegativeVector[] = [];
  const base = vectors[0]!;
  const flip = (hexString: string, byteFromEnd: number): string => {
    const bytes = Uint8Array.from(hexString.match(/../g)!.map((h) => parseInt(h, 16)));
    bytes[bytes.length - byteFromEnd]! ^= 0x01;
    return hex(bytes);
  };
  negative.push({ name: 'signature-bit-flip', description: 'Last byte of the signature (the last field) flipped.', envelope: flip(base.envelope, 1), opener: 'bob', sender: 'alice', error: 'BAD_SIGNATURE' });
  negative.push({ name: 'not-a-recipient', description: '"one-recipient" opened by carol.', envelope: base.envelope, opener: 'carol', sender: 'alice', error: 'NOT_A_RECIPIENT' });
  negative.push({ name: 'wrong-sender', description: '"one-recipient" verified against mallory.', envelope: base.envelope, opener: 'bob', sender: 'mallory', error: 'BAD_SIGNATURE' });
  const forged = await sealEnvelope({ from: { id: alice.id, sign: senders['mallory']!.signer.sign }, to: [pk('bob')], type: 'milagro/test/note', body: hello });
  negative.push({ name: 'signed-by-someone-else', description: 'Names alice as sender, signed with mallory\'s key.', envelope: hex(encodeEnvelope(forged)), opener: 'bob', sender: 'alice', error: 'BAD_SIGNATURE' });

  return {
    description:
      'Milagro envelope format v1 test vectors (docs/specs/envelope-v1.md §10). Keys are derived from the seeds given; identity ids are CIDv1 dag-cbor sha2-256 of {"name": <name>}. Hex strings are lowercase.',
    generator: 'packages/envelope/test/vectors/generate.ts (identities from fixed seeds; sealing uses fresh randomness, so a rerun gives new envelopes that open the same way)',
    senders: SENDERS.map((n) => ({ name: n, id: senders[n]!.id, secretKey: hex(senders[n]!.compositeSecretKey), publicKey: hex(senders[n]!.publicKey.publicKey) })),
    recipients: RECIPIENTS.map((n) => ({ name: n, id: identityId(n), secretKey: hex(recipients[n]!.xwingSecretKey), publicKey: hex(recipients[n]!.publicKey.publicKey) })),
    vectors,
    negative,
  };
}
