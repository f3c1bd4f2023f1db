/**
 * Proves the protocol code is backend-generic: shares, tokens and proofs made on noble verify on
 * mcl-wasm and the other way round, in both suites, byte for byte the same encodings.
 */
import type { Bls12381Backend } from '@milagro/crypto';
import { clientPass1, clientPass2, createChallenge, createServerKey, createSuite, issueClientShare, issueServerShare, verifyLogin, type MpinSuiteName } from '../src/index.js';
import { loadMclBackend, nobleBackend } from './backends.js';
import { identity, registerClient } from './fixtures.js';

let mcl: Bls12381Backend | undefined;
beforeAll(async () => {
  mcl = await loadMclBackend();
});

test.each(['modern', 'milagro-v3'] as MpinSuiteName[])('%s: noble and mcl-wasm agree on every encoding and verdict', (name) => {
  if (!mcl) return; // loadMclBackend said why
  const noble = createSuite({ suite: name, backend: nobleBackend });
  const fast = createSuite({ suite: name, backend: mcl });
  const master = noble.encodeScalar(0x1234567890abcdefn);
  expect(issueClientShare(fast, master, identity)).toEqual(issueClientShare(noble, master, identity));
  expect(issueServerShare(fast, master)).toEqual(issueServerShare(noble, master));
  expect(fast.encodeG1(fast.hashIdentity(identity))).toEqual(noble.encodeG1(noble.hashIdentity(identity)));

  const pin = { pin: '4321' };
  const realm = registerClient(noble, [pin]);
  const serverSecret = noble.encodeG2(realm.key.secretPoint as never);
  for (const [client, server] of [[noble, fast], [fast, noble]] as const) {
    const { message, state } = clientPass1(client, { identity, token: realm.token, factors: [pin] });
    const { challenge, keep } = createChallenge(server);
    const { v } = clientPass2(state, challenge);
    expect(verifyLogin(createServerKey(server, serverSecret), { identity, ...message, v, y: keep.y })).toEqual({ ok: true });
  }
});
