/**
 * Replicas of one identity (the same keys, each with its own journal and IPFS node) each send on their
 * own chain (docs/specs/messaging-v1.md §2, §4; docs/adr/0018-one-chain-per-journal.md): the receiver
 * keeps a lane per chain root, delivers everything exactly once and refuses nothing; acknowledgements
 * and replies on the identity's topic reach every replica, which ignore what is not theirs. A second
 * successor within one chain (a journal copied and continued: a node restored from an older backup) is
 * still a fork and refused; the number of chains per sender is capped; a receiver restarted in the
 * middle keeps every lane (and reads journals written before chains had names as one lane).
 */
import { join } from 'node:path';
import { bytesToUtf8, utf8ToBytes } from '@milagro/crypto';
import type { IpfsNode } from '@milagro/ipfs';
import { FileJournal, MemoryJournal, type Rejection } from '../src/index.js';
import { copyOf, messengerFixture, useNodes, type TestIdentity } from './support/messenger-fixture.js';

jest.setTimeout(180_000);

type Identity = TestIdentity;

/** The receiver's node, then the two replicas' nodes. */
let nodes: IpfsNode[] = [];
let receiverNode: IpfsNode;
const network = useNodes('milagro-chains-', 120_000);
const { identity, start, stop, read, until, sendMany } = messengerFixture({ messageType: 'test/replica', waitMs: 120_000 });

beforeAll(() => {
  nodes = network.nodes;
  receiverNode = nodes[0]!;
});

/** A receiver identity and a sending identity whose two replicas run on nodes[1] and nodes[2]. */
async function setUp(name: string): Promise<{ receiver: Identity; sender: Identity; receiverId: string; senderId: string }> {
  const receiver = await identity(receiverNode, `${name}-receiver`);
  const sender = await identity(nodes[1]!, `${name}-sender`);
  // Bitswap's first exchange on a new connection can take seconds on a loaded machine; warm it up.
  await Promise.all([receiverNode.store.get(sender.identity.id, { timeoutMs: 60_000 }), ...[1, 2].map((i) => nodes[i]!.store.get(receiver.identity.id, { timeoutMs: 60_000 }))]);
  return { receiver, sender, receiverId: receiver.identity.id.toString(), senderId: sender.identity.id.toString() };
}

