/**
 * Messaging over two real embedded Helia nodes (one process; the three-process crash test is
 * receiver-killed-mid-stream.test.ts): delivery in order with acknowledgements, catch-up after the
 * receiver was away, and refusal of forged, replayed, misaddressed and revoked-sender messages.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8ToBytes, bytesToUtf8 } from '@milagro/crypto';
import { encodeEnvelope, sealEnvelope } from '@milagro/envelope';
import { IpfsError, createEmbeddedNode, generateSwarmKey, type IpfsNode } from '@milagro/ipfs';
import { MemoryKeyStore } from '@milagro/keystore';
import { createIdentity, identitySigner, IdentityResolver, revokeIdentity, type OwnedIdentity } from '@milagro/pki';
import * as dagCbor from '@ipld/dag-cbor';
import { MemoryJournal, Messenger, messagingTopic, type DeliveredMessage, type MessengerOptions, type Rejection } from '../src/index.js';
import { encodeFrame } from '../src/wire.js';

jest.setTimeout(120_000);

interface Party {
  readonly node: IpfsNode;
  readonly keyStore: MemoryKeyStore;
  readonly identity: OwnedIdentity;
  readonly journal: MemoryJournal;
  readonly rejections: Rejection[];
}

let dirs: string[] = [];
let nodes: IpfsNode[] = [];
let alice: Party;
let bob: Party;
const running: Messenger[] = [];

async function party(node: IpfsNode, name: string): Promise<Party> {
  const keyStore = new MemoryKeyStore();
  const identity = await createIdentity({ keyStore, store: node.store, labelPrefix: name });
  return { node, keyStore, identity, journal: new MemoryJournal(), rejections: [] };
}

async function start(p: Party, options: Partial<MessengerOptions> = {}): Promise<Messenger> {
  const messenger = await Messenger.start({
    identity: p.identity,
    keyStore: p.keyStore,
    store: p.node.store,
    pubsub: p.node.pubsub,
    resolver: new IdentityResolver({ store: p.node.store }),
    journal: p.journal,
    retryInitialMs: 100,
    retryMaxMs: 1_000,
    // Generous: on the 2-core CI VM an ext4 journal commit under other suites' fsyncs has stalled a
    // local pin for more than 15 s. No test here waits for this timeout to fire.
    fetchTimeoutMs: 60_000,
    onRejected: (rejection) => p.rejections.push(rejection),
    ...options,
  });
  running.push(messenger);
  return messenger;
}

/** Reads `count` messages from the inbox after `after`. */
async function read(messenger: Messenger, count: number, after?: number): Promise<DeliveredMessage[]> {
  const out: DeliveredMessage[] = [];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 60_000);
  for await (const message of messenger.messages({ ...(after === undefined ? {} : { after }), signal: controller.signal })) {
    out.push(message);
    if (out.length === count) break;
  }
  clearTimeout(timer);
  if (out.length < count) throw new Error(`only ${out.length} of ${count} messages arrived`);
  return out;
}

async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  dirs = await Promise.all([0, 1].map(() => mkdtemp(join(tmpdir(), 'milagro-messaging-'))));
  const swarmKey = generateSwarmKey();
  const first = await createEmbeddedNode({ dataDir: dirs[0]!, swarmKey });
  const second = await createEmbeddedNode({ dataDir: dirs[1]!, swarmKey, peers: await first.multiaddrs() });
  nodes = [first, second];
  for (let tries = 0; !(await second.connectedPeers()).includes(first.peerId); tries++) {
    if (tries === 200) throw new Error('the two nodes never connected');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  alice = await party(first, 'alice');
  bob = await party(second, 'bob');
  // Bitswap's first exchange on a new connection can take seconds on a loaded machine; warm it up.
  await Promise.all([first.store.get(bob.identity.id, { timeoutMs: 30_000 }), second.store.get(alice.identity.id, { timeoutMs: 30_000 })]);
}, 90_000);

afterEach(async () => {
  await Promise.all(running.splice(0).map((messenger) => messenger.close()));
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })));
});

