import { combineServerSecret, issueServerShare } from '@milagro/mpin';
import {
  decodeServerShareMessage,
  encodeServerShareRequest,
  SERVER_SHARE_MESSAGE_TYPE,
  SERVER_SHARE_REQUEST_TYPE,
} from '../src/server-share.js';
import type { IssuanceService } from '../src/issuance.js';
import { createIssuanceWorld, expectDtaError, REALM_ID, type IssuanceWorld } from './support/issuance-world.js';

// s_i·Q is sent to the realm's MFA service and nobody else: on distribution, and again when the
// MFA service (as authenticated by messaging) asks. Requests from anyone else are refused.
describe('server-secret shares go only to the MFA service', () => {
  let world: IssuanceWorld;
  let service: IssuanceService;
  const sent: Array<{ peer: string; type: string; body: Uint8Array }> = [];
  const request = (from: string) => ({ from, type: SERVER_SHARE_REQUEST_TYPE, body: encodeServerShareRequest(REALM_ID) });

  beforeAll(async () => {
    world = await createIssuanceWorld();
    service = await world.service(1, {
      send: async (peer, message) => {
        sent.push({ peer, ...message });
      },
    });
  });
  afterAll(() => world.close());
  beforeEach(() => {
    sent.length = 0;
  });

  it("sends this D-TA's share, index and epoch to the MFA service when distributing", async () => {
    await service.distributeServerShare(REALM_ID);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ peer: world.mfa.id.toString(), type: SERVER_SHARE_MESSAGE_TYPE });
    const decoded = decodeServerShareMessage(sent[0]!.body);
    expect(decoded).toMatchObject({ realm: REALM_ID, epoch: 0, index: 2n });
    expect(decoded.share).toEqual(issueServerShare(world.suite, world.directories[1]!.master.share));
    expect(() => combineServerSecret(world.suite, [decoded])).not.toThrow(); // a valid G2 point
  });

  it('sends it again on a request from the MFA service', async () => {
    await service.handleMessage(request(world.mfa.id.toString()));
    expect(sent.map((m) => m.peer)).toEqual([world.mfa.id.toString()]);
  });

  it('refuses requests from a stranger or another D-TA (NOT_AUTHORISED) and sends nothing', async () => {
    await expectDtaError(service.handleMessage(request(world.stranger.id.toString())), 'NOT_AUTHORISED');
    await expectDtaError(service.handleMessage(request(world.dtaIds[0]!)), 'NOT_AUTHORISED');
    expect(sent).toEqual([]);
  });

  it('refuses malformed requests and other message types', async () => {
    const mfa = world.mfa.id.toString();
    await expectDtaError(service.handleMessage({ from: mfa, type: SERVER_SHARE_REQUEST_TYPE, body: new Uint8Array([1]) }), 'INVALID_REQUEST');
    await expectDtaError(service.handleMessage({ from: mfa, type: 'milagro/dta/other', body: encodeServerShareRequest(REALM_ID) }), 'INVALID_REQUEST');
    expect(sent).toEqual([]);
  });
});
