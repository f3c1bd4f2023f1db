/**
 * @packageDocumentation
 * Cryptographic suites for Milagro over audited libraries (`@noble/*`, `@hpke/*`, `node:crypto`).
 */
export { CryptoError, isCryptoError, type CryptoErrorCode } from './errors.js';
export type { Bls12381Backend, GroupOps } from './bls12-381/backend.js';
export { nobleBackend, type NobleG1, type NobleG2 } from './bls12-381/noble.js';
