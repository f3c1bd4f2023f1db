/**
 * Child-process entry (tools/jest/peer-process.ts): everyone a D-TA serves, on their own node.
 * One embedded Helia node and one key store hold four identities:
 * - `mfa`: the realm's MFA service. It signs grants and revocations and receives server-secret
 *   shares through its messenger.
 * - `principal`, `beneficiary` and `stranger`: parties to fiduciary orders.
 *
 * Config (env MILAGRO_PEER_CONFIG): `{ dataDir, swarmKey }`.
 *
 * Ops:
 * - `dial { addr }`, `connected`
 * - `grant { purpose, realm, audience, identity, day?, lifetimeSeconds?, issuedSecondsAgo?, signAs? }`
 *   returns a base64url token. `signAs: 'stranger'` forges one: the issuer field names the MFA
 *   service, but the stranger's key signs it.
 * - `serverShares { realm }` returns `[{ from, index, epoch, share }]` as received so far.
 * - `requestServerShare { realm, to }`
 * - `revoke { realm, to, seq, revoke, reinstate }`
 * - `order { as, fiduciary, plugin, secret?, beneficiary? }`: for bitcoin-address the principal's
 *   key half is generated here and kept.
 * - `openFulfilment { as, fiduciary, envelope, order }`
 * - `redeem { as, fiduciary, reference, fulfilment, beneficiary? }`
 * - `openRelease { as, fiduciary, envelope, redemption, keyOf? }`: `keyOf` names the order whose
 *   principal half is combined with the released half into a bitcoin key; the address is returned.
 *
 * Byte strings cross the protocol as base64url.
 */
import { join } from 'node:path';
import { base64urlToBytes, bytesToBase64url } from '@milagro/crypto';
import {
  bitcoinAddressOf,
  combineBitcoinKeys,
  createGrant,
  createOrder,
  createRedemption,
  decodeServerShareMessage,
  encodeRevocation,
  encodeServerShareRequest,
  openFulfilment,
  openRelease,
  releasedBitcoinKey,
  releasedSecret,
  REVOCATION_MESSAGE_TYPE,
  SERVER_SHARE_MESSAGE_TYPE,
  SERVER_SHARE_REQUEST_TYPE,
  type FiduciaryValue,
  type GrantPurpose,
} from '@milagro/dta';
import { createEmbeddedNode } from '@milagro/ipfs';
import { FileKeyStore } from '@milagro/keystore';
import { FileJournal, Messenger } from '@milagro/messaging';
import { createIdentity, IdentityResolver, identityRecipientKey, identitySigner, type OwnedIdentity } from '@milagro/pki';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { emit, servePeer, type PeerCommand } from '../../../../tools/jest/peer-protocol.js';

const config = JSON.parse(process.env['MILAGRO_PEER_CONFIG'] ?? '{}') as { dataDir: string; swarmKey: string };

const node = await createEmbeddedNode({ dataDir: join(config.dataDir, 'ipfs'), swarmKey: config.swarmKey });
const keyStore = await FileKeyStore.open({ path: join(config.dataDir, 'keys'), passphrase: 'client passphrase', scrypt: { N: 2 ** 10, r: 8, p: 1 } });
const controller = { keyStore, store: node.store };
const parties = ['mfa', 'principal', 'beneficiary', 'stranger'] as const;
type Party = (typeof parties)[number];
const identities = {} as Record<Party, OwnedIdentity>;
for (const party of parties) identities[party] = await createIdentity({ ...controller, labelPrefix: party });
const resolver = new IdentityResolver({ store: node.store });
const messenger = await Messenger.start({
  identity: identities.mfa,
  keyStore,
  store: node.store,
  pubsub: node.pubsub,
  resolver,
  journal: new FileJournal({ path: join(config.dataDir, 'mfa.journal') }),
  retryInitialMs: 200,
  retryMaxMs: 5_000,
});

const serverShares: Array<{ from: string; realm: string; index: number; epoch: number; share: string }> = [];
void (async () => {
  for await (const message of messenger.messages()) {
    if (message.type === SERVER_SHARE_MESSAGE_TYPE) {
      const share = decodeServerShareMessage(message.body);
      serverShares.push({ from: message.from, realm: share.realm, index: Number(share.index), epoch: share.epoch, share: bytesToBase64url(share.share) });
      emit({ event: 'server-share', from: message.from, realm: share.realm });
    }
    await messenger.consumed(message.position);
  }
})();

/** Principal key halves of bitcoin-address orders, by order CID. */
const bitcoinHalves = new Map<string, Uint8Array>();

const signer = (party: Party) => identitySigner(identities[party], keyStore);
const party = (command: PeerCommand, key = 'as'): Party => {
  const name = String(command[key]);
  if (!(parties as readonly string[]).includes(name)) throw new Error(`unknown party ${name}`);
  return name as Party;
};
async function fiduciaryKeys(id: string) {
  const resolved = await resolver.resolve(id, { timeoutMs: 20_000 });
  return { recipient: { id, publicKey: resolved.keys.kem }, sender: { id, publicKey: resolved.keys.sign } };
}

