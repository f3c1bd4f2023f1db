import { XWingDecapsulationKey, generateXWingKeyPair, sha256 } from '@milagro/crypto';
import {
  clientPass1,
  clientPass2,
  combineClientSecret,
  combineServerSecret,
  combineTimePermit,
  createChallenge,
  createServerKey,
  extractToken,
  verifyLogin,
  type IndexedShare,
} from '@milagro/mpin';
import { openSealedShare } from '../src/sealed-share.js';
import { decodeServerShareMessage, SERVER_SHARE_MESSAGE_TYPE } from '../src/server-share.js';
import type { IssuanceService } from '../src/issuance.js';
import { createIssuanceWorld, encode, REALM_ID, today, type IssuanceWorld } from './support/issuance-world.js';

// Three D-TAs hold a 2-of-3 Shamir sharing of s. Any two issue shares that the client combines
// into s·H(ID) (and s·H_permit), the MFA service combines server shares into s·Q, and a real
// M-Pin login verifies: the whole issuance path proves the threshold maths in process.
describe('any two of three D-TAs issue a client secret that logs in against the combined server secret', () => {
  let world: IssuanceWorld;
  let services: IssuanceService[];
  const sent: Array<{ peer: string; type: string; body: Uint8Array }> = [];
  const identity = encode('alice@example.org');

  beforeAll(async () => {
    world = await createIssuanceWorld();
    const send = async (peer: string, message: { type: string; body: Uint8Array }): Promise<void> => {
      sent.push({ peer, ...message });
    };
    services = await Promise.all([0, 1, 2].map((i) => world.service(i, { send })));
  });
  afterAll(() => world.close());

  async function clientShares(pair: readonly number[]): Promise<IndexedShare[]> {
    return Promise.all(
      pair.map(async (i) => {
        const result = await services[i]!.issueClientShare({ realmId: REALM_ID, grant: await world.grant({ audience: i, identity }), identity });
        if (!('share' in result)) throw new Error('expected a clear share');
        expect(result).toMatchObject({ realmId: REALM_ID, epoch: 0, index: BigInt(i + 1) });
        return { index: result.index, share: result.share };
      }),
    );
  }

  async function serverSecret(pair: readonly number[]): Promise<Uint8Array> {
    sent.length = 0;
    for (const i of pair) await services[i]!.distributeServerShare(REALM_ID);
    expect(sent.map((m) => [m.peer, m.type])).toEqual(pair.map(() => [world.mfa.id.toString(), SERVER_SHARE_MESSAGE_TYPE]));
    const shares = sent.map((m) => decodeServerShareMessage(m.body));
    expect(shares.map((s) => s.index)).toEqual(pair.map((i) => BigInt(i + 1)));
    return combineServerSecret(world.suite, shares);
  }

  function login(clientSecret: Uint8Array, server: Uint8Array, timePermit?: { day: number; permit: Uint8Array }): ReturnType<typeof verifyLogin> {
    const factors = [{ pin: '2468' }];
    const token = extractToken(world.suite, { identity, clientSecret, factors });
    const { message, state } = clientPass1(world.suite, { identity, token, factors, timePermit });
    const { challenge, keep } = createChallenge(world.suite);
    const { v } = clientPass2(state, challenge);
    return verifyLogin(createServerKey(world.suite, server), { identity, ...message, v, y: keep.y, day: timePermit?.day });
  }

  it('combines shares of D-TAs 1 and 2 into a secret that verifies against the server secret of D-TAs 2 and 3', async () => {
    const secret = combineClientSecret(world.suite, await clientShares([0, 1]));
    expect(login(secret, await serverSecret([1, 2]))).toEqual({ ok: true });
  });

  it('gives the same client secret from every pair, and one D-TA alone is not enough', async () => {
    const secrets = await Promise.all([[0, 1], [0, 2], [1, 2]].map(async (pair) => combineClientSecret(world.suite, await clientShares(pair))));
    expect(secrets[1]).toEqual(secrets[0]);
    expect(secrets[2]).toEqual(secrets[0]);
    const [alone] = await clientShares([2]);
    expect(alone!.share).not.toEqual(secrets[0]);
    expect(login(alone!.share, await serverSecret([0, 1]))).toEqual({ ok: false, reason: 'rejected' });
  });

  it('combines time-permit shares into a permit the login accepts, for that day only', async () => {
    const day = today();
    const permitShares = await Promise.all(
      [0, 2].map(async (i) => {
        const grant = await world.grant({ audience: i, identity, purpose: 'time-permit', day });
        const result = await services[i]!.issueTimePermitShare({ realmId: REALM_ID, grant, identity, day });
        expect(result.day).toBe(day);
        return { index: result.index, share: result.share };
      }),
    );
    const permit = combineTimePermit(world.suite, permitShares);
    const secret = combineClientSecret(world.suite, await clientShares([1, 2]));
    const server = await serverSecret([0, 2]);
    expect(login(secret, server, { day, permit })).toEqual({ ok: true });
    expect(login(secret, server, { day: day + 1, permit })).toEqual({ ok: false, reason: 'rejected' });
  });

  it('seals shares to the key the client supplies; the opened shares combine like clear ones', async () => {
    const client = generateXWingKeyPair();
    const key = XWingDecapsulationKey.fromSecretKey(client.secretKey);
    const opened = await Promise.all(
      [0, 1].map(async (i) => {
        const result = await services[i]!.issueClientShare({ realmId: REALM_ID, grant: await world.grant({ audience: i, identity }), identity, sealTo: client.publicKey });
        if (!('sealed' in result)) throw new Error('expected a sealed share');
        const binding = { realmId: REALM_ID, dta: world.dtaIds[i]!, identityHash: sha256(identity), epoch: result.epoch, index: result.index };
        return { index: result.index, share: await openSealedShare(key, result.sealed, binding) };
      }),
    );
    expect(combineClientSecret(world.suite, opened)).toEqual(combineClientSecret(world.suite, await clientShares([1, 2])));
  });
});