it('delivers messages in order, decrypted and verified, and the sender learns they are held', async () => {
  const aliceMessenger = await start(alice);
  const bobMessenger = await start(bob);
  const sent = [];
  for (let i = 1; i <= 20; i++) sent.push(await aliceMessenger.send(bob.identity.id.toString(), { type: 'test/counter', body: utf8ToBytes(`message ${i}`) }));
  expect(sent.map((s) => s.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

  const received = await read(bobMessenger, 20);
  expect(received.map((m) => bytesToUtf8(m.body))).toEqual(Array.from({ length: 20 }, (_, i) => `message ${i + 1}`));
  expect(received.every((m) => m.from === alice.identity.id.toString() && m.type === 'test/counter' && m.typeVersion === 1)).toBe(true);
  expect(received.map((m) => m.cid.toString())).toEqual(sent.map((s) => s.cid.toString()));
  await Promise.all(sent.map((s) => s.acknowledged));
  expect(aliceMessenger.stats().acknowledged).toBe(20);
  await bobMessenger.consumed(20);

  // And back: the reply travels on alice's topic, with its own chain.
  const reply = await bobMessenger.send(alice.identity.id.toString(), { type: 'test/reply', body: utf8ToBytes('got them') });
  const [answer] = await read(aliceMessenger, 1);
  expect(answer!.seq).toBe(1);
  expect(bytesToUtf8(answer!.body)).toBe('got them');
  await reply.acknowledged;
});

it('catches up on everything sent while the receiver was away, and resumes at the consumed position', async () => {
  const aliceMessenger = await start(alice);
  const before = (await start(bob)).inboxLength;
  await running.pop()!.close(); // bob goes away

  const sent = [];
  for (let i = 1; i <= 5; i++) sent.push(await aliceMessenger.send(bob.identity.id.toString(), { type: 'test/offline', body: utf8ToBytes(`while away ${i}`) }));
  const bobMessenger = await start(bob); // the same journal: bob restarts
  const received = await read(bobMessenger, 5, before);
  expect(received.map((m) => bytesToUtf8(m.body))).toEqual(['while away 1', 'while away 2', 'while away 3', 'while away 4', 'while away 5']);
  expect(received.map((m) => m.position)).toEqual([before + 1, before + 2, before + 3, before + 4, before + 5]);
  await Promise.all(sent.map((s) => s.acknowledged));
  // Without `after`, reading resumes at the consumed position (20, from the first test).
  const [next] = await read(bobMessenger, 1);
  expect(next!.position).toBe(21);
});

it('takes two senders at once: every inbox position is unique, and the journal replays after a restart', async () => {
  const bobId = bob.identity.id.toString();
  const carol = await party(nodes[0]!, 'carol-concurrent');
  const [aliceMessenger, carolMessenger] = [await start(alice), await start(carol)];
  let bobMessenger = await start(bob);
  const held = bobMessenger.inboxLength;
  const burst = (messenger: Messenger, name: string) =>
    Promise.all(Array.from({ length: 8 }, (_, i) => messenger.send(bobId, { type: 'test/burst', body: utf8ToBytes(`${name} ${i + 1}`) })));
  const sent = (await Promise.all([burst(aliceMessenger, 'alice'), burst(carolMessenger, 'carol')])).flat();
  await Promise.all(sent.map((s) => s.acknowledged));
  const received = await read(bobMessenger, 16, held);
  expect(new Set(received.map((m) => m.position)).size).toBe(16);
  for (const name of ['alice', 'carol']) {
    expect(received.filter((m) => bytesToUtf8(m.body).startsWith(name)).map((m) => bytesToUtf8(m.body))).toEqual(Array.from({ length: 8 }, (_, i) => `${name} ${i + 1}`));
  }
  await running.splice(running.indexOf(bobMessenger), 1)[0]!.close();
  bobMessenger = await start(bob); // replays the journal, which must be in position order
  expect(bobMessenger.inboxLength).toBe(held + 16);
});

it('refuses replays, forgeries, misaddressed envelopes and revoked senders, and counts them', async () => {
  const bobMessenger = await start(bob);
  const bobId = bob.identity.id.toString();
  const held = bobMessenger.inboxLength;
  const announce = (from: OwnedIdentity, cid: unknown): Promise<void> =>
    nodes[0]!.pubsub.publish(messagingTopic(bobId), encodeFrame({ kind: 'announce', from: from.id.toString(), head: from.head, cid: cid as never }));

  // A replayed announcement of a message bob already holds: acknowledged again, never delivered again.
  const aliceMessenger = await start(alice);
  const sent = await aliceMessenger.send(bobId, { type: 'test/once', body: utf8ToBytes('once') });
  await sent.acknowledged;
  await announce(alice.identity, sent.cid);
  await until('the replay is seen', () => bobMessenger.stats().duplicates > 0);

  // Mallory seals an envelope naming alice as sender, signs it with her own keys, and announces it as alice's.
  const mallory = await party(nodes[0]!, 'mallory');
  const forged = await sealEnvelope({
    from: { id: alice.identity.id.toString(), sign: identitySigner(mallory.identity, mallory.keyStore).sign },
    to: [{ id: bobId, publicKey: bob.identity.document.keys.kem }],
    type: 'test/forged',
    prev: sent.cid,
    body: utf8ToBytes('pay mallory'),
  });
  const forgedCid = await nodes[0]!.store.putDag(dagCbor.decode(encodeEnvelope(forged)), { pin: true });
  await announce(alice.identity, forgedCid);
  await until('the forgery is refused', () => bob.rejections.some((r) => r.reason === 'bad-signature'));

  // A genuine envelope from alice to carol, announced on bob's topic.
  const carol = await party(nodes[0]!, 'carol');
  const toCarol = await sealEnvelope({
    from: identitySigner(alice.identity, alice.keyStore),
    to: [{ id: carol.identity.id.toString(), publicKey: carol.identity.document.keys.kem }],
    type: 'test/for-carol',
    body: utf8ToBytes('for carol only'),
  });
  await announce(alice.identity, await nodes[0]!.store.putDag(dagCbor.decode(encodeEnvelope(toCarol)), { pin: true }));
  await until('the misaddressed envelope is refused', () => bob.rejections.some((r) => r.reason === 'not-addressed'));

  // A revoked identity may not send.
  const dave = await party(nodes[0]!, 'dave');
  const daveMessenger = await start(dave);
  await daveMessenger.send(bobId, { type: 'test/before-revocation', body: utf8ToBytes('hello') }).then((s) => s.acknowledged);
  const revoked = await revokeIdentity(dave.identity, { keyStore: dave.keyStore, store: nodes[0]!.store });
  const lateEnvelope = await sealEnvelope({
    from: identitySigner(dave.identity, dave.keyStore),
    to: [{ id: bobId, publicKey: bob.identity.document.keys.kem }],
    type: 'test/after-revocation',
    body: utf8ToBytes('too late'),
  });
  const lateCid = await nodes[0]!.store.putDag(dagCbor.decode(encodeEnvelope(lateEnvelope)), { pin: true });
  await nodes[0]!.pubsub.publish(messagingTopic(bobId), encodeFrame({ kind: 'announce', from: dave.identity.id.toString(), head: revoked.cid, cid: lateCid }));
  await until('the revoked sender is refused', () => bob.rejections.some((r) => r.reason === 'revoked-sender'));

  // Garbage on the topic is counted, not fatal.
  await nodes[0]!.pubsub.publish(messagingTopic(bobId), utf8ToBytes('not a frame'));
  await until('garbage is refused', () => bob.rejections.some((r) => r.reason === 'malformed'));

  // Exactly two messages were delivered: alice's genuine one and dave's from before his revocation.
  const delivered = await read(bobMessenger, 2, held);
  expect(delivered.map((m) => bytesToUtf8(m.body))).toEqual(['once', 'hello']);
  expect(bobMessenger.inboxLength).toBe(held + 2);
  expect(bob.rejections.every((r) => !JSON.stringify(r).includes('pay mallory'))).toBe(true);
});

/** `store` whose putDag fails with `code` for the first `failures` calls (an IPFS daemon restarting, or a real fault). */
function failingStore(store: IpfsNode['store'], failures: number, code: 'UNAVAILABLE' | 'INVALID_DATA'): IpfsNode['store'] & { calls: number } {
  const wrapped = Object.create(store) as IpfsNode['store'] & { calls: number };
  wrapped.calls = 0;
  wrapped.putDag = (value, options) => {
    wrapped.calls += 1;
    if (wrapped.calls <= failures) return Promise.reject(new IpfsError(code, 'simulated store failure'));
    return store.putDag(value, options);
  };
  return wrapped;
}

it('waits out a store that is briefly unavailable (a Kubo restart) and delivers; a real fault or a longer outage fails the send', async () => {
  const bobMessenger = await start(bob);
  const after = bobMessenger.inboxLength;
  const away = failingStore(alice.node.store, 3, 'UNAVAILABLE');
  const patient = await start(alice, { store: away });
  const sent = await patient.send(bob.identity.id.toString(), { type: 'test/after-outage', body: utf8ToBytes('stored on the fourth try') });
  expect(away.calls).toBe(4);
  const [received] = await read(bobMessenger, 1, after);
  expect(bytesToUtf8(received!.body)).toBe('stored on the fourth try');
  await sent.acknowledged;
  await patient.close();

  const broken = await start(alice, { store: failingStore(alice.node.store, 1, 'INVALID_DATA') });
  await expect(broken.send(bob.identity.id.toString(), { type: 'test/x', body: utf8ToBytes('x') })).rejects.toMatchObject({ code: 'STORE_FAILED' });
  await broken.close();
  const impatient = await start(alice, { store: failingStore(alice.node.store, 100, 'UNAVAILABLE'), storeRetryMs: 1_000 });
  await expect(impatient.send(bob.identity.id.toString(), { type: 'test/x', body: utf8ToBytes('x') })).rejects.toMatchObject({ code: 'STORE_FAILED' });
});
