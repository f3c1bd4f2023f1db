/**
 * @packageDocumentation
 * The decentralised trust authority (D-TA) of Milagro: realms whose master secret exists only as
 * Shamir shares held by several D-TAs (joint-Feldman DKG over `@milagro/messaging`), M-Pin share
 * issuance authorised by grants the realm's MFA service signs, time permits within a horizon,
 * revocation, server-secret shares to the MFA service only, and fiduciary orders (safeguarded
 * secrets, 2-party bitcoin keys) redeemed once by a signed request. Specified in docs/specs/dta.md.
 *
 * ```ts
 * import { DtaNode, createDtaApi, fiduciaryPlugins } from '@milagro/dta';
 * import { createHttpServer } from '@milagro/http';
 *
 * const node = await DtaNode.open({ identity, keyStore, store, resolver, messenger, db, backend,
 *   trustedProposers: [otherDta], plugins: fiduciaryPlugins({ 'safeguard-secret': true }) });
 * const server = createHttpServer({ apis: [createDtaApi(node, { adminToken })] });
 * await server.listen({ port: 8080 });
 * ```
 */
export { DtaError, isDtaError, type DtaErrorCode } from './errors.js';
export type { ActiveRealm, MasterShare, RealmDefinition, RealmDirectory } from './realm-directory.js';

// The node and its HTTP routes.
export { DtaNode, type DtaNodeEvent, type DtaNodeOptions } from './dta-node.js';
export { createDtaApi, dtaErrorMapper, type DtaApiOptions, type DtaServices } from './dta-api.js';

// Realms: DKG over messaging, master-secret shares.
export { RealmService, masterShareLabel, type RealmServiceOptions, type RealmStatus, type ReshareRequest, type ResharingStatus, type RealmTransport, type RealmMessage, type RealmProtocolNotice } from './realm-service.js';
export { RealmRepository, type RealmState, type RealmRunResult } from './realm-repository.js';
export { REALM_MESSAGE_PREFIX } from './realm-protocol.js';

// Issuance: grants, shares, revocation, server-secret shares (and what the MFA side needs).
export { createGrant, decodeGrantToken, verifyGrant, GRANT_SIGNATURE_CONTEXT, type Grant, type GrantPurpose, type GrantToken, type CreateGrantOptions } from './grant.js';
export { IssuanceService, identityHash, type IssuanceServiceOptions, type ClientShareRequest, type ClientShareResult, type TimePermitShareRequest, type TimePermitShareResult, type ShareOrigin } from './issuance.js';
export { IssuanceRepository } from './issuance-repository.js';
export { openSealedShare, type SealedShare, type SealedShareBinding } from './sealed-share.js';
export { encodeRevocation, REVOCATION_MESSAGE_TYPE, type RevocationUpdate } from './revocation.js';
export {
  decodeServerShareMessage,
  encodeServerShareMessage,
  encodeServerShareRequest,
  SERVER_SHARE_MESSAGE_TYPE,
  SERVER_SHARE_REQUEST_TYPE,
  type ServerShareMessage,
} from './server-share.js';

// Fiduciary orders.
export * from './fiduciary/index.js';
