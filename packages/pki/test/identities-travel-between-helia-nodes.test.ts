/**
 * The PKI over real IPFS: an identity created and rotated on one embedded Helia node resolves on
 * another that only shares a private swarm with it (documents travel by Bitswap), and
 * `@milagro/ipfs`'s ContentStore is a DocumentStore as it is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedNode, generateSwarmKey, type ContentStore, type IpfsNode } from '@milagro/ipfs';
import { MemoryKeyStore } from '@milagro/keystore';
import { createIdentity, IdentityResolver, isPkiError, rotateIdentity, type DocumentStore } from '../src/index.js';

// Compile-time proof that every ContentStore can serve the PKI.
const asDocumentStore = (store: ContentStore): DocumentStore => store;

describe('identities between two Helia nodes', () => {
  let dirs: string[] = [];
  let nodes: IpfsNode[] = [];

  beforeAll(async () => {
    dirs = await Promise.all([0, 1].map(() => mkdtemp(join(tmpdir(), 'milagro-pki-helia-'))));
    const swarmKey = generateSwarmKey();
    const first = await createEmbeddedNode({ dataDir: dirs[0]!, swarmKey });
    const second = await createEmbeddedNode({ dataDir: dirs[1]!, swarmKey, peers: await first.multiaddrs() });
    nodes = [first, second];
    // The configured peer is dialled in the background; wait until the swarm is up.
    for (let tries = 0; !(await second.connectedPeers()).includes(first.peerId); tries++) {
      if (tries === 200) throw new Error('the two nodes never connected');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })));
  });

  it('creates and rotates on one node, resolves on the other', async () => {
    const keyStore = new MemoryKeyStore();
    const here = { keyStore, store: asDocumentStore(nodes[0]!.store) };
    let alice = await createIdentity({ ...here, labelPrefix: 'alice' });
    alice = await rotateIdentity(alice, here);
    alice = await rotateIdentity(alice, here);

    const resolver = new IdentityResolver({ store: nodes[1]!.store });
    const resolved = await resolver.resolve(alice.id.toString(), { heads: [alice.head.toString()], timeoutMs: 20_000 });
    expect(resolved.seq).toBe(2);
    expect(resolved.keys.kem).toEqual(alice.document.keys.kem);
    expect(await nodes[0]!.store.isPinned(alice.head)).toBe(true);

    const missing = await resolver.resolve('bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae', { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(isPkiError(missing, 'NOT_FOUND')).toBe(true);
  }, 120_000);
});
