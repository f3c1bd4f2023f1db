/**
 * Chain closes (docs/specs/messaging-v1.md §7, docs/adr/0023-chain-close.md): a sender closes its
 * chains at a recipient with a signed close envelope, and closed chains no longer count toward the
 * recipient's cap on chains per sender. An identity set up afresh again and again (a new journal each
 * time) thus keeps delivering; a replayed or continued envelope of a closed chain is refused, also
 * after the receiver restarts; a close signed by another identity closes nothing of the sender's; and
 * a replica retiring its chain neither loses nor repeats the messages of the replica that keeps sending.
 */
import { join } from 'node:path';
import * as dagCbor from '@ipld/dag-cbor';
import { bytesToUtf8, utf8ToBytes } from '@milagro/crypto';
import { encodeEnvelope, sealEnvelope } from '@milagro/envelope';
import type { IpfsNode } from '@milagro/ipfs';
import { identitySigner, IdentityResolver } from '@milagro/pki';
import type { CID } from 'multiformats/cid';
import { encodeChainClose } from '../src/chain-close.js';
import { CHAIN_CLOSE_TYPE, FileJournal, MemoryJournal, messagingTopic, type Rejection } from '../src/index.js';
import { encodeFrame } from '../src/wire.js';
import { copyOf, messengerFixture, useNodes, type TestIdentity } from './support/messenger-fixture.js';

jest.setTimeout(600_000);

type Identity = TestIdentity;

let nodes: IpfsNode[] = [];
let receiverNode: IpfsNode;
const network = useNodes('milagro-close-', 240_000);
const { identity, start, stop, read, until, sendMany } = messengerFixture({ messageType: 'test/close', waitMs: 240_000 });

/**
 * Announces `envelope` (bytes inline) on `to`'s topic as from `from`, as anyone on the topic can, every
 * second until `done` (pubsub may drop a frame, e.g. while a restarted receiver's subscription spreads).
 */
