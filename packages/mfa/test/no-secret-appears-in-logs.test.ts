/**
 * Proves that the service's and the HTTP kit's logs hold no secret: after registrations, activations
 * (right and wrong codes), logins (right and wrong PINs, replays), token use and logout, the captured
 * log lines contain none of the registration secrets, activation codes, session ids, PIN-derived
 * values (token, client secret, V), access tokens or the server secret, in base64url or hex.
 */
import { bytesToBase64url, bytesToHex } from '@milagro/crypto';
import { get, login, post, registerDevice, removeDir, startMfa } from './support/mfa-world.js';

test('no registration secret, activation code, session id, PIN-derived value, token or server secret is logged', async () => {
  const world = await startMfa();
  try {
    const secrets: string[] = [];
    const alice = await registerDevice(world, 'alice@example.org', '2468');
    secrets.push(alice.registration, alice.code as string, bytesToBase64url(alice.token), bytesToBase64url(alice.clientSecret));
    await post(`${world.url}/v1/activations`, { registration: alice.registration, code: alice.code }); // replayed activation

    const good = await login(world, alice, '2468');
    const bad = await login(world, alice, '1357');
    await post(`${world.url}/v1/login/pass2`, { session: good.session, v: bytesToBase64url(good.v as Uint8Array) }); // replay
    for (const attempt of [good, bad]) secrets.push(attempt.session as string, bytesToBase64url(attempt.v as Uint8Array));
    const accessToken = good.pass2?.body.accessToken as string;
    secrets.push(accessToken, accessToken.split('.')[2] as string);
    await get(`${world.url}/v1/session`, { authorization: `Bearer ${accessToken}` });
    await post(`${world.url}/v1/logout`, {}, { authorization: `Bearer ${accessToken}` });
    await get(`${world.url}/v1/session`, { authorization: `Bearer ${accessToken}` });
    secrets.push(bytesToBase64url(world.realm.serverSecret));

    const logs = world.logs.text();
    expect(world.logs.lines.length).toBeGreaterThan(10);
    expect(logs).toContain('login failed'); // the failures were logged, without their inputs
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThanOrEqual(16);
      expect(logs).not.toContain(secret);
    }
    for (const bytes of [alice.token, alice.clientSecret, world.realm.serverSecret, good.v as Uint8Array]) expect(logs).not.toContain(bytesToHex(bytes));
  } finally {
    await world.close();
    removeDir(world.dir);
  }
});
