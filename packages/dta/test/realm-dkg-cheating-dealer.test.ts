/**
 * A dealer that cheats in the realm DKG (three D-TAs, t = 2). The cheating is injected into the
 * dealer's outgoing messages (the transport authenticates senders, so this is what a corrupt
 * dealer can do):
 * - it sends one member a wrong private share, but answers the complaint with the right one:
 *   the complaint round repairs it, everyone stays qualified, and all shares give one s;
 * - it sends a wrong share and also publishes a wrong justification: both honest members
 *   disqualify it (`invalid-justification`) and complete without it; the cheater's own view
 *   (QUAL with itself) is a split view, so its run fails rather than leaving it a bogus share.
 */
import { decodeDkgMessage, decodeScalar, encodeDkgMessage, interpolateScalar, nobleBackend, SCALAR_ORDER, type DkgMessage } from '@milagro/crypto';
import { isDtaError } from '../src/errors.js';
import { decodeRealmRoundBundle, encodeRealmRoundBundle, REALM_MESSAGE_TYPES } from '../src/realm-protocol.js';
import { fakeIdentity, RealmNetwork, type Interceptor } from './support/realm-network.js';

jest.setTimeout(120_000);

const g1 = nobleBackend.g1;
let network: RealmNetwork;

beforeAll(async () => {
  network = await RealmNetwork.create(['alpha', 'beta', 'gamma'], () => ({ roundTimeoutMs: 20_000 }));
});

afterAll(async () => {
  await network.close();
});

afterEach(() => {
  network.interceptors.length = 0;
});

/** Changes the value of every `kind` message from `dealer` (to `only`, if given) by +1. */
function corrupt(kind: 'private-share' | 'justification', dealer: string, only?: string): Interceptor {
  return (message) => {
    if (message.type !== REALM_MESSAGE_TYPES.dkg || message.from !== dealer || (only !== undefined && message.to !== only)) return message;
    const bundle = decodeRealmRoundBundle(message.body);
    const messages = bundle.messages.map((bytes) => {
      const dkg = decodeDkgMessage(bytes);
      if (dkg.type !== kind) return bytes;
      return encodeDkgMessage({ ...dkg, value: (dkg.value + 1n) % SCALAR_ORDER } as DkgMessage);
    });
    return { ...message, body: encodeRealmRoundBundle({ ...bundle, messages }) };
  };
}

async function sharesOf(names: readonly string[], realmId: string): Promise<Array<{ index: bigint; value: bigint }>> {
  return Promise.all(names.map(async (name) => {
    const share = await network.member(name).service.masterShare(realmId);
    return { index: share.index, value: decodeScalar(share.share) };
  }));
}

it('a wrong private share draws a complaint; the justification repairs it and every member stays qualified', async () => {
  const [alpha, beta] = [network.member('alpha'), network.member('beta')];
  network.interceptors.push(corrupt('private-share', alpha.id, beta.id));
  await beta.service.createRealm(network.definition('repaired', 2, await fakeIdentity('mfa')));
  const realms = await Promise.all(network.members.map((m) => m.service.waitForRealm('repaired', { timeoutMs: 90_000 })));
  expect(new Set(realms.map((r) => Buffer.from(r.groupPublicKey).toString('hex'))).size).toBe(1);
  for (const m of network.members) expect((await m.service.realm('repaired')).result!.qualified).toEqual([1n, 2n, 3n]);

  // beta complained about alpha, and alpha answered publicly.
  const bundles = network.sent.filter((m) => m.type === REALM_MESSAGE_TYPES.dkg).map((m) => ({ from: m.from, bundle: decodeRealmRoundBundle(m.body) }));
  const kinds = (from: string, round: number): string[] =>
    bundles.filter((b) => b.from === from && b.bundle.round === round).flatMap((b) => b.bundle.messages.map((bytes) => decodeDkgMessage(bytes).type));
  expect(kinds(beta.id, 2)).toEqual(['complaint', 'complaint']);
  expect(kinds(alpha.id, 3)).toEqual(['justification', 'justification']);

  const shares = await sharesOf(['alpha', 'beta', 'gamma'], 'repaired');
  const s = interpolateScalar(shares.slice(0, 2));
  expect(interpolateScalar(shares.slice(1))).toBe(s);
  expect(g1.equals(g1.multiply(g1.base, s), g1.decode(realms[0]!.groupPublicKey))).toBe(true);
});

it('a dealer whose justification is wrong too is disqualified by the honest members, and its own run fails on the split view', async () => {
  const [alpha, beta, gamma] = [network.member('alpha'), network.member('beta'), network.member('gamma')];
  network.interceptors.push(corrupt('private-share', alpha.id, beta.id), corrupt('justification', alpha.id));
  await beta.service.createRealm(network.definition('cheater-out', 2, await fakeIdentity('mfa')));
  const [cheater, ...honest] = await Promise.all(
    [alpha, beta, gamma].map((m) => m.service.waitForRealm('cheater-out', { timeoutMs: 90_000 }).catch((error: unknown) => error)),
  );
  expect(isDtaError(cheater, 'PROTOCOL_FAILED')).toBe(true);
  expect((cheater as Error).message).toMatch(/split view/);
  await expect(alpha.service.masterShare('cheater-out')).rejects.toMatchObject({ code: 'REALM_NOT_READY' });

  for (const m of [beta, gamma]) expect((await m.service.realm('cheater-out')).result!.qualified).toEqual([2n, 3n]);
  const [b, c] = honest as Array<{ groupPublicKey: Uint8Array }>;
  expect(Buffer.from(b!.groupPublicKey)).toEqual(Buffer.from(c!.groupPublicKey));
  const s = interpolateScalar(await sharesOf(['beta', 'gamma'], 'cheater-out'));
  expect(g1.equals(g1.multiply(g1.base, s), g1.decode(b!.groupPublicKey))).toBe(true);
});