async function announceUntil(what: string, node: IpfsNode, from: Identity, to: string, cid: CID, envelope: Uint8Array, done: () => boolean): Promise<void> {
  const frame = encodeFrame({ kind: 'announce', from: from.identity.id.toString(), head: from.identity.head, cid, envelope });
  const deadline = Date.now() + 240_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await node.pubsub.publish(messagingTopic(to), frame);
    for (let i = 0; i < 20 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(() => {
  nodes = network.nodes;
  receiverNode = nodes[0]!;
});

async function setUp(name: string): Promise<{ receiver: Identity; sender: Identity; receiverId: string; senderId: string }> {
  const receiver = await identity(receiverNode, `${name}-receiver`);
  const sender = await identity(nodes[1]!, `${name}-sender`);
  await Promise.all([receiverNode.store.get(sender.identity.id, { timeoutMs: 120_000 }), ...[1, 2].map((i) => nodes[i]!.store.get(receiver.identity.id, { timeoutMs: 120_000 }))]);
  return { receiver, sender, receiverId: receiver.identity.id.toString(), senderId: sender.identity.id.toString() };
}

it('an identity set up afresh 70 times (a new journal each time, closeOtherChains) still delivers to the same receiver', async () => {
  const { receiver, sender, receiverId } = await setUp('afresh');
  const refused: Rejection[] = [];
  const inbox = await start(receiver, receiverNode, new MemoryJournal(), refused);
  const roots: string[] = [];
  for (let i = 1; i <= 70; i++) {
    const node = nodes[1 + (i % 2)]!;
    const fresh = await start(sender, node, new MemoryJournal(), [], { closeOtherChains: true });
    const sent = await fresh.send(receiverId, { type: 'test/close', body: utf8ToBytes(`setup ${i}`) });
    roots.push(sent.cid.toString());
    await sent.acknowledged;
    // Its chain close (of every other chain of the identity here) is acknowledged too.
    await until(`setup ${i}'s chain close is acknowledged`, () => fresh.unacknowledged().envelopes === 0);
    await stop(fresh);
  }
  const received = await read(inbox, 70, 0);
  expect(received.map((m) => bytesToUtf8(m.body))).toEqual(Array.from({ length: 70 }, (_, i) => `setup ${i + 1}`));
  expect(received.map((m) => [m.chain.toString(), m.seq])).toEqual(roots.map((root) => [root, 1]));
  expect(inbox.inboxLength).toBe(70);
  expect(refused).toEqual([]);
  // Each setup closed the one before it (and nothing is left open but the last).
  expect(inbox.stats().closedChains).toBe(69);
});

it('a replayed envelope of a closed chain, and a copied journal continuing it, are refused, also after the receiver restarts', async () => {
  const { receiver, sender, receiverId } = await setUp('replay');
  const refused: Rejection[] = [];
  const path = join(network.scratch, 'replay-receiver.journal');
  let inbox = await start(receiver, receiverNode, new FileJournal({ path }), refused);
  const journal = new MemoryJournal();
  const original = await start(sender, nodes[1]!, journal, []);
  const first = await sendMany(original, receiverId, 'first', 3);
  await Promise.all(first.map((sent) => sent.acknowledged));
  const copy = await copyOf(journal); // a data dir copied while it ran
  // Shutting down for good: its chain is closed at the receiver once everything is acknowledged.
  await stop(original, { retireChains: true, timeoutMs: 120_000 });
  expect(original.unacknowledged().envelopes).toBe(0);
  expect(inbox.stats().closedChains).toBe(1);

  // The copy continues the closed chain: refused, never delivered, and it cannot start a new chain.
  const clone = await start(sender, nodes[2]!, copy, []);
  const continued = await clone.send(receiverId, { type: 'test/close', body: utf8ToBytes('continues a closed chain') });
  await until('the continuation is refused', () => refused.some((r) => r.reason === 'chain-closed' && r.cid === continued.cid.toString()));
  expect(refused.find((r) => r.cid === continued.cid.toString())!.detail).toMatch(/closed/);
  // A replay of a held envelope of the closed chain is a duplicate: acknowledged, not delivered.
  const duplicates = inbox.stats().duplicates;
  const bytes = await nodes[1]!.store.get(first[1]!.cid, { timeoutMs: 60_000 });
  await announceUntil('the replay is seen as a duplicate', nodes[1]!, sender, receiverId, first[1]!.cid, bytes, () => inbox.stats().duplicates > duplicates);
  expect(inbox.inboxLength).toBe(3);
  await stop(inbox);

  // Restarted, the receiver still knows the chain is closed: the clone's retries are refused again.
  const before = refused.filter((r) => r.reason === 'chain-closed').length;
  inbox = await start(receiver, receiverNode, new FileJournal({ path }), refused);
  expect(inbox.inboxLength).toBe(3);
  await until('the continuation is refused after the restart', () => refused.filter((r) => r.reason === 'chain-closed').length > before);
  const replayedDuplicates = inbox.stats().duplicates;
  const third = await nodes[1]!.store.get(first[2]!.cid, { timeoutMs: 60_000 });
  await announceUntil('the replay after the restart is a duplicate', nodes[1]!, sender, receiverId, first[2]!.cid, third, () => inbox.stats().duplicates > replayedDuplicates);
  expect(inbox.inboxLength).toBe(3);
  expect(refused.every((r) => r.reason === 'chain-closed')).toBe(true);
  expect((await read(inbox, 3, 0)).map((m) => bytesToUtf8(m.body))).toEqual(['first 1', 'first 2', 'first 3']);
  expect(clone.unacknowledged().envelopes).toBe(1); // never acknowledged: it was not delivered
});

it('a chain close from another identity is refused, and closes nothing of the sender', async () => {
  const { receiver, sender, receiverId } = await setUp('foreign');
  const other = await identity(nodes[2]!, 'foreign-other');
  await receiverNode.store.get(other.identity.id, { timeoutMs: 120_000 });
  const refused: Rejection[] = [];
  const inbox = await start(receiver, receiverNode, new MemoryJournal(), refused);
  const senderMessenger = await start(sender, nodes[1]!, new MemoryJournal(), []);
  const first = await senderMessenger.send(receiverId, { type: 'test/close', body: utf8ToBytes('before') });
  await first.acknowledged;
  const receiverKeys = await new IdentityResolver({ store: nodes[2]!.store }).resolve(receiverId, { timeoutMs: 60_000 });
  const body = encodeChainClose({ roots: [first.cid], others: true, keep: [] });

  // Signed by the other identity but claiming to be the sender: the signature does not verify.
  const otherSigner = identitySigner(other.identity, other.keyStore);
  const forged = encodeEnvelope(
    await sealEnvelope({ from: { ...otherSigner, id: sender.identity.id.toString() }, to: [{ id: receiverId, publicKey: receiverKeys.keys.kem }], type: CHAIN_CLOSE_TYPE, body }),
  );
  const forgedCid = await nodes[2]!.store.putDag(dagCbor.decode(forged), { pin: true, recursive: false });
  await announceUntil('the forged close is refused', nodes[2]!, sender, receiverId, forgedCid, forged, () => refused.some((r) => r.cid === forgedCid.toString()));
  expect(refused.find((r) => r.cid === forgedCid.toString())!.reason).toBe('bad-signature');

  // The other identity's own close naming the sender's chain concerns only its own chains here.
  const own = encodeEnvelope(await sealEnvelope({ from: otherSigner, to: [{ id: receiverId, publicKey: receiverKeys.keys.kem }], type: CHAIN_CLOSE_TYPE, body }));
  const ownCid = await nodes[2]!.store.putDag(dagCbor.decode(own), { pin: true, recursive: false });
  await announceUntil('the other identity closes its own (no) chains', nodes[2]!, other, receiverId, ownCid, own, () => inbox.stats().closedChains === 1);

  // The sender's chain is still open: its next message extends it.
  const next = await senderMessenger.send(receiverId, { type: 'test/close', body: utf8ToBytes('after') });
  await next.acknowledged;
  const received = await read(inbox, 2, 0);
  expect(received.map((m) => [bytesToUtf8(m.body), m.seq, m.chain.toString()])).toEqual([
    ['before', 1, first.cid.toString()],
    ['after', 2, first.cid.toString()],
  ]);
  expect(refused.every((r) => r.reason === 'bad-signature' && r.cid === forgedCid.toString())).toBe(true);
  // An application cannot send messaging's own content types.
  await expect(senderMessenger.send(receiverId, { type: CHAIN_CLOSE_TYPE, body })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
});

it('a chain closed by name before the receiver saw it never starts: its root is refused when it arrives', async () => {
  const { receiver, sender, receiverId } = await setUp('unseen');
  const refused: Rejection[] = [];
  const inbox = await start(receiver, receiverNode, new MemoryJournal(), refused);
  const receiverKeys = await new IdentityResolver({ store: nodes[1]!.store }).resolve(receiverId, { timeoutMs: 60_000 });
  const signer = identitySigner(sender.identity, sender.keyStore);
  const seal = async (type: string, body: Uint8Array): Promise<{ cid: CID; bytes: Uint8Array }> => {
    const bytes = encodeEnvelope(await sealEnvelope({ from: signer, to: [{ id: receiverId, publicKey: receiverKeys.keys.kem }], type, body }));
    return { cid: await nodes[1]!.store.putDag(dagCbor.decode(bytes), { pin: true, recursive: false }), bytes };
  };
  // The root of a chain the receiver has not seen (a lost node's, announced late by anyone holding it).
  const unseen = await seal('test/close', utf8ToBytes('from a closed chain'));
  const close = await seal(CHAIN_CLOSE_TYPE, encodeChainClose({ roots: [unseen.cid], others: false, keep: [] }));
  await announceUntil('the close is applied', nodes[1]!, sender, receiverId, close.cid, close.bytes, () => inbox.stats().closedChains === 1);
  await announceUntil('the closed root is refused', nodes[1]!, sender, receiverId, unseen.cid, unseen.bytes, () => refused.some((r) => r.cid === unseen.cid.toString()));
  expect(refused.length).toBeGreaterThan(0);
  expect(refused.every((r) => r.reason === 'chain-closed' && r.cid === unseen.cid.toString())).toBe(true);
  expect(inbox.inboxLength).toBe(0);
  // The close itself, replayed, is a duplicate: it closes nothing again.
  const duplicates = inbox.stats().duplicates;
  await announceUntil('the replayed close is a duplicate', nodes[1]!, sender, receiverId, close.cid, close.bytes, () => inbox.stats().duplicates > duplicates);
  expect(inbox.stats().closedChains).toBe(1);
});

it("two replicas: one retiring its chain neither loses nor repeats the other's messages", async () => {
  const { receiver, sender, receiverId } = await setUp('replicas');
  const refused: Rejection[] = [];
  const inbox = await start(receiver, receiverNode, new MemoryJournal(), refused);
  const a = await start(sender, nodes[1]!, new MemoryJournal(), []);
  const b = await start(sender, nodes[2]!, new MemoryJournal(), []);
  const [fromA, fromB] = await Promise.all([sendMany(a, receiverId, 'a', 6), sendMany(b, receiverId, 'b', 6)]);
  // a retires while b keeps sending.
  const [, moreB] = await Promise.all([stop(a, { retireChains: true, timeoutMs: 120_000 }), sendMany(b, receiverId, 'b', 6, 7)]);
  const lastB = await sendMany(b, receiverId, 'b', 6, 13);
  await Promise.all([...fromA, ...fromB, ...moreB, ...lastB].map((sent) => sent.acknowledged));
  expect(a.unacknowledged().envelopes).toBe(0);
  const received = await read(inbox, 24, 0);
  expect(inbox.inboxLength).toBe(24);
  expect(new Set(received.map((m) => m.cid.toString())).size).toBe(24);
  const laneA = received.filter((m) => bytesToUtf8(m.body).startsWith('a '));
  const laneB = received.filter((m) => bytesToUtf8(m.body).startsWith('b '));
  expect(laneA.map((m) => bytesToUtf8(m.body))).toEqual(Array.from({ length: 6 }, (_, i) => `a ${i + 1}`));
  expect(laneB.map((m) => bytesToUtf8(m.body))).toEqual(Array.from({ length: 18 }, (_, i) => `b ${i + 1}`));
  expect(laneB.map((m) => m.seq)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
  expect(refused).toEqual([]);
  expect(inbox.stats().closedChains).toBe(1);
  await until('b has nothing unacknowledged', () => b.unacknowledged().envelopes === 0);
});

it('a journal restored with chains-closed closes the old chains it names once they are acknowledged, freeing their slots', async () => {
  const { receiver, sender, receiverId } = await setUp('restore');
  const refused: Rejection[] = [];
  const inbox = await start(receiver, receiverNode, new MemoryJournal(), refused, { maxChainsPerSender: 1 });
  const journal = new MemoryJournal();
  const original = await start(sender, nodes[1]!, journal, []);
  await (await original.send(receiverId, { type: 'test/close', body: utf8ToBytes('before') })).acknowledged;
  await stop(original);
  await journal.append([{ k: 'chains-closed' }]); // as `milagro backup restore` does
  const restored = await start(sender, nodes[2]!, journal, []);
  // With one chain allowed, the new chain gets in once the old one is closed (until then it is refused and retried).
  const next = await restored.send(receiverId, { type: 'test/close', body: utf8ToBytes('after restore') });
  await next.acknowledged;
  await until('the chain close is acknowledged', () => restored.unacknowledged().envelopes === 0);
  const received = await read(inbox, 2, 0);
  expect(received.map((m) => [bytesToUtf8(m.body), m.seq])).toEqual([
    ['before', 1],
    ['after restore', 1],
  ]);
  expect(inbox.stats().closedChains).toBe(1);
  expect(refused.every((r) => r.reason === 'too-many-chains')).toBe(true);
  expect(refused.every((r) => /close the old ones/.test(r.detail) && /maxChainsPerSender 1/.test(r.detail))).toBe(true);
});
