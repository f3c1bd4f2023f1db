/**
 * Deterministic test identities: ids, X-Wing and composite keys derived from names, so tests
 * and vectors never depend on a random draw.
 */
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import * as Digest from 'multiformats/hashes/digest';
import { compositeKeyPairFromSeed, sha256, xwingKeyPairFromSeed, XWingDecapsulationKey } from '@milagro/crypto';
import { compositeSigner, xwingRecipientKey, type EnvelopeRecipientKey, type EnvelopeSigner, type RecipientPublicKey, type SenderPublicKey } from '../src/index.js';

const encoder = new TextEncoder();

/** Seed of `purpose` for `name`: SHA-256("milagro envelope test/" ‖ purpose ‖ "/" ‖ name). */
export function seedOf(purpose: string, name: string): Uint8Array {
  return sha256(encoder.encode(`milagro envelope test/${purpose}/${name}`));
}

/** A stand-in identity id: the CIDv1 (dag-cbor, sha2-256) of `{name}`. */
export function identityId(name: string): string {
  const bytes = dagCbor.encode({ name });
  return CID.createV1(0x71, Digest.create(0x12, sha256(bytes))).toString();
}

export interface TestRecipient {
  readonly name: string;
  readonly id: string;
  readonly xwingSecretKey: Uint8Array;
  readonly publicKey: RecipientPublicKey;
  readonly key: EnvelopeRecipientKey;
}

export interface TestSender {
  readonly name: string;
  readonly id: string;
  readonly compositeSecretKey: Uint8Array;
  readonly publicKey: SenderPublicKey;
  readonly signer: EnvelopeSigner;
}

export function testRecipient(name: string): TestRecipient {
  const id = identityId(name);
  const seed = seedOf('x-wing', name);
  const key = XWingDecapsulationKey.fromSecretKey(seed);
  return { name, id, xwingSecretKey: seed, publicKey: { id, publicKey: key.publicKey }, key: xwingRecipientKey(id, key) };
}

export function testRecipients(prefix: string, count: number): TestRecipient[] {
  return Array.from({ length: count }, (_, i) => testRecipient(`${prefix}-${i}`));
}

/** Public halves only, derived faster: the X-Wing key pair from its seed. */
export function recipientPublicKey(name: string): RecipientPublicKey {
  return { id: identityId(name), publicKey: xwingKeyPairFromSeed(seedOf('x-wing', name)).publicKey };
}

export function testSender(name: string): TestSender {
  const id = identityId(name);
  const pair = compositeKeyPairFromSeed(seedOf('composite', name));
  return { name, id, compositeSecretKey: pair.secretKey, publicKey: { id, publicKey: pair.publicKey }, signer: compositeSigner(id, pair.secretKey) };
}

/** Deterministic bytes: SHA-256 counter mode over a label (test data, not a DRBG for keys). */
export function fixedBytes(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const base = encoder.encode(label);
  for (let block = 0, offset = 0; offset < length; block++, offset += 32) {
    const input = new Uint8Array(base.length + 4);
    input.set(base);
    new DataView(input.buffer).setUint32(base.length, block);
    out.set(sha256(input).subarray(0, Math.min(32, length - offset)), offset);
  }
  return out;
}

/** Expects `promise` to reject with an EnvelopeError of one of `codes`; returns the code. */
export async function rejectsWith(promise: Promise<unknown> | (() => unknown), ...codes: string[]): Promise<string> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (err) {
    const e = err as { name?: string; code?: string };
    if (e?.name !== 'EnvelopeError' || e.code === undefined || !codes.includes(e.code)) {
      throw new Error(`expected EnvelopeError ${codes.join('|')}, got ${String((err as Error)?.stack ?? err)}`, { cause: err });
    }
    return e.code;
  }
  throw new Error(`expected EnvelopeError ${codes.join('|')}, but it succeeded`);
}
