/**
 * Proves M-Pin Full: with the right factors both sides derive the same session key and confirm it;
 * a wrong PIN, a tampered transcript or a wrong confirmation yields no key.
 */
import { clientPass1, clientPass2, createChallenge, createSuite, verifyLoginWithKeyAgreement } from '../src/index.js';
import { identity, registerClient } from './fixtures.js';

const suite = createSuite();
const pin = { pin: '7391' };
const realm = registerClient(suite, [pin]);

function run(factors = [pin], tamper?: (proof: Parameters<typeof verifyLoginWithKeyAgreement>[1]) => typeof proof) {
  const { message, state } = clientPass1(suite, { identity, token: realm.token, factors, keyAgreement: true });
  const server = createChallenge(suite, { keyAgreement: { identity } });
  const { v, keyAgreement } = clientPass2(state, server.challenge);
  const proof = { identity, u: message.u, z: message.z!, v, y: server.keep.y, challenge: server, clientConfirmation: keyAgreement!.clientConfirmation };
  return { verdict: verifyLoginWithKeyAgreement(realm.key, tamper ? tamper(proof) : proof), client: keyAgreement! };
}

test('both sides derive the same 32-byte session key and confirm it', () => {
  const { verdict, client } = run();
  expect(verdict.ok).toBe(true);
  if (!verdict.ok) return;
  expect(client.finish(verdict.serverConfirmation)).toEqual(verdict.sessionKey);
  expect(verdict.sessionKey).toHaveLength(32);
});

test('a wrong PIN yields no key on either side', () => {
  const { verdict, client } = run([{ pin: '7390' }]);
  expect(verdict).toEqual({ ok: false, reason: 'rejected' });
  expect(() => client.finish(new Uint8Array(32))).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
});

test('a tampered transcript or confirmation yields no key', () => {
  expect(run(undefined, (p) => ({ ...p, clientConfirmation: p.clientConfirmation.map((b, i) => (i === 0 ? b ^ 1 : b)) })).verdict).toEqual({ ok: false, reason: 'rejected' });
  // Swapping Z for another valid point keeps V valid but breaks the key (and thus the confirmation).
  expect(run(undefined, (p) => ({ ...p, z: p.u })).verdict).toEqual({ ok: false, reason: 'rejected' });
});