it('two replicas of one identity send at once: each message is delivered exactly once, in order per replica, none refused; replies reach both', async () => {
  const { receiver, sender, receiverId, senderId } = await setUp('concurrent');
  const refused: Rejection[] = [];
  const replicaRefused: Rejection[] = [];
  const inbox = await start(receiver, receiverNode, new MemoryJournal(), refused);
  const a = await start(sender, nodes[1]!, new MemoryJournal(), replicaRefused);
  const b = await start(sender, nodes[2]!, new MemoryJournal(), replicaRefused);

  const [fromA, fromB] = await Promise.all([sendMany(a, receiverId, 'a', 12), sendMany(b, receiverId, 'b', 12)]);
  await Promise.all([...fromA, ...fromB].map((sent) => sent.acknowledged));
  const received = await read(inbox, 24, 0);
  expect(inbox.inboxLength).toBe(24);
  expect(refused).toEqual([]);
  expect(new Set(received.map((m) => m.cid.toString())).size).toBe(24);
  expect(received.every((m) => m.from === senderId)).toBe(true);
  for (const [name, sent] of [['a', fromA], ['b', fromB]] as const) {
    const lane = received.filter((m) => bytesToUtf8(m.body).startsWith(`${name} `));
    expect(lane.map((m) => bytesToUtf8(m.body))).toEqual(Array.from({ length: 12 }, (_, i) => `${name} ${i + 1}`));
    expect(lane.map((m) => m.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // The lane is named by the replica's first envelope.
    expect(lane.every((m) => m.chain.equals(sent[0]!.cid))).toBe(true);
  }
  expect([a.unacknowledged().envelopes, b.unacknowledged().envelopes]).toEqual([0, 0]);

  // A reply to the identity reaches both replicas; each acknowledges it, and each ignores the
  // acknowledgements of the other's chain (they arrive on the identity's topic too) without a complaint.
  const reply = await inbox.send(senderId, { type: 'test/reply', body: utf8ToBytes('to whichever replica') });
  const [onA, onB] = await Promise.all([read(a, 1, 0), read(b, 1, 0)]);
  expect([bytesToUtf8(onA![0]!.body), bytesToUtf8(onB![0]!.body)]).toEqual(['to whichever replica', 'to whichever replica']);
  await reply.acknowledged;
  expect(replicaRefused).toEqual([]);
  expect(a.stats().acknowledged + b.stats().acknowledged).toBe(24);
});

it('a second successor within one chain is still a fork: a copied journal that continues its chain is refused', async () => {
  const { receiver, sender, receiverId } = await setUp('fork');
  const refused: Rejection[] = [];
  const inbox = await start(receiver, receiverNode, new MemoryJournal(), refused);
  const journal = new MemoryJournal();
  const original = await start(sender, nodes[1]!, journal, []);
  await Promise.all((await sendMany(original, receiverId, 'first', 2)).map((sent) => sent.acknowledged));
  const copy = await copyOf(journal); // e.g. a backup taken here
  await Promise.all((await sendMany(original, receiverId, 'later', 1)).map((sent) => sent.acknowledged));
  await stop(original);

  // Restored from the copy, the node continues after `first 2`, which `later 1` already follows.
  const restored = await start(sender, nodes[2]!, copy, []);
  const forked = await restored.send(receiverId, { type: 'test/replica', body: utf8ToBytes('forked') });
  await until('the fork is refused', () => refused.some((r) => r.reason === 'broken-chain' && r.cid === forked.cid.toString()));
  expect(refused.find((r) => r.cid === forked.cid.toString())!.detail).toMatch(/second successor/);
  expect(inbox.inboxLength).toBe(3);
  expect(inbox.stats().rejected['too-many-chains']).toBe(0);
});

it(`a sender may have at most maxChainsPerSender chains: one more is refused as too-many-chains`, async () => {
  const { receiver, sender, receiverId } = await setUp('cap');
  const refused: Rejection[] = [];
  const inbox = await start(receiver, receiverNode, new MemoryJournal(), refused, { maxChainsPerSender: 2 });
  for (const node of [nodes[1]!, nodes[2]!]) {
    const replica = await start(sender, node, new MemoryJournal(), []);
    await (await replica.send(receiverId, { type: 'test/replica', body: utf8ToBytes('within the cap') })).acknowledged;
    await stop(replica);
  }
  const third = await start(sender, nodes[1]!, new MemoryJournal(), []);
  const over = await third.send(receiverId, { type: 'test/replica', body: utf8ToBytes('one chain too many') });
  await until('the third chain is refused', () => refused.some((r) => r.reason === 'too-many-chains' && r.cid === over.cid.toString()));
  expect(inbox.inboxLength).toBe(2);
  expect(refused.every((r) => r.reason === 'too-many-chains')).toBe(true);
});

it('a receiver restarted in the middle keeps every lane (journal replay), and reads a journal without chain names as one lane', async () => {
  const { receiver, sender, receiverId } = await setUp('restart');
  const refused: Rejection[] = [];
  const path = join(network.scratch, 'receiver.journal');
  let inbox = await start(receiver, receiverNode, new FileJournal({ path }), refused);
  const a = await start(sender, nodes[1]!, new MemoryJournal(), []);
  const b = await start(sender, nodes[2]!, new MemoryJournal(), []);
  const first = (await Promise.all([sendMany(a, receiverId, 'a', 4), sendMany(b, receiverId, 'b', 4)])).flat();
  await Promise.all(first.map((sent) => sent.acknowledged));
  await stop(inbox);

  // Both lanes grow while the receiver is down; on restart each extends its own lane.
  const second = (await Promise.all([sendMany(a, receiverId, 'a-later', 4), sendMany(b, receiverId, 'b-later', 4)])).flat();
  inbox = await start(receiver, receiverNode, new FileJournal({ path }), refused);
  expect(inbox.inboxLength).toBe(8);
  await Promise.all(second.map((sent) => sent.acknowledged));
  const later = await read(inbox, 8, 8);
  for (const name of ['a-later', 'b-later']) {
    const lane = later.filter((m) => bytesToUtf8(m.body).startsWith(`${name} `));
    expect(lane.map((m) => m.seq)).toEqual([5, 6, 7, 8]);
  }
  expect(inbox.inboxLength).toBe(16);
  expect(refused).toEqual([]);
  await stop(inbox);

  // A journal written before chains had names: replica a's lane alone, `chain` stripped from every
  // record. It replays as one lane rooted at a's first envelope, which a's next message extends.
  const aRoot = first[0]!.cid;
  const legacy = new MemoryJournal();
  const written = new FileJournal({ path });
  const records = await written.load();
  await written.close();
  let position = 0;
  for (const record of records) {
    if (record.k !== 'received' || !record.chain!.equals(aRoot)) continue;
    const { chain: _chain, ...unnamed } = record;
    await legacy.append([{ ...unnamed, position: ++position }]);
  }
  const replayed = await start(receiver, receiverNode, legacy, refused);
  expect(replayed.inboxLength).toBe(8);
  const lane = await read(replayed, 8, 0);
  expect(lane.map((m) => [m.seq, m.chain.toString()])).toEqual(Array.from({ length: 8 }, (_, i) => [i + 1, aRoot.toString()]));
  const next = await a.send(receiverId, { type: 'test/replica', body: utf8ToBytes('after the legacy journal') });
  const [extended] = await read(replayed, 1, 8);
  expect([extended!.seq, extended!.chain.toString(), bytesToUtf8(extended!.body)]).toEqual([9, aRoot.toString(), 'after the legacy journal']);
  await next.acknowledged;
  expect(refused).toEqual([]);
});

it('a journal restored from an older backup, its chains closed, sends on a new chain, and its old unacknowledged envelope is acknowledged', async () => {
  const { receiver, sender, receiverId } = await setUp('restore');
  const refused: Rejection[] = [];
  const receiverJournal = new MemoryJournal();
  let inbox = await start(receiver, receiverNode, receiverJournal, refused);
  const journal = new MemoryJournal();
  const original = await start(sender, nodes[1]!, journal, []);
  await (await original.send(receiverId, { type: 'test/replica', body: utf8ToBytes('before') })).acknowledged;

  // The backup is taken while 'in flight' waits for the receiver, which is down.
  await stop(inbox);
  const inFlight = await original.send(receiverId, { type: 'test/replica', body: utf8ToBytes('in flight') });
  const backup = await copyOf(journal);
  inbox = await start(receiver, receiverNode, receiverJournal, refused);
  await inFlight.acknowledged;
  await (await original.send(receiverId, { type: 'test/replica', body: utf8ToBytes('after backup') })).acknowledged;
  await stop(original);

  // Restored (on another node), with the journal's chains closed as a restore does.
  await backup.append([{ k: 'chains-closed' }]);
  const restored = await start(sender, nodes[2]!, backup, []);
  const next = await restored.send(receiverId, { type: 'test/replica', body: utf8ToBytes('after restore') });
  expect(next.seq).toBe(1);
  await next.acknowledged;
  // 'in flight', re-announced from the closed chain, is a duplicate there: acknowledged by its own CID.
  await until('the old chain is acknowledged', () => restored.unacknowledged().envelopes === 0);
  const received = await read(inbox, 4, 0);
  expect(received.map((m) => bytesToUtf8(m.body))).toEqual(['before', 'in flight', 'after backup', 'after restore']);
  expect(received[3]!.chain.equals(next.cid)).toBe(true);
  expect(inbox.inboxLength).toBe(4);
  expect(refused).toEqual([]);
});
