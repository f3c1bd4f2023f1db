import { sha256 } from '@milagro/crypto';
import { encodeRevocation, REVOCATION_MESSAGE_TYPE, type RevocationUpdate } from '../src/revocation.js';
import type { IssuanceService } from '../src/issuance.js';
import { createIssuanceWorld, encode, expectDtaError, REALM_ID, today, type IssuanceWorld } from './support/issuance-world.js';

// The revocation list comes from the realm's MFA service only, over messaging (whose `from` is
// authenticated), applied once and in sequence order; revoked identities get neither client
// secrets nor time permits until reinstated.
describe('revoked identities get no shares', () => {
  let world: IssuanceWorld;
  let service: IssuanceService;
  const erin = encode('erin@example.org');
  const frank = encode('frank@example.org');
  const message = (update: Omit<RevocationUpdate, 'realm'>, from = world.mfa.id.toString()) => ({
    from,
    type: REVOCATION_MESSAGE_TYPE,
    body: encodeRevocation({ realm: REALM_ID, ...update }),
  });
  const clientShare = async (identity: Uint8Array): Promise<unknown> =>
    service.issueClientShare({ realmId: REALM_ID, grant: await world.grant({ identity }), identity });
  const permit = async (identity: Uint8Array): Promise<unknown> =>
    service.issueTimePermitShare({ realmId: REALM_ID, grant: await world.grant({ identity, purpose: 'time-permit', day: today() }), identity, day: today() });

  beforeAll(async () => {
    world = await createIssuanceWorld();
    service = await world.service(0);
  });
  afterAll(() => world.close());

  it('refuses client-secret and time-permit shares to a revoked identity (IDENTITY_REVOKED), others unaffected', async () => {
    await service.handleMessage(message({ seq: 1, revoke: [sha256(erin)], reinstate: [] }));
    expect(await service.isRevoked(REALM_ID, sha256(erin))).toBe(true);
    await expectDtaError(clientShare(erin), 'IDENTITY_REVOKED');
    await expectDtaError(permit(erin), 'IDENTITY_REVOKED');
    await expect(clientShare(frank)).resolves.toBeDefined();
  });

  it('issues again once the identity is reinstated', async () => {
    await service.handleMessage(message({ seq: 2, revoke: [], reinstate: [sha256(erin)] }));
    await expect(clientShare(erin)).resolves.toBeDefined();
    await expect(permit(erin)).resolves.toBeDefined();
  });

  it('refuses (NOT_AUTHORISED) and ignores a revocation list update from anyone but the MFA service', async () => {
    await expectDtaError(service.handleMessage(message({ seq: 10, revoke: [], reinstate: [sha256(erin)] }, world.stranger.id.toString())), 'NOT_AUTHORISED');
    await expectDtaError(service.handleMessage(message({ seq: 11, revoke: [sha256(frank)], reinstate: [] }, world.dtaIds[1]!)), 'NOT_AUTHORISED');
    expect(await service.isRevoked(REALM_ID, sha256(frank))).toBe(false);
    await expect(clientShare(frank)).resolves.toBeDefined();
  });

  it('ignores an update whose seq is not newer, so a redelivered or stale update changes nothing', async () => {
    await service.handleMessage(message({ seq: 3, revoke: [sha256(frank)], reinstate: [] }));
    await service.handleMessage(message({ seq: 2, revoke: [], reinstate: [sha256(frank)] })); // stale
    await service.handleMessage(message({ seq: 3, revoke: [], reinstate: [sha256(frank)] })); // same seq, other content
    expect(await service.isRevoked(REALM_ID, sha256(frank))).toBe(true);
    await expectDtaError(clientShare(frank), 'IDENTITY_REVOKED');
  });

  it('keeps the list across a restart, and a redelivered old update still changes nothing', async () => {
    const restarted = await world.service(0);
    expect(await restarted.isRevoked(REALM_ID, sha256(frank))).toBe(true);
    await restarted.handleMessage(message({ seq: 2, revoke: [], reinstate: [sha256(frank)] }));
    expect(await restarted.isRevoked(REALM_ID, sha256(frank))).toBe(true);
  });

  it('refuses malformed updates and updates for unknown realms', async () => {
    const mfa = world.mfa.id.toString();
    await expectDtaError(service.handleMessage({ from: mfa, type: REVOCATION_MESSAGE_TYPE, body: new Uint8Array([0xa0]) }), 'INVALID_REQUEST');
    expect(() => encodeRevocation({ realm: REALM_ID, seq: 5, revoke: [sha256(erin)], reinstate: [sha256(erin)] })).toThrow(/twice/);
    const other = { from: mfa, type: REVOCATION_MESSAGE_TYPE, body: encodeRevocation({ realm: 'other', seq: 1, revoke: [], reinstate: [] }) };
    await expectDtaError(service.handleMessage(other), 'NOT_FOUND');
  });
});
