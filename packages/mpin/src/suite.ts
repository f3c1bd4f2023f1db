/**
 * An M-Pin suite binds a BLS12-381 backend (noble or mcl-wasm) to a codec: how identities and
 * time permits are hashed to G1, and how points and scalars travel as bytes. All protocol code
 * takes a suite, so the same code runs on either backend and in either codec.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { CryptoError, nobleBackend, type Bls12381Backend } from '@milagro/crypto';
import {
  MILAGRO_FIELD_BYTES,
  milagroG1FromStandard,
  milagroG1ToStandard,
  milagroG2FromStandard,
  milagroG2ToStandard,
  milagroHash,
  milagroMapToG1,
} from './milagro-v3-codec.js';

/** Order r of G1, G2 and GT. */
export const GROUP_ORDER = bls12_381.fields.Fr.ORDER;

/** Prefix of every domain separation tag of the modern suite (RFC 9380 §3.1 naming). */
export const MODERN_DST_PREFIX = 'MILAGRO-MPIN-V1-CS01-with-BLS12381G1_XMD:SHA-256_SSWU_RO_';
/** DST of H(ID), the identity point. */
export const DST_IDENTITY = `${MODERN_DST_PREFIX}IDENTITY_`;
/** DST of H_permit(day, ID), the time-permit point. */
export const DST_TIME_PERMIT = `${MODERN_DST_PREFIX}TIME-PERMIT_`;

/** The codecs: `modern` (RFC 9380 hashing, compressed standard encodings) or Milagro's `milagro-v3`. */
export type MpinSuiteName = 'modern' | 'milagro-v3';

/** Options of {@link createSuite}. */
export interface MpinSuiteOptions<G1 = unknown, G2 = unknown, P = unknown> {
  /** Codec; `'modern'` by default. */
  suite?: MpinSuiteName;
  /** BLS12-381 backend; `nobleBackend` by default. */
  backend?: Bls12381Backend<G1, G2, P>;
  /** PIN length in decimal digits, 4 to 8; 4 by default (Milagro's MAXPIN = 10000). */
  pinDigits?: number;
}

/**
 * A codec bound to a backend. Points are the backend's opaque points; every decoder validates
 * completely (length, canonical form, curve, prime-order subgroup, not infinity).
 */
export interface MpinSuite<G1 = unknown, G2 = unknown, P = unknown> {
  readonly name: MpinSuiteName;
  readonly backend: Bls12381Backend<G1, G2, P>;
  /** PIN length in digits; PINs are integers in [0, 10^pinDigits). */
  readonly pinDigits: number;
  /** Encoded lengths: G1 (48 or 97), G2 (96 or 192), scalars (32 or 48). */
  readonly g1Length: number;
  readonly g2Length: number;
  readonly scalarLength: number;
  /** H(ID): the identity's point in G1. */
  hashIdentity(identity: Uint8Array): G1;
  /** H_permit(day, ID): the point a time permit for `day` (days since 1970-01-01 UTC) is issued on. */
  hashTimePermit(day: number, identity: Uint8Array): G1;
  encodeG1(point: G1): Uint8Array;
  decodeG1(bytes: Uint8Array): G1;
  encodeG2(point: G2): Uint8Array;
  decodeG2(bytes: Uint8Array): G2;
  /** Fixed-length big-endian; `value` must be in [0, r). */
  encodeScalar(value: bigint): Uint8Array;
  /** Rejects wrong lengths (`INVALID_LENGTH`) and values ≥ r (`INVALID_SCALAR`); zero is allowed. */
  decodeScalar(bytes: Uint8Array): bigint;
}

/** Checks that a day number fits the 4-byte encoding both codecs use. */
export function assertDay(day: number): void {
  if (!Number.isSafeInteger(day) || day <= 0 || day > 0xffffffff) {
    throw new CryptoError('INVALID_ARGUMENT', 'day must be an integer in [1, 2^32)');
  }
}

/**
 * Bind a codec to a backend.
 *
 * @example
 * const suite = createSuite();                                    // modern, noble, 4-digit PINs
 * const v3 = createSuite({ suite: 'milagro-v3', backend: await createMclBackend() });
 */
