/**
 * @packageDocumentation
 * Cryptographic suites for Milagro over audited libraries (`@noble/*`, `@hpke/*`, `node:crypto`).
 */
export { CryptoError, isCryptoError, type CryptoErrorCode } from './errors.js';
export type { Bls12381Backend, GroupOps } from './bls12-381/backend.js';
export { nobleBackend, type NobleG1, type NobleG2, type NoblePreparedG2 } from './bls12-381/noble.js';
export { createMclBackend, type MclG1, type MclG2, type MclPreparedG2 } from './bls12-381/mcl.js';
export { SCALAR_ORDER, SCALAR_LENGTH, randomScalar, encodeScalar, decodeScalar, hashToScalar } from './bls12-381/scalar.js';
export { createBlsSignatures, BLS_SIGNATURE_CIPHERSUITE, BLS_POP_CIPHERSUITE, type BlsSignatures, type PartialSignature } from './bls12-381/bls-signature.js';

// Secret sharing: Shamir, Lagrange (scalars and in the exponent), Feldman VSS, joint-Feldman DKG, resharing.
export { lagrangeCoefficients, interpolateScalar, interpolateInExponent, type ScalarShare, type PointShare } from './sharing/lagrange.js';
export { splitSecret, combineShares, splitAdditive, combineAdditive, type SharingParameters } from './sharing/shamir.js';
export { dealShares, verifyShare, assertShareValid, publicShare, encodeCommitments, decodeCommitments, type FeldmanDealing } from './sharing/feldman.js';
export { DkgParticipant, type DkgParameters, type DkgResult, type DkgRound1Output, type DkgPhase, type DkgDisqualification, type DkgDisqualificationReason } from './sharing/dkg.js';
export { encodeDkgMessage, decodeDkgMessage, MAX_DKG_PARTICIPANTS, type DkgMessage, type DkgDealing, type DkgPrivateShare, type DkgComplaint, type DkgJustification } from './sharing/dkg-messages.js';
export { ResharingParticipant, type ResharingParameters, type ResharingRole, type ResharingResult, type ResharingRound1Output, type ResharingPhase, type ResharingDisqualification, type ResharingDisqualificationReason } from './sharing/resharing.js';
export { encodeResharingMessage, decodeResharingMessage, type ResharingMessage, type ResharingDealing, type ResharingPrivateShare, type ResharingComplaint, type ResharingJustification } from './sharing/dkg-messages.js';

// Symmetric encryption: AES-256-GCM and the chunked STREAM construction.
export { aesGcmEncrypt, aesGcmDecrypt, aesGcmBackends, AES_GCM_KEY_LENGTH, AES_GCM_NONCE_LENGTH, AES_GCM_TAG_LENGTH, type AesGcmBackend, type AesGcmOptions } from './aead.js';
export { encryptStream, decryptStream, createEncryptStream, createDecryptStream, encryptChunks, decryptChunks, sealedStreamLength, STREAM_HEADER_LENGTH, STREAM_MIN_CHUNK_SIZE, STREAM_MAX_CHUNK_SIZE, STREAM_DEFAULT_CHUNK_SIZE, type EncryptStreamOptions, type DecryptStreamOptions, type ByteSource } from './stream.js';

// Hashes, randomness, comparison, encodings.
export { sha256, createSha256, sha512, sha3_256, hmac, hkdf, hkdfExtract, hkdfExpand, type HashName, type Sha256Hash } from './hash.js';
export { randomBytes } from './random.js';
export { constantTimeEqual } from './constant-time.js';
export { bytesToHex, hexToBytes, bytesToBase64url, base64urlToBytes, bytesToMultibase, multibaseToBytes, utf8ToBytes, bytesToUtf8, concatBytes, type MultibaseName } from './encoding.js';

// Identity signatures and key encapsulation: composite Ed25519 + ML-DSA-65, X-Wing, HPKE (RFC 9180).
export { COMPOSITE_SIGNATURE_LENGTHS, compositeKeyPairFromSeed, generateCompositeKeyPair, compositeSign, compositeSignWith, compositeVerify, type CompositeComponentSigners, type CompositeKeyPair } from './composite-signature.js';
export { ML_DSA_65_LENGTHS, mlDsa65Backend, mlDsa65PublicKey, mlDsa65Sign, mlDsa65Verify, type MlDsaBackendName } from './ml-dsa.js';
export { XWING_LENGTHS, XWingDecapsulationKey, xwingKeyPairFromSeed, generateXWingKeyPair, xwingEncapsulate, xwingDecapsulate, type XWingKeyPair, type XWingEncapsulation, type XWingDecapsulator } from './xwing.js';
export { hpkeSeal, hpkeSealToMany, type HpkeOptions, type HpkeSealed } from './hpke/seal.js';
export { hpkeOpen } from './hpke/open.js';
export { HPKE_DEFAULT_SUITE, type HpkeSuiteName, type HpkeRecipientKey } from './hpke/suite.js';
