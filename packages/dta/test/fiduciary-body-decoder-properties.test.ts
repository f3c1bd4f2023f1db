/**
 * Properties of the fiduciary body decoders and plugin params parsers: any input either decodes or
 * is refused with `INVALID_REQUEST` (never another error, never a crash), and valid bodies round-trip.
 */
import * as dagCbor from '@ipld/dag-cbor';
import fc from 'fast-check';
import { isDtaError } from '../src/errors.js';
import { bitcoinAddressPlugin, safeguardSecretPlugin, type FiduciaryValue } from '../src/fiduciary/index.js';
import {
  decodeFulfilmentBody,
  decodeOrderBody,
  decodeRedemptionBody,
  decodeReleaseBody,
  encodeFulfilmentBody,
  encodeOrderBody,
  encodeRedemptionBody,
  encodeReleaseBody,
} from '../src/fiduciary/order-messages.js';

const RUNS = Number(process.env.DTA_FUZZ_RUNS ?? (process.env.CI ? 10_000 : 1_000));
const IDENTITY = 'bafyreig7uprjcupgce7e2vv4yfettuqw5bw4txivg7lb7w74y645qopesy';

const decoders = { order: decodeOrderBody, fulfilment: decodeFulfilmentBody, redemption: decodeRedemptionBody, release: decodeReleaseBody };

function decodesOrRefuses(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): void {
  try {
    decode(bytes);
  } catch (error) {
    if (!isDtaError(error, 'INVALID_REQUEST')) throw error;
  }
}

/** DAG-CBOR values without links or floats' edge cases that DAG-CBOR refuses. */
const plainValue: fc.Arbitrary<FiduciaryValue> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.string(),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 }),
  ),
})).value as fc.Arbitrary<FiduciaryValue>;

const reference = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64url'));
const plugin = fc.stringMatching(/^[a-z0-9-]{1,64}$/);

describe('fiduciary body decoders', () => {
  it.each(Object.entries(decoders))('%s: random bytes decode or are INVALID_REQUEST', (_name, decode) => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => decodesOrRefuses(decode, bytes)), { numRuns: RUNS });
  });

  it.each(Object.entries(decoders))('%s: any DAG-CBOR value decodes or is INVALID_REQUEST', (_name, decode) => {
    const bodyLike = fc.record(
      { v: fc.oneof(fc.constant(1), plainValue), plugin: fc.oneof(plugin, plainValue), reference: fc.oneof(reference, plainValue), beneficiary: fc.oneof(fc.constant(IDENTITY), plainValue), params: plainValue, commitment: plainValue, secret: plainValue, extra: plainValue },
      { requiredKeys: [] },
    );
    fc.assert(fc.property(fc.oneof(bodyLike, plainValue), (value) => decodesOrRefuses(decode, dagCbor.encode(value))), { numRuns: RUNS });
  });

  it('valid bodies round-trip', () => {
    fc.assert(
      fc.property(plugin, reference, plainValue, fc.boolean(), (name, ref, value, named) => {
        const beneficiary = named ? { beneficiary: IDENTITY } : {};
        expect(decodeOrderBody(encodeOrderBody({ plugin: name, params: value, ...beneficiary }))).toEqual({ v: 1, plugin: name, params: value, ...beneficiary });
        expect(decodeFulfilmentBody(encodeFulfilmentBody({ reference: ref, plugin: name, commitment: value }))).toEqual({ v: 1, reference: ref, plugin: name, commitment: value });
        expect(decodeRedemptionBody(encodeRedemptionBody({ reference: ref, ...beneficiary }))).toEqual({ v: 1, reference: ref, ...beneficiary });
        expect(decodeReleaseBody(encodeReleaseBody({ reference: ref, plugin: name, secret: value }))).toEqual({ v: 1, reference: ref, plugin: name, secret: value });
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a non-canonical encoding of a valid body', () => {
    const canonical = encodeRedemptionBody({ reference: 'A'.repeat(43) });
    // The same map with its keys out of DAG-CBOR order (shorter keys first: `v` before `reference`).
    const reordered = Uint8Array.from([0xa2, 0x69, ...Buffer.from('reference'), 0x78, 43, ...Buffer.from('A'.repeat(43)), 0x61, 0x76, 0x01]);
    expect(decodeRedemptionBody(canonical).reference).toBe('A'.repeat(43));
    expect(() => decodeRedemptionBody(reordered)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });
});

describe('plugin params parsers', () => {
  const plugins = [safeguardSecretPlugin(), bitcoinAddressPlugin({ network: 'mainnet' })];

  it.each(plugins.map((p) => [p.name, p] as const))('%s: any params value parses or is INVALID_REQUEST', (_name, p) => {
    const paramsLike = fc.oneof(
      plainValue,
      fc.record({ secret: fc.uint8Array({ maxLength: 9000 }) }),
      fc.record({ publicKey: fc.uint8Array({ minLength: 33, maxLength: 33 }) }),
      fc.record({ publicKey: fc.uint8Array({ minLength: 32, maxLength: 34 }), other: plainValue }),
    );
    fc.assert(
      fc.property(paramsLike, (params) => {
        try {
          p.parseParams(params as never);
        } catch (error) {
          if (!isDtaError(error, 'INVALID_REQUEST')) throw error;
        }
      }),
      { numRuns: RUNS },
    );
  });
});