export function createSuite<G1 = unknown, G2 = unknown, P = unknown>(
  options: MpinSuiteOptions<G1, G2, P> = {},
): MpinSuite<G1, G2, P> {
  const backend = (options.backend ?? nobleBackend) as Bls12381Backend<G1, G2, P>;
  const pinDigits = options.pinDigits ?? 4;
  if (!Number.isInteger(pinDigits) || pinDigits < 4 || pinDigits > 8) {
    throw new CryptoError('INVALID_ARGUMENT', 'pinDigits must be an integer from 4 to 8');
  }
  const name = options.suite ?? 'modern';
  if (name === 'modern') return modernSuite(backend, pinDigits);
  if (name === 'milagro-v3') return milagroV3Suite(backend, pinDigits);
  throw new CryptoError('INVALID_ARGUMENT', 'unknown M-Pin suite');
}

function scalarCodec(length: number): Pick<MpinSuite, 'encodeScalar' | 'decodeScalar'> {
  return {
    encodeScalar(value) {
      if (value < 0n || value >= GROUP_ORDER) throw new CryptoError('INVALID_SCALAR', 'scalar out of range');
      return numberToBytesBE(value, length);
    },
    decodeScalar(bytes) {
      if (bytes.length !== length) throw new CryptoError('INVALID_LENGTH', `scalar must be ${length} bytes, got ${bytes.length}`);
      const value = bytesToNumberBE(bytes);
      if (value >= GROUP_ORDER) throw new CryptoError('INVALID_SCALAR', 'scalar is not below the group order');
      return value;
    },
  };
}

function modernSuite<G1, G2, P>(backend: Bls12381Backend<G1, G2, P>, pinDigits: number): MpinSuite<G1, G2, P> {
  const { g1, g2 } = backend;
  return {
    name: 'modern',
    backend,
    pinDigits,
    g1Length: g1.compressedLength,
    g2Length: g2.compressedLength,
    scalarLength: 32,
    hashIdentity: (identity) => g1.hash(identity, DST_IDENTITY),
    hashTimePermit(day, identity) {
      assertDay(day);
      const message = new Uint8Array(4 + identity.length);
      message.set(numberToBytesBE(BigInt(day), 4));
      message.set(identity, 4);
      return g1.hash(message, DST_TIME_PERMIT);
    },
    encodeG1: (point) => g1.encode(point, { compressed: true }),
    decodeG1(bytes) {
      // Compressed only: one canonical encoding per point keeps transcripts unambiguous.
      if (bytes.length !== g1.compressedLength) throw new CryptoError('INVALID_LENGTH', `G1 point must be ${g1.compressedLength} bytes`);
      return g1.decode(bytes);
    },
    encodeG2: (point) => g2.encode(point, { compressed: true }),
    decodeG2(bytes) {
      if (bytes.length !== g2.compressedLength) throw new CryptoError('INVALID_LENGTH', `G2 point must be ${g2.compressedLength} bytes`);
      return g2.decode(bytes);
    },
    ...scalarCodec(32),
  };
}

function milagroV3Suite<G1, G2, P>(backend: Bls12381Backend<G1, G2, P>, pinDigits: number): MpinSuite<G1, G2, P> {
  const { g1, g2 } = backend;
  const mapToPoint = (h: Uint8Array): G1 => g1.decode(milagroMapToG1(h));
  return {
    name: 'milagro-v3',
    backend,
    pinDigits,
    g1Length: 1 + 2 * MILAGRO_FIELD_BYTES,
    g2Length: 4 * MILAGRO_FIELD_BYTES,
    scalarLength: MILAGRO_FIELD_BYTES,
    hashIdentity: (identity) => mapToPoint(milagroHash(0, identity)),
    // Milagro hashes the date with the identity's hash, not with the identity itself.
    hashTimePermit(day, identity) {
      assertDay(day);
      return mapToPoint(milagroHash(day, milagroHash(0, identity)));
    },
    encodeG1: (point) => milagroG1FromStandard(g1.encode(point, { compressed: false })),
    decodeG1: (bytes) => g1.decode(milagroG1ToStandard(bytes)),
    encodeG2: (point) => milagroG2FromStandard(g2.encode(point, { compressed: false })),
    decodeG2: (bytes) => g2.decode(milagroG2ToStandard(bytes)),
    ...scalarCodec(MILAGRO_FIELD_BYTES),
  };
}
