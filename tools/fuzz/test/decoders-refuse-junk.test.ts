/**
 * Issue 12, hostile input: every decoder of bytes that arrive from the network (envelopes, identity
 * documents, messaging frames, D-TA protocol messages, grants, DKG messages, login proofs) refuses
 * junk with its package's typed error and never with anything else (a TypeError, a RangeError, an
 * out-of-memory). Junk is random bytes, random DAG-CBOR values (past the CBOR parser, into the
 * field checks), and truncations and bit flips of both. FUZZ_DECODER_RUNS sets the cases per
 * decoder (default 700: about 10,000 cases over the decoders below).
 */
import * as dagCbor from '@ipld/dag-cbor';
import { createMclBackend, decodeDkgMessage, decodeResharingMessage, isCryptoError, nobleBackend, decodeCommitments } from '@milagro/crypto';
import { decodeGrantToken, decodeServerShareMessage, isDtaError } from '@milagro/dta';
import { decodeEnvelope, isEnvelopeError } from '@milagro/envelope';
import { createServerKey, createSuite, verifyLogin } from '@milagro/mpin';
import { decodeIdentityDocument, isPkiError } from '@milagro/pki';
import fc from 'fast-check';
import { decodeRealmConfirmation, decodeRealmDefinition, decodeRealmProposal, decodeRealmRoundBundle } from '../../../packages/dta/src/realm-protocol.js';
import { decodeRevocation } from '../../../packages/dta/src/revocation.js';
import { decodeServerShareRequest } from '../../../packages/dta/src/server-share.js';
import { FrameError, decodeFrame } from '../../../packages/messaging/src/wire.js';

const RUNS = Number(process.env.FUZZ_DECODER_RUNS ?? 700);

/** A DAG-CBOR-encodable value: maps with text keys, lists, byte strings, text, integers, booleans, null. */
const cborValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 40 }),
    fc.constantFrom('v', 'type', 'version', 'prev', 'from', 'to', 'realm', 'epoch', 'index', 'members', 'threshold', 'sig', 'signature', 'keys', 'body'),
    fc.uint8Array({ maxLength: 120 }),
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('v', 'type', 'kind', 'realm', 'epoch', 'from', 'to', 'payload', 'body', 'sig', 'keys', 'prev', 'nonce', 'day', 'identity')), tie('value'), { maxKeys: 8 }),
  ),
})).value;

/** Bytes a decoder might be fed: random, CBOR of random values, and damaged versions of both. */
const junk: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      cborValue.map((value) => {
        try {
          return dagCbor.encode(value);
        } catch {
          return new Uint8Array([0xa0]);
        }
      }),
    ),
    fc.oneof(
      fc.constant<(b: Uint8Array) => Uint8Array>((b) => b),
      fc.nat().map((n) => (b: Uint8Array) => b.subarray(0, b.length === 0 ? 0 : n % b.length)),
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map(([n, bit]) => (b: Uint8Array) => {
        const copy = b.slice();
        if (copy.length > 0) copy[n % copy.length]! ^= 1 << bit;
        return copy;
      }),
    ),
  )
  .map(([bytes, damage]) => damage(bytes));

interface Decoder {
  readonly name: string;
  readonly decode: (bytes: Uint8Array) => unknown;
  readonly typed: (error: unknown) => boolean;
}

const decoders: Decoder[] = [
  { name: 'decodeEnvelope', decode: decodeEnvelope, typed: (e) => isEnvelopeError(e) },
  { name: 'decodeIdentityDocument', decode: decodeIdentityDocument, typed: (e) => isPkiError(e) },
  { name: 'decodeFrame (messaging)', decode: decodeFrame, typed: (e) => e instanceof FrameError },
  { name: 'decodeGrantToken', decode: decodeGrantToken, typed: (e) => isDtaError(e) },
  { name: 'decodeRealmDefinition', decode: decodeRealmDefinition, typed: (e) => isDtaError(e) },
  { name: 'decodeRealmProposal', decode: decodeRealmProposal, typed: (e) => isDtaError(e) },
  { name: 'decodeRealmRoundBundle', decode: decodeRealmRoundBundle, typed: (e) => isDtaError(e) },
  { name: 'decodeRealmConfirmation', decode: decodeRealmConfirmation, typed: (e) => isDtaError(e) },
  { name: 'decodeRevocation', decode: decodeRevocation, typed: (e) => isDtaError(e) },
  { name: 'decodeServerShareMessage', decode: decodeServerShareMessage, typed: (e) => isDtaError(e) },
  { name: 'decodeServerShareRequest', decode: decodeServerShareRequest, typed: (e) => isDtaError(e) },
  { name: 'decodeDkgMessage', decode: decodeDkgMessage, typed: (e) => isCryptoError(e) },
  { name: 'decodeResharingMessage', decode: decodeResharingMessage, typed: (e) => isCryptoError(e) },
  { name: 'decodeCommitments (G1, noble)', decode: (b) => decodeCommitments(nobleBackend.g1, b), typed: (e) => isCryptoError(e) },
];

describe('decoders of network bytes refuse junk with their typed error', () => {
  it.each(decoders.map((d) => [d.name, d] as const))('%s', (_name, decoder) => {
    fc.assert(
      fc.property(junk, (bytes) => {
        try {
          decoder.decode(bytes);
        } catch (error) {
          if (!decoder.typed(error)) throw new Error(`untyped failure ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('verifyLogin (mcl-wasm) answers junk points and scalars with a verdict, never a throw', async () => {
    const suite = createSuite({ backend: await createMclBackend() });
    const key = createServerKey(suite, suite.backend.g2.encode(suite.backend.g2.base));
    fc.assert(
      fc.property(junk, junk, junk, fc.uint8Array({ maxLength: 64 }), fc.option(fc.integer({ min: -5, max: 40_000 })), (u, v, y, identity, day) => {
        const verdict = verifyLogin(key, { identity, u, v, y, ...(day === null ? {} : { day, ut: u }) });
        expect(verdict.ok).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });
});
