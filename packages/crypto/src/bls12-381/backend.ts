/**
 * The BLS12-381 group backend: everything a protocol's hot path needs (decode with full
 * validation, hash to G1/G2, add, multiply, pairing-product check), behind one interface so the
 * same protocol code runs on pure-JS `@noble/curves` (default, audited, runs in browsers) or on
 * `mcl-wasm` (server throughput). Points are opaque to callers: a backend's points are only ever
 * passed back to the same backend. Both backends must agree bit for bit on every encoding.
 */
export interface Bls12381Backend<G1 = unknown, G2 = unknown, PreparedG2 = unknown> {
  /** `'noble'` or `'mcl'`. */
  readonly name: string;
  readonly g1: GroupOps<G1>;
  readonly g2: GroupOps<G2>;
  /**
   * Precompute a G2 point's Miller-loop lines for repeated pairings against it (e.g. a server
   * key). Prepared points are plain JS data: keep them as long as needed, no disposal required.
   */
  prepareG2(point: G2): PreparedG2;
  /**
   * True iff the product of e(P_i, Q_i) over all pairs is the identity in GT.
   * Every P_i and Q_i must already be validated (they are, when they came from `decode`/`hash`).
   * Terms with a point at infinity contribute 1, as in the algebra; the empty product is 1.
   * Callers that must refuse infinity do so when decoding (the default).
   */
  pairingProductIsOne(pairs: ReadonlyArray<readonly [G1, PreparedG2]>): boolean;
  /**
   * The product of e(P_i, Q_i) as the canonical 576-byte GT encoding (for KDF input and tests):
   * noble's `Fp12.toBytes`, i.e. the twelve Fp coefficients big-endian, 48 bytes each, in tower
   * order c0.c0.c0, c0.c0.c1, c0.c1.c0, …, c1.c2.c1 (Fp2 real part first). Same conventions as
   * {@link pairingProductIsOne}.
   */
  pairingProduct(pairs: ReadonlyArray<readonly [G1, PreparedG2]>): Uint8Array;
}

/** Operations on one prime-order group (G1 or G2) of BLS12-381. */
export interface GroupOps<P> {
  /** Generator. */
  readonly base: P;
  /** Point at infinity. */
  readonly zero: P;
  /** Length of the compressed encoding (48 for G1, 96 for G2). */
  readonly compressedLength: number;
  /**
   * Decode a compressed (ZCash/IETF) or uncompressed encoding and validate it completely:
   * length, flags, canonical coordinates, on-curve, prime-order subgroup, and not infinity
   * unless `allowInfinity`. Throws `CryptoError` with a precise code otherwise.
   */
  decode(bytes: Uint8Array, options?: { allowInfinity?: boolean }): P;
  /** Compressed encoding by default (ZCash/IETF format). */
  encode(point: P, options?: { compressed?: boolean }): Uint8Array;
  /** RFC 9380 hash_to_curve (random oracle, `_RO_` suites) with the caller's domain separation tag. */
  hash(message: Uint8Array, dst: string | Uint8Array): P;
  add(a: P, b: P): P;
  negate(a: P): P;
  /** Scalar multiplication; `scalar` is reduced mod r and may be 0. Constant-time where the backend allows. */
  multiply(point: P, scalar: bigint): P;
  /**
   * Scalar multiplication whose timing may depend on `scalar`: only for scalars that are public
   * (a verifier's challenge, a public batching exponent). `scalar` is reduced mod r and may be 0.
   */
  multiplyPublic(point: P, scalar: bigint): P;
  /**
   * Σ scalars[i]·points[i] by multi-scalar multiplication (variable time, public scalars only):
   * much cheaper than n separate multiplications. Empty input gives the identity.
   * @throws CryptoError `INVALID_ARGUMENT` when the two arrays differ in length.
   */
  multiplySum(points: readonly P[], scalars: readonly bigint[]): P;
  equals(a: P, b: P): boolean;
  isZero(a: P): boolean;
}
