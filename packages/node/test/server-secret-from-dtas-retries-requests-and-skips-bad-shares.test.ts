/**
 * The MFA role's server-secret source over the D-TAs' share messages (real M-Pin maths on noble, the
 * D-TA's real message encoding): a request that cannot be queued yet (the D-TA's identity not
 * resolvable right after a restart) is tried again until it is; a bad share from one D-TA is skipped
 * when t good ones combine to the group key; shares from strangers and other realms are ignored.
 */
import { randomScalar, splitSecret } from '@milagro/crypto';
import { encodeServerShareMessage, SERVER_SHARE_REQUEST_TYPE } from '@milagro/dta';
import { checkServerSecret } from '@milagro/mfa';
import { createSuite, issueServerShare } from '@milagro/mpin';
import { DtaServerSecretSource } from '../src/index.js';

const suite = createSuite();
const { g1 } = suite.backend;
const REALM = 'acme';
const DTAS = [1, 2, 3].map((i) => ({ id: `bafyreidta${i}`, url: `http://dta${i}.invalid` }));
const silent = { info: () => undefined, warn: () => undefined };

function realm() {
  const s = randomScalar();
  const masters = splitSecret(s, { threshold: 2, shares: 3 }).map(({ index, value }) => ({ index, master: suite.encodeScalar(value) }));
  const groupPublicKey = g1.encode(g1.multiply(g1.base, s));
  const statusFetch = (async () => new Response(JSON.stringify({ state: 'active', groupPublicKey: Buffer.from(groupPublicKey).toString('base64url') }), { headers: { 'content-type': 'application/json' } })) as unknown as typeof fetch;
  const shareMessage = (i: number, share = issueServerShare(suite, masters[i]!.master), realmId = REALM) =>
    ({ from: DTAS[i]!.id, body: encodeServerShareMessage({ realm: realmId, epoch: 0, index: masters[i]!.index, share }) });
  return { masters, groupPublicKey, statusFetch, shareMessage };
}

describe('DtaServerSecretSource', () => {
  it('retries a share request that could not be queued, then combines the shares that answer it', async () => {
    const { statusFetch, shareMessage, groupPublicKey } = realm();
    const attempts = new Map<string, number>();
    const holder: { source?: DtaServerSecretSource } = {};
    const send = async (to: string, message: { type: string }) => {
      expect(message.type).toBe(SERVER_SHARE_REQUEST_TYPE);
      attempts.set(to, (attempts.get(to) ?? 0) + 1);
      // Every D-TA is unreachable at first; from the second attempt on a request is queued and its share arrives.
      if (attempts.get(to) === 1) throw Object.assign(new Error('identity not resolvable yet'), { code: 'RECIPIENT_UNAVAILABLE' });
      setTimeout(() => holder.source!.accept(shareMessage(DTAS.findIndex((d) => d.id === to))), 10);
      return {};
    };
    const source = new DtaServerSecretSource({ suite, realmId: REALM, threshold: 2, dtas: DTAS, send, logger: silent, waitMs: 15_000, fetch: statusFetch });
    holder.source = source;
    const material = await source.load(new AbortController().signal);
    expect(material.groupPublicKey).toEqual(groupPublicKey);
    expect(() => checkServerSecret(suite, material)).not.toThrow();
    expect([...attempts.values()].every((n) => n === 2)).toBe(true);
  }, 30_000);

  it('skips a subset with a bad share, and ignores strangers and other realms', async () => {
    const { statusFetch, shareMessage, masters } = realm();
    const source = new DtaServerSecretSource({ suite, realmId: REALM, threshold: 2, dtas: DTAS, send: async () => ({}), logger: silent, waitMs: 5_000, fetch: statusFetch });
    // D-TA 1 sends a valid point that is not its share; a stranger and another realm send good-looking shares.
    source.accept(shareMessage(0, issueServerShare(suite, suite.encodeScalar(randomScalar()))));
    source.accept({ from: 'bafyreistranger', body: shareMessage(1).body });
    source.accept(shareMessage(1, undefined, 'other-realm'));
    source.accept({ from: DTAS[2]!.id, body: new Uint8Array([1, 2, 3]) });
    source.accept(shareMessage(1));
    source.accept(shareMessage(2));
    const material = await source.load(new AbortController().signal);
    expect(() => checkServerSecret(suite, material)).not.toThrow();
    expect(masters).toHaveLength(3);
  }, 30_000);

  it('gives up a load with a code (never the shares) when fewer than t arrive in time', async () => {
    const { statusFetch, shareMessage } = realm();
    const source = new DtaServerSecretSource({ suite, realmId: REALM, threshold: 2, dtas: DTAS, send: async () => ({}), logger: silent, waitMs: 300, fetch: statusFetch });
    source.accept(shareMessage(0));
    const error = await source.load(new AbortController().signal).then(() => undefined, (reason: unknown) => reason);
    expect((error as { code?: string }).code).toBe('NOT_ENOUGH_SHARES');
  });
});
