/**
 * @packageDocumentation
 * M-Pin zero-knowledge multi-factor authentication on BLS12-381.
 */
export { createSuite, DST_IDENTITY, DST_TIME_PERMIT, GROUP_ORDER, type MpinSuite, type MpinSuiteName, type MpinSuiteOptions } from './suite.js';
export { DST_FACTOR, factorScalar, type Factor } from './factors.js';
export { generateMasterShare, issueClientShare, issueServerShare, issueTimePermitShare } from './issuer.js';
export { combineClientSecret, combineServerSecret, combineTimePermit, type IndexedShare, type Shares } from './combination.js';
export {
  clientPass1,
  clientPass2,
  extractToken,
  ClientLoginState,
  type Challenge,
  type ClientKeyAgreement,
  type ClientLogin,
  type Pass1Message,
  type Pass2Result,
  type TokenExtraction,
} from './client.js';
export {
  createChallenge,
  createServerKey,
  verifyLogin,
  type ChallengeOptions,
  type LoginField,
  type LoginProof,
  type LoginVerdict,
  type ServerChallenge,
  type ServerKey,
} from './server.js';
export { verifyLoginWithKeyAgreement, type KeyAgreementProof, type KeyAgreementVerdict } from './server.js';
export { verifyLoginBatch } from './batch-verification.js';
export { sealShare, openSealedShare, SEALED_SHARE_INFO, type SealedShare, type SealedShareBinding } from './sealed-share.js';
