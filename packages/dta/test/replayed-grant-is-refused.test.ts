import { IssuanceRepository } from '../src/issuance-repository.js';
import { IssuanceService } from '../src/issuance.js';
import { createIssuanceWorld, encode, expectDtaError, REALM_ID, today, type IssuanceWorld } from './support/issuance-world.js';

// A grant authorises one issuance: its nonce is recorded in the D-TA's database before the share
// is computed, so a replay is refused by the same process, after a restart, by a second replica
// on the same database, and when the copies race.
describe('a replayed grant is refused', () => {
  let world: IssuanceWorld;
  const identity = encode('carol@example.org');

  beforeAll(async () => {
    world = await createIssuanceWorld();
  });
  afterAll(() => world.close());

  it('refuses the second use in the same process', async () => {
    const service = await world.service(0);
    const grant = await world.grant({ identity });
    await service.issueClientShare({ realmId: REALM_ID, grant, identity });
    await expectDtaError(service.issueClientShare({ realmId: REALM_ID, grant, identity }), 'GRANT_REPLAYED');
  });

  it('refuses a replayed time-permit grant too', async () => {
    const service = await world.service(0);
    const day = today();
    const grant = await world.grant({ identity, purpose: 'time-permit', day });
    await service.issueTimePermitShare({ realmId: REALM_ID, grant, identity, day });
    await expectDtaError(service.issueTimePermitShare({ realmId: REALM_ID, grant, identity, day }), 'GRANT_REPLAYED');
  });

  it('refuses it after the database is closed and reopened (a restart)', async () => {
    const grant = await world.grant({ identity, audience: 1 });
    const db = await world.openDatabase(1);
    const before = new IssuanceService({ realms: world.directories[1]!, repository: await IssuanceRepository.open(db), resolver: world.resolver, suite: world.suite });
    await before.issueClientShare({ realmId: REALM_ID, grant, identity });
    await db.close();
    const after = await world.service(1);
    await expectDtaError(after.issueClientShare({ realmId: REALM_ID, grant, identity }), 'GRANT_REPLAYED');
  });

  it('lets exactly one of two replicas sharing the database honour racing copies', async () => {
    const replicas = [await world.service(2), await world.service(2)];
    const grant = await world.grant({ identity, audience: 2 });
    const outcomes = await Promise.allSettled(
      [0, 1, 0, 1].map((r) => replicas[r]!.issueClientShare({ realmId: REALM_ID, grant, identity })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === 'rejected')) expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'GRANT_REPLAYED' });
  });

  it('keeps used nonces until well past their expiry, then prunes them', async () => {
    let now = Date.now();
    const service = await world.service(0, { now: () => now });
    const grant = await world.grant({ identity, lifetimeSeconds: 60 });
    await service.issueClientShare({ realmId: REALM_ID, grant, identity });
    expect(await service.pruneUsedGrants()).toBe(0);
    now += 61_000;
    expect(await service.pruneUsedGrants()).toBe(0); // expired, but replicas with lagging clocks may still accept it
    now += 3_600_000;
    expect(await service.pruneUsedGrants()).toBeGreaterThanOrEqual(1);
    // A pruned grant stays refused: it has expired.
    await expectDtaError(service.issueClientShare({ realmId: REALM_ID, grant, identity }), 'GRANT_EXPIRED');
  });
});
