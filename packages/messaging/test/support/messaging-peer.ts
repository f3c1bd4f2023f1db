/**
 * Child-process entry (see tools/jest/peer-process.ts): one Milagro node in its own OS process: an
 * embedded Helia node, a file key store, an identity (created once, loaded on every restart), a
 * messenger with a file journal, and a tiny application that appends every delivered message to
 * `delivered.log`.
 *
 * The application is exactly-once in the way messaging-v1.md §6 describes: each log line carries
 * the inbox position, written and fsynced before the next message is read, and on start the
 * application resumes after the last complete line's position (a torn last line is cut off).
 *
 * Config (env MILAGRO_PEER_CONFIG): { dataDir, swarmKey, peers?: string[] }.
 * Ops: send-many {to, count, prefix} · stats · connected · dial {addr} · replay {to, cid} · forge {to, claimFrom, claimHead}.
 * Events: ready {id, head, peerId, addrs} · delivered {position, cid} (after the log line is fsynced) ·
 *   acked {count} (all of a send-many acknowledged).
 */
import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as dagCbor from '@ipld/dag-cbor';
import { bytesToUtf8, utf8ToBytes } from '@milagro/crypto';
import { encodeEnvelope, sealEnvelope } from '@milagro/envelope';
import { createEmbeddedNode } from '@milagro/ipfs';
import { FileKeyStore } from '@milagro/keystore';
import { createIdentity, IdentityResolver, identitySigner, isPkiError, loadIdentity, type OwnedIdentity } from '@milagro/pki';
import { CID } from 'multiformats/cid';
import { FileJournal, Messenger, messagingTopic } from '../../src/index.js';
import { encodeFrame } from '../../src/wire.js';
import { emit, servePeer, type PeerCommand } from '../../../../tools/jest/peer-protocol.js';

const config = JSON.parse(process.env['MILAGRO_PEER_CONFIG'] ?? '{}') as { dataDir: string; swarmKey: string; peers?: string[] };

const node = await createEmbeddedNode({ dataDir: join(config.dataDir, 'ipfs'), swarmKey: config.swarmKey, peers: config.peers ?? [] });
const keyStore = await FileKeyStore.open({ path: join(config.dataDir, 'keys'), passphrase: 'test passphrase', scrypt: { N: 2 ** 10, r: 8, p: 1 } });
const controller = { keyStore, store: node.store };
let identity: OwnedIdentity;
try {
  identity = await loadIdentity({ ...controller, labelPrefix: 'node' });
} catch (error) {
  if (!isPkiError(error, 'NOT_FOUND')) throw error;
  identity = await createIdentity({ ...controller, labelPrefix: 'node' });
}
const messenger = await Messenger.start({
  identity,
  keyStore,
  store: node.store,
  pubsub: node.pubsub,
  resolver: new IdentityResolver({ store: node.store }),
  journal: new FileJournal({ path: join(config.dataDir, 'messaging.journal') }),
  retryInitialMs: 200,
  retryMaxMs: 10_000,
  fetchTimeoutMs: 20_000,
  onRejected: (rejection) => trace({ rejected: rejection }),
});

// MILAGRO_PEER_TRACE=1: counters every 2 s and every refusal, appended to <dataDir>/trace.log (for debugging).
function trace(entry: object): void {
  if (process.env['MILAGRO_PEER_TRACE'] === '1') appendFileSync(join(config.dataDir, 'trace.log'), `${JSON.stringify({ t: new Date().toISOString(), ...entry })}\n`);
}
let lastTo: string | undefined;
if (process.env['MILAGRO_PEER_TRACE'] === '1') {
  setInterval(() => {
    void (async () => {
      const topic = messagingTopic(lastTo ?? identity.id.toString());
      trace({ stats: messenger.stats(), inboxLength: messenger.inboxLength, peers: (await node.connectedPeers()).length, topicPeers: (await node.pubsub.peers(topic)).length });
    })();
  }, 2_000).unref();
}

// --- the application: an exactly-once log of delivered messages -------------------------------
const logPath = join(config.dataDir, 'delivered.log');
let after = 0;
try {
  const text = readFileSync(logPath, 'utf8');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  if (complete.length < text.length) truncateSync(logPath, Buffer.byteLength(complete)); // torn by a kill
  const last = complete.trimEnd().split('\n').pop();
  if (last) after = (JSON.parse(last) as { position: number }).position;
} catch (error) {
  if ((error as { code?: string }).code !== 'ENOENT') throw error;
}
const log = openSync(logPath, 'a');
void (async () => {
  for await (const message of messenger.messages({ after })) {
    const line = JSON.stringify({ position: message.position, from: message.from, seq: message.seq, cid: message.cid.toString(), type: message.type, body: bytesToUtf8(message.body) });
    writeSync(log, `${line}\n`);
    fsyncSync(log);
    emit({ event: 'delivered', position: message.position, cid: message.cid.toString() });
  }
})();

async function run(command: PeerCommand): Promise<unknown> {
  switch (command.op) {
    case 'send-many': {
      const { to, count, prefix } = command as unknown as { to: string; count: number; prefix: string };
      lastTo = to;
      const acks: Array<Promise<void>> = [];
      for (let i = 1; i <= count; i++) acks.push((await messenger.send(to, { type: 'test/sequence', body: utf8ToBytes(`${prefix}${i}`) })).acknowledged);
      void Promise.all(acks).then(() => emit({ event: 'acked', count }));
      return count;
    }
    case 'stats':
      return { ...messenger.stats(), inboxLength: messenger.inboxLength };
    case 'connected':
      return node.connectedPeers();
    case 'dial':
      return node.dial(String(command['addr']), { timeoutMs: 10_000 });
    case 'replay': {
      // Re-publishes an announcement of an envelope that was already delivered.
      const frame = encodeFrame({ kind: 'announce', from: identity.id.toString(), head: identity.head, cid: CID.parse(String(command['cid'])) });
      return node.pubsub.publish(messagingTopic(String(command['to'])), frame);
    }
    case 'forge': {
      // An envelope that claims another sender but is signed with this node's keys.
      const to = String(command['to']);
      const recipient = await new IdentityResolver({ store: node.store }).resolve(to, { timeoutMs: 20_000 });
      const envelope = await sealEnvelope({
        from: { id: String(command['claimFrom']), sign: identitySigner(identity, keyStore).sign },
        to: [{ id: to, publicKey: recipient.keys.kem }],
        type: 'test/forged',
        body: utf8ToBytes('forged'),
      });
      const cid = await node.store.putDag(dagCbor.decode(encodeEnvelope(envelope)), { pin: true });
      const frame = encodeFrame({ kind: 'announce', from: String(command['claimFrom']), head: CID.parse(String(command['claimHead'])), cid });
      await node.pubsub.publish(messagingTopic(to), frame);
      return cid.toString();
    }
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

servePeer({ id: identity.id.toString(), head: identity.head.toString(), peerId: node.peerId, addrs: await node.multiaddrs() }, run, async () => {
  await messenger.close();
  closeSync(log);
  await keyStore.close();
  await node.stop();
});
