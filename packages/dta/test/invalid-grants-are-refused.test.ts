import * as dagCbor from '@ipld/dag-cbor';
import { compositeSign, generateCompositeKeyPair } from '@milagro/crypto';
import { PkiError, revokeIdentity } from '@milagro/pki';
import { decodeGrantToken, encodeGrantToken, verifyGrant, type GrantSigner, type SigningKeyResolver } from '../src/grant.js';
import type { IssuanceService } from '../src/issuance.js';
import { createIssuanceWorld, encode, expectDtaError, REALM_ID, type IssuanceWorld } from './support/issuance-world.js';

// Every way a grant can be wrong, each refused with its own code, and none of them consumes the
// nonce of a genuine grant.
describe('a D-TA refuses grants that are not valid for this issuance', () => {
  let world: IssuanceWorld;
  let service: IssuanceService;
  const identity = encode('bob@example.org');
  const issue = (grant: Uint8Array, who = identity): Promise<unknown> => service.issueClientShare({ realmId: REALM_ID, grant, identity: who });

  beforeAll(async () => {
    world = await createIssuanceWorld();
    service = await world.service(0);
  });
  afterAll(() => world.close());

  it('refuses an expired grant (GRANT_EXPIRED)', async () => {
    const grant = await world.grant({ identity, lifetimeSeconds: 60, now: () => Date.now() - 61_000 });
    await expectDtaError(issue(grant), 'GRANT_EXPIRED');
  });

  it("refuses a grant that lives longer than the realm's limit (GRANT_INVALID)", async () => {
    const grant = await world.grant({ identity, lifetimeSeconds: world.definition.grantMaxLifetimeMinutes * 60 + 60 });
    await expectDtaError(issue(grant), 'GRANT_INVALID');
  });

  it('refuses a grant addressed to another D-TA (GRANT_WRONG_AUDIENCE)', async () => {
    await expectDtaError(issue(await world.grant({ audience: 1, identity })), 'GRANT_WRONG_AUDIENCE');
  });

  it('refuses a grant for another realm (GRANT_INVALID)', async () => {
    await expectDtaError(issue(await world.grant({ identity, realm: 'other' })), 'GRANT_INVALID');
  });

  it('refuses a time-permit grant for a client secret (GRANT_INVALID)', async () => {
    await expectDtaError(issue(await world.grant({ identity, purpose: 'time-permit', day: 20_000 })), 'GRANT_INVALID');
  });

  it('refuses a grant for another identity (GRANT_INVALID)', async () => {
    await expectDtaError(issue(await world.grant({ identity }), encode('mallory@example.org')), 'GRANT_INVALID');
  });

  it('refuses a grant signed by an identity that is not the MFA service, whatever issuer it names', async () => {
    // Signed by the stranger and naming the stranger: not the realm's MFA service.
    await expectDtaError(issue(await world.grant({ identity, signer: world.strangerSigner })), 'GRANT_INVALID');
    // Signed by the stranger's keys but naming the MFA service: the signature does not verify.
    const impostor: GrantSigner = { id: world.mfa.id.toString(), sign: (m, c) => world.strangerSigner.sign(m, c) };
    await expectDtaError(issue(await world.grant({ identity, signer: impostor })), 'GRANT_INVALID');
    // Signed by a key no identity document holds.
    const loose = generateCompositeKeyPair();
    const unknown: GrantSigner = { id: world.mfa.id.toString(), sign: async (m, c) => compositeSign(loose.secretKey, m, c) };
    await expectDtaError(issue(await world.grant({ identity, signer: unknown })), 'GRANT_INVALID');
  });

  it('refuses a tampered grant without burning its nonce; the genuine grant still works once', async () => {
    const genuine = await world.grant({ identity });
    const token = decodeGrantToken(genuine);
    const longer = encodeGrantToken({ grant: { ...token.grant, expires: token.grant.expires + 60 }, sig: token.sig });
    await expectDtaError(issue(longer), 'GRANT_INVALID');
    const flippedSig = token.sig.slice();
    flippedSig[10]! ^= 1;
    await expectDtaError(issue(encodeGrantToken({ grant: token.grant, sig: flippedSig })), 'GRANT_INVALID');
    const flippedByte = genuine.slice();
    flippedByte[40]! ^= 1;
    await expectDtaError(issue(flippedByte), 'GRANT_INVALID');
    await expect(issue(genuine)).resolves.toMatchObject({ realmId: REALM_ID });
    await expectDtaError(issue(genuine), 'GRANT_REPLAYED');
  });

  it('refuses malformed grant bytes (GRANT_INVALID)', async () => {
    await expectDtaError(issue(new Uint8Array([1, 2, 3])), 'GRANT_INVALID');
    await expectDtaError(issue(dagCbor.encode({ grant: {}, sig: new Uint8Array(3373) })), 'GRANT_INVALID');
  });

  it('answers DEPENDENCY_UNAVAILABLE, not GRANT_INVALID, while the issuer cannot be fetched; the grant works once it can', async () => {
    const grant = await world.grant({ identity });
    const verifyWith = (resolver: SigningKeyResolver): Promise<unknown> =>
      verifyGrant(grant, { realm: world.directories[0]!.realm, self: world.dtaIds[0]!, resolver, now: Date.now() });
    const unreachable: SigningKeyResolver = { resolve: () => Promise.reject(new PkiError('NOT_FOUND', 'document fetch timed out')) };
    const broken: SigningKeyResolver = { resolve: () => Promise.reject(new Error('blockstore closed')) };
    await expectDtaError(verifyWith(unreachable), 'DEPENDENCY_UNAVAILABLE');
    await expectDtaError(verifyWith(broken), 'DEPENDENCY_UNAVAILABLE');
    const forked: SigningKeyResolver = { resolve: () => Promise.reject(new PkiError('FORKED', 'two successors')) };
    await expectDtaError(verifyWith(forked), 'GRANT_INVALID');
    await expect(issue(grant)).resolves.toMatchObject({ realmId: REALM_ID });
  });

  it('refuses grants of an MFA service whose revocation the resolver has learned', async () => {
    const grant = await world.grant({ identity });
    const verify = (): Promise<unknown> =>
      verifyGrant(grant, { realm: world.directories[0]!.realm, self: world.dtaIds[0]!, resolver: world.resolver, now: Date.now() });
    await expect(verify()).resolves.toBeDefined();
    const { cid } = await revokeIdentity(world.mfa, { keyStore: world.keyStore, store: world.store });
    await expect(world.resolver.resolve(world.mfa.id, { heads: [cid] })).rejects.toMatchObject({ code: 'REVOKED' });
    await expectDtaError(verify(), 'GRANT_INVALID');
    await expectDtaError(issue(grant), 'GRANT_INVALID');
  });
});