async function run(command: PeerCommand): Promise<unknown> {
  switch (command.op) {
    case 'dial':
      return node.dial(String(command['addr']), { timeoutMs: 15_000 });
    case 'connected':
      return node.connectedPeers();
    case 'grant': {
      const signAs = command['signAs'] === undefined ? 'mfa' : party(command, 'signAs');
      const sign = signer(signAs).sign;
      const ago = Number(command['issuedSecondsAgo'] ?? 0) * 1000;
      const token = await createGrant({
        signer: { id: identities.mfa.id.toString(), sign },
        purpose: String(command['purpose']) as GrantPurpose,
        realm: String(command['realm']),
        audience: String(command['audience']),
        identity: base64urlToBytes(String(command['identity'])),
        ...(command['day'] === undefined ? {} : { day: Number(command['day']) }),
        ...(command['lifetimeSeconds'] === undefined ? {} : { lifetimeSeconds: Number(command['lifetimeSeconds']) }),
        now: () => Date.now() - ago,
      });
      return bytesToBase64url(token);
    }
    case 'serverShares':
      return serverShares.filter((s) => s.realm === command['realm']);
    case 'requestServerShare': {
      const sent = await messenger.send(String(command['to']), { type: SERVER_SHARE_REQUEST_TYPE, body: encodeServerShareRequest(String(command['realm'])) });
      await sent.acknowledged;
      return sent.cid.toString();
    }
    case 'revoke': {
      const body = encodeRevocation({
        realm: String(command['realm']),
        seq: Number(command['seq']),
        revoke: (command['revoke'] as string[]).map(base64urlToBytes),
        reinstate: ((command['reinstate'] as string[] | undefined) ?? []).map(base64urlToBytes),
      });
      const sent = await Promise.all((command['to'] as string[]).map((to) => messenger.send(to, { type: REVOCATION_MESSAGE_TYPE, body })));
      await Promise.all(sent.map((s) => s.acknowledged));
      return sent.length;
    }
    case 'order': {
      const plugin = String(command['plugin']);
      const { recipient } = await fiduciaryKeys(String(command['fiduciary']));
      let params: FiduciaryValue;
      let half: Uint8Array | undefined;
      if (plugin === 'bitcoin-address') {
        half = secp256k1.utils.randomSecretKey();
        params = { publicKey: secp256k1.getPublicKey(half, true) };
      } else {
        params = { secret: base64urlToBytes(String(command['secret'])) };
      }
      const order = await createOrder({
        principal: signer(party(command)),
        fiduciary: recipient,
        plugin,
        params,
        ...(command['beneficiary'] === undefined ? {} : { beneficiary: identities[party(command, 'beneficiary')].id.toString() }),
      });
      if (half !== undefined) bitcoinHalves.set(order.cid, half);
      return { cid: order.cid, envelope: bytesToBase64url(order.bytes) };
    }
    case 'openFulfilment': {
      const { sender } = await fiduciaryKeys(String(command['fiduciary']));
      const fulfilment = await openFulfilment(base64urlToBytes(String(command['envelope'])), {
        fiduciary: sender,
        recipient: await identityRecipientKey(identities[party(command)], keyStore),
        order: String(command['order']),
      });
      return { cid: fulfilment.cid, reference: fulfilment.reference, plugin: fulfilment.plugin, commitment: toJson(fulfilment.commitment) };
    }
    case 'redeem': {
      const { recipient } = await fiduciaryKeys(String(command['fiduciary']));
      const redemption = await createRedemption({
        redeemer: signer(party(command)),
        fiduciary: recipient,
        reference: String(command['reference']),
        fulfilment: String(command['fulfilment']),
        ...(command['beneficiary'] === undefined ? {} : { beneficiary: identities[party(command, 'beneficiary')].id.toString() }),
      });
      return { cid: redemption.cid, envelope: bytesToBase64url(redemption.bytes) };
    }
    case 'openRelease': {
      const { sender } = await fiduciaryKeys(String(command['fiduciary']));
      const release = await openRelease(base64urlToBytes(String(command['envelope'])), {
        fiduciary: sender,
        recipient: await identityRecipientKey(identities[party(command)], keyStore),
        redemption: String(command['redemption']),
      });
      if (release.plugin === 'bitcoin-address') {
        const half = bitcoinHalves.get(String(command['keyOf']));
        if (half === undefined) throw new Error('no principal half for that order');
        return { plugin: release.plugin, address: bitcoinAddressOf(combineBitcoinKeys(half, releasedBitcoinKey(release.secret)), String(command['network'] ?? 'regtest') as 'regtest') };
      }
      return { plugin: release.plugin, secret: bytesToBase64url(releasedSecret(release.secret)) };
    }
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

/** DAG-CBOR values as JSON (bytes as base64url). */
function toJson(value: FiduciaryValue): unknown {
  if (value instanceof Uint8Array) return bytesToBase64url(value);
  if (Array.isArray(value)) return value.map((v: FiduciaryValue) => toJson(v));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v as FiduciaryValue)]));
  return value;
}

servePeer(
  {
    ids: Object.fromEntries(parties.map((p) => [p, identities[p].id.toString()])),
    peerId: node.peerId,
    addrs: await node.multiaddrs(),
  },
  run,
  async () => {
    await messenger.close();
    await keyStore.close();
    await node.stop();
  },
);
