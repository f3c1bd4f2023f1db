/**
 * `bootstrapNode` on a file key store: the first start creates the identity and the files of the
 * data dir, a restart loads the same identity, and a start that fails part-way closes what it had
 * opened and lets the lower layer's error through. A data dir given the key store alone (a replica)
 * whose identity documents cannot be fetched fails with that, and makes no second identity.
 */
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKeyStoreError } from '@milagro/keystore';
import { isPkiError } from '@milagro/pki';
import { isStorageError } from '@milagro/storage';
import { z } from 'zod';
import { bootstrapNode, nodeConfigShape, parseConfig, type NodeConfig } from '../src/index.js';

jest.setTimeout(180_000);

const options = { identityLabelPrefix: 'test', databaseFile: 'test.sqlite' };
let dataDir: string;
let id: string;

function configFor(passphraseVar: string, dir = dataDir): NodeConfig {
  return parseConfig(z.object(nodeConfigShape).strict(), { dataDir: dir, keyStore: { kind: 'file', passphrase: { env: passphraseVar }, scryptLogN: 10 } }, { label: 'test' });
}

beforeAll(async () => {
  dataDir = join(await mkdtemp(join(tmpdir(), 'milagro-node-')), 'data');
  process.env['TEST_NODE_PASSPHRASE'] = 'node passphrase';
  process.env['TEST_NODE_WRONG_PASSPHRASE'] = 'another passphrase';
});
afterAll(async () => {
  await rm(join(dataDir, '..'), { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

it('creates an identity on first start and loads the same one after a restart', async () => {
  const first = await bootstrapNode(configFor('TEST_NODE_PASSPHRASE'), options);
  id = first.identity.id.toString();
  expect((await first.keyStore.list()).map((key) => key.label)).toContain('test/0/ed25519');
  expect((await first.resolver.resolve(id)).head.toString()).toBe(id);
  await first.close();
  await first.close(); // a second close does nothing
  expect((await readdir(dataDir)).sort()).toEqual(['ipfs', 'keys', 'messaging.journal', 'test.sqlite']);

  const second = await bootstrapNode(configFor('TEST_NODE_PASSPHRASE'), options);
  expect(second.identity.id.toString()).toBe(id);
  await second.close();
});

/** The error a start that must fail throws (a node that starts anyway is closed, so nothing leaks). */
async function failedStart(config: NodeConfig, startOptions: typeof options): Promise<unknown> {
  const node = await bootstrapNode(config, startOptions).catch((error: unknown) => error);
  if (node instanceof Error) return node;
  await (node as { close(): Promise<void> }).close();
  return 'started';
}

it('a failed start closes what it opened and lets the cause through; the next start works', async () => {
  const wrongPassphrase = await failedStart(configFor('TEST_NODE_WRONG_PASSPHRASE'), options);
  expect(isKeyStoreError(wrongPassphrase, 'WRONG_PASSPHRASE')).toBe(true);
  // The database "file" is a directory: key store and IPFS node are open by then and must be closed again.
  const unopenableDatabase = await failedStart(configFor('TEST_NODE_PASSPHRASE'), { ...options, databaseFile: 'ipfs' });
  expect(isStorageError(unopenableDatabase)).toBe(true);

  const node = await bootstrapNode(configFor('TEST_NODE_PASSPHRASE'), options);
  expect(node.identity.id.toString()).toBe(id);
  await node.close();
});

it("a replica's data dir with the key store alone, its identity's documents out of reach, fails with the fetch and makes no second identity", async () => {
  const replica = join(dataDir, '..', 'replica');
  await cp(join(dataDir, 'keys'), join(replica, 'keys'), { recursive: true });
  // No peers: the inception document is nowhere to fetch from (30 s, the PKI's fetch timeout).
  const unreachable = await failedStart(configFor('TEST_NODE_PASSPHRASE', replica), options);
  expect(isPkiError(unreachable, 'NOT_FOUND')).toBe(true);
  expect((unreachable as Error).message).toContain(id);

  // The key store still holds the one identity: copied next to its documents, the replica loads it.
  await rm(join(replica, 'ipfs'), { recursive: true, force: true });
  await cp(join(dataDir, 'ipfs'), join(replica, 'ipfs'), { recursive: true });
  await rm(join(replica, 'ipfs', 'peer.key'));
  const node = await bootstrapNode(configFor('TEST_NODE_PASSPHRASE', replica), options);
  expect(node.identity.id.toString()).toBe(id);
  await node.close();
});
