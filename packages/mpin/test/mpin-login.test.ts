/**
 * Proves the M-Pin protocol end to end on the modern suite: threshold (2-of-3 Lagrange) and
 * additive (n-of-n) issuance combine into a client secret that verifies against the server secret;
 * right factors log in, wrong ones are rejected; PIN plus device factor; time permits; single-use
 * client state; configurable PIN length.
 */
import {
  clientPass1,
  clientPass2,
  combineClientSecret,
  combineServerSecret,
  combineTimePermit,
  createChallenge,
  createServerKey,
  createSuite,
  extractToken,
  generateMasterShare,
  issueClientShare,
  issueServerShare,
  issueTimePermitShare,
  verifyLogin,
  type ClientLogin,
  type ServerKey,
  type MpinSuite,
} from '../src/index.js';
import { identity, registerClient } from './fixtures.js';

const suite = createSuite();

function login(s: MpinSuite, key: ServerKey, input: ClientLogin, day?: number) {
  const { message, state } = clientPass1(s, input);
  const { challenge, keep } = createChallenge(s);
  const { v } = clientPass2(state, challenge);
  return verifyLogin(key, { identity: input.identity, day, ...message, v, y: keep.y });
}

describe('M-Pin login on the modern suite (noble)', () => {
  const pin = { pin: '2468' };
  const device = { secret: new Uint8Array(32).fill(7) };
  const realm = registerClient(suite, [pin, device]);

  test('encodings are compressed standard: G1 48, G2 96, scalars 32 bytes', () => {
    expect(realm.token).toHaveLength(48);
    expect(suite.g2Length).toBe(96);
    expect(suite.scalarLength).toBe(32);
  });

  test('the right PIN and device factor log in (2-of-3 threshold issuance)', () => {
    expect(login(suite, realm.key, { identity, token: realm.token, factors: [pin, device] })).toEqual({ ok: true });
  });

  test('a wrong PIN, a missing device factor, or another identity is rejected', () => {
    expect(login(suite, realm.key, { identity, token: realm.token, factors: [{ pin: '2469' }, device] })).toEqual({ ok: false, reason: 'rejected' });
    expect(login(suite, realm.key, { identity, token: realm.token, factors: [pin] })).toEqual({ ok: false, reason: 'rejected' });
    const mallory = new TextEncoder().encode('mallory');
    expect(login(suite, realm.key, { identity: mallory, token: realm.token, factors: [pin, device] })).toEqual({ ok: false, reason: 'rejected' });
  });

  test('factor order does not matter; the token alone is not the client secret', () => {
    expect(login(suite, realm.key, { identity, token: realm.token, factors: [device, pin] })).toEqual({ ok: true });
    expect(realm.token).not.toEqual(realm.clientSecret);
  });

  test('additive n-of-n shares combine too, and any 2 of 3 Shamir shares give the same secrets', () => {
    const m1 = generateMasterShare(suite);
    const m2 = generateMasterShare(suite);
    const cs = combineClientSecret(suite, [issueClientShare(suite, m1, identity), issueClientShare(suite, m2, identity)]);
    const ss = combineServerSecret(suite, [issueServerShare(suite, m1), issueServerShare(suite, m2)]);
    const token = extractToken(suite, { identity, clientSecret: cs, factors: [pin] });
    expect(login(suite, createServerKey(suite, ss), { identity, token, factors: [pin] })).toEqual({ ok: true });

    const [a, b, c] = realm.masterShares as [typeof realm.masterShares[0], typeof realm.masterShares[0], typeof realm.masterShares[0]];
    const fromAB = combineClientSecret(suite, [a, b].map((m) => ({ index: m.index, share: issueClientShare(suite, m.share, identity) })));
    const fromBC = combineClientSecret(suite, [b, c].map((m) => ({ index: m.index, share: issueClientShare(suite, m.share, identity) })));
    expect(fromAB).toEqual(fromBC);
    expect(fromAB).toEqual(realm.clientSecret);
  });

  test('time permits: the permit for the day logs in; another day or no permit does not', () => {
    const day = 20_418;
    const permit = combineTimePermit(
      suite,
      realm.masterShares.slice(0, 2).map((m) => ({ index: m.index, share: issueTimePermitShare(suite, m.share, day, identity) })),
    );
    const input = { identity, token: realm.token, factors: [pin, device], timePermit: { day, permit } };
    expect(login(suite, realm.key, input, day)).toEqual({ ok: true });
    expect(login(suite, realm.key, input, day + 1)).toEqual({ ok: false, reason: 'rejected' });
    // The server demands UT when it checks permits.
    const { message, state } = clientPass1(suite, { identity, token: realm.token, factors: [pin, device] });
    const { challenge, keep } = createChallenge(suite);
    const { v } = clientPass2(state, challenge);
    expect(verifyLogin(realm.key, { identity, day, ...message, v, y: keep.y })).toMatchObject({ ok: false, reason: 'malformed', field: 'ut' });
  });

  test('a pass-1 state answers one challenge only (two answers with one x would reveal the secret)', () => {
    const { state } = clientPass1(suite, { identity, token: realm.token, factors: [pin, device] });
    clientPass2(state, createChallenge(suite).challenge);
    expect(() => clientPass2(state, createChallenge(suite).challenge)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  test('x is fresh for every login: U differs between logins', () => {
    const one = clientPass1(suite, { identity, token: realm.token, factors: [pin, device] }).message.u;
    const two = clientPass1(suite, { identity, token: realm.token, factors: [pin, device] }).message.u;
    expect(one).not.toEqual(two);
  });

  test('PIN length is configurable from 4 to 8 digits and enforced', () => {
    const eight = createSuite({ pinDigits: 8 });
    expect(() => extractToken(eight, { identity, clientSecret: realm.clientSecret, factors: [{ pin: '1234' }] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const token = extractToken(eight, { identity, clientSecret: realm.clientSecret, factors: [{ pin: '01234567' }] });
    expect(login(eight, realm.key, { identity, token, factors: [{ pin: 1234567 }] })).toEqual({ ok: true });
    for (const pinDigits of [3, 9, 4.5]) expect(() => createSuite({ pinDigits })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    for (const bad of ['123', '12a4', '12345', -1, 10_000, 1.5]) {
      expect(() => extractToken(suite, { identity, clientSecret: realm.clientSecret, factors: [{ pin: bad }] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(() => extractToken(suite, { identity, clientSecret: realm.clientSecret, factors: [{ secret: new Uint8Array(15) }] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
