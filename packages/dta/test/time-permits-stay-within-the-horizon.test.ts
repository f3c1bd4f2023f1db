import type { IssuanceService } from '../src/issuance.js';
import { createIssuanceWorld, DAY_MS, encode, expectDtaError, REALM_ID, today, type IssuanceWorld } from './support/issuance-world.js';

// Time permits are issued for days in [today − 1, today + horizon] only (the Python D-TA issued
// them for any future day), and only with a time-permit grant for that very day.
describe('time permits stay within the horizon', () => {
  let world: IssuanceWorld;
  let service: IssuanceService;
  // Mid-day, so that a test running across midnight does not change "today".
  const now = (today() + 0.5) * DAY_MS;
  const identity = encode('dave@example.org');
  const permit = async (day: number, grantDay = day): Promise<unknown> =>
    service.issueTimePermitShare({
      realmId: REALM_ID,
      grant: await world.grant({ identity, purpose: 'time-permit', day: grantDay, now: () => now }),
      identity,
      day,
    });

  beforeAll(async () => {
    world = await createIssuanceWorld();
    service = await world.service(0, { now: () => now });
  });
  afterAll(() => world.close());

  it('issues permits for yesterday, today and the last day of the horizon', async () => {
    const horizon = world.definition.permitHorizonDays;
    for (const day of [today(now) - 1, today(now), today(now) + horizon]) {
      await expect(permit(day)).resolves.toMatchObject({ day, index: 1n });
    }
  });

  it('refuses a day past the horizon (PERMIT_BEYOND_HORIZON), even with a grant for it', async () => {
    await expectDtaError(permit(today(now) + world.definition.permitHorizonDays + 1), 'PERMIT_BEYOND_HORIZON');
  });

  it('refuses a day before yesterday (PERMIT_BEYOND_HORIZON)', async () => {
    await expectDtaError(permit(today(now) - 2), 'PERMIT_BEYOND_HORIZON');
  });

  it('refuses a grant for another day (GRANT_INVALID) and a client-secret grant (GRANT_INVALID)', async () => {
    await expectDtaError(permit(today(now), today(now) + 1), 'GRANT_INVALID');
    const grant = await world.grant({ identity, now: () => now });
    await expectDtaError(service.issueTimePermitShare({ realmId: REALM_ID, grant, identity, day: today(now) }), 'GRANT_INVALID');
  });

  it('refuses a day that is not a day number (INVALID_REQUEST)', async () => {
    const grant = await world.grant({ identity, purpose: 'time-permit', day: today(now), now: () => now });
    for (const day of [0, -1, 1.5, 2 ** 32]) {
      await expectDtaError(service.issueTimePermitShare({ realmId: REALM_ID, grant, identity, day }), 'INVALID_REQUEST');
    }
  });
});
