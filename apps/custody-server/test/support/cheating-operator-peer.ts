/**
 * Child-process entry (tools/jest/peer-process.ts): a custody operator that cheats. It runs the
 * real `CustodyService` of @milagro/custody on its own embedded Helia node, messenger, SQLite file
 * and key store, like a custody server, but its transport corrupts what it sends when told to:
 * - `bad-dkg-share`: every private DKG share it sends (with `to`: only those to that operator) is off
 *   by one bit, and signed so: the receiver can prove it (ADR 0022);
 * - `false-accuser`: the DKG shares it receives from operator `against` are off by one bit on arrival
 *   (its envelopes are intact), so it accuses that operator, and the evidence it must reveal shows a
 *   good share;
 * - `bad-signature-share`: every signature share it sends is off by one bit;
 * - `honest`: nothing is changed.
 * Like a custody server, it reveals the envelopes it received as DKG evidence (`envelopeRevealer`).
 *
 * Config (env MILAGRO_PEER_CONFIG): `{ dataDir, swarmKey, peers }`.
 * Ops: `dial { addr }`, `mode { mode, to?, against? }`. Ready: `{ id, addrs }`.
 */
import { join } from 'node:path';
import * as dagCbor from '@ipld/dag-cbor';
import { CUSTODY_MESSAGE_TYPES, CustodyRepository, CustodyService, envelopeRevealer } from '@milagro/custody';
import { createEmbeddedNode } from '@milagro/ipfs';
import { FileKeyStore } from '@milagro/keystore';
import { FileJournal, Messenger } from '@milagro/messaging';
import { createIdentity, identityRecipientKey, IdentityResolver } from '@milagro/pki';
import { openSqliteDatabase } from '@milagro/storage';
import { servePeer, type PeerCommand } from '../../../../tools/jest/peer-protocol.js';

const config = JSON.parse(process.env['MILAGRO_PEER_CONFIG'] ?? '{}') as { dataDir: string; swarmKey: string; peers: string[] };

const node = await createEmbeddedNode({ dataDir: join(config.dataDir, 'ipfs'), swarmKey: config.swarmKey, peers: config.peers });
const keyStore = await FileKeyStore.open({ path: join(config.dataDir, 'keys'), passphrase: 'cheater passphrase', scrypt: { N: 2 ** 10, r: 8, p: 1 } });
const identity = await createIdentity({ keyStore, store: node.store, labelPrefix: 'cheater' });
const resolver = new IdentityResolver({ store: node.store });
const messenger = await Messenger.start({ identity, keyStore, store: node.store, pubsub: node.pubsub, resolver, journal: new FileJournal({ path: join(config.dataDir, 'journal') }) });
const db = await openSqliteDatabase({ path: join(config.dataDir, 'custody.sqlite') });

type Mode = 'honest' | 'bad-dkg-share' | 'false-accuser' | 'bad-signature-share';
// (a cast, so the inbox loop below, an immediately invoked function, does not narrow it to 'honest')
let mode = 'honest' as Mode;
/** `bad-dkg-share`: only to this operator (all when undefined); `false-accuser`: the operator accused. */
let target: string | undefined;

function flipLastBit(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  copy[copy.length - 1]! ^= 1;
  return copy;
}

function tamper(peer: string, message: { type: string; body: Uint8Array }): { type: string; body: Uint8Array } {
  const value = dagCbor.decode(message.body) as Record<string, unknown>;
  if (mode === 'bad-dkg-share' && message.type === CUSTODY_MESSAGE_TYPES.vaultShare && (target === undefined || target === peer)) {
    return { type: message.type, body: dagCbor.encode({ ...value, share: flipLastBit(value['share'] as Uint8Array) }) };
  }
  if (mode === 'bad-signature-share' && message.type === CUSTODY_MESSAGE_TYPES.signShares) {
    return { type: message.type, body: dagCbor.encode({ ...value, shares: (value['shares'] as Uint8Array[]).map(flipLastBit) }) };
  }
  return message;
}

const custody = await CustodyService.open({
  self: identity.id.toString(),
  keyStore,
  repository: await CustodyRepository.open(db),
  send: (peer, message) => messenger.send(peer, tamper(peer, message)),
  signingKey: async (id) => (await resolver.resolve(id, { timeoutMs: 20_000 })).keys.sign,
  revealEnvelope: envelopeRevealer({
    get: (cid) => node.store.get(cid),
    recipientKey: () => identityRecipientKey(identity, keyStore),
    signingKey: async (id) => (await resolver.resolve(id, { timeoutMs: 20_000 })).keys.sign,
  }),
  roundTimeoutMs: 30_000,
});

void (async () => {
  for await (const message of messenger.messages()) {
    let body = message.body;
    if (mode === 'false-accuser' && message.type === CUSTODY_MESSAGE_TYPES.vaultShare && message.from === target) {
      const value = dagCbor.decode(body) as Record<string, unknown>;
      body = dagCbor.encode({ ...value, share: flipLastBit(value['share'] as Uint8Array) });
    }
    await custody.handleMessage({ from: message.from, type: message.type, body, cid: message.cid.toString() }).catch(() => undefined);
    await messenger.consumed(message.position);
  }
})();

async function run(command: PeerCommand): Promise<unknown> {
  switch (command.op) {
    case 'dial':
      return node.dial(String(command['addr']), { timeoutMs: 15_000 });
    case 'mode':
      mode = command['mode'] as Mode;
      target = typeof command['to'] === 'string' ? command['to'] : typeof command['against'] === 'string' ? command['against'] : undefined;
      return mode;
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

servePeer({ id: identity.id.toString(), addrs: await node.multiaddrs() }, run, async () => {
  await custody.close();
  await messenger.close();
  await db.close();
  await keyStore.close();
  await node.stop();
});
