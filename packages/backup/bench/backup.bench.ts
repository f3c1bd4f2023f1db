/**
 * Suite `backup` (issue 11): backup and restore throughput of a 256 MiB node store, end to end in
 * one process: snapshot → archive → STREAM seal (k-of-n, 2 of 3) → 1 MiB blocks written to a
 * directory (as a Helia blockstore does), and blocks → open with 2 shares → unpack → fsync → checks
 * → rename into place. Baseline: copying the same bytes file to file (the disk floor). Fiduciary
 * messaging and IPFS networking are not included (one round trip per fiduciary, independent of size).
 */
import * as dagCbor from '@ipld/dag-cbor';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackup, generateRecoverySecret, readEnvelope, recoveryPublicKey, restoreBackup, type CreatedBackup } from '@milagro/backup';
import { unwrapShare, type EnvelopeShare } from '@milagro/envelope';
import { MemoryKeyStore } from '@milagro/keystore';
import { createIdentity, identityRecipientKey, identitySigner, type OwnedIdentity } from '@milagro/pki';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import type { BenchSuite } from '../../../tools/bench/suite.js';

const SIZE = 256 * 1024 * 1024;

/** Blocks as files in a directory. */
class DirectoryStore {
  dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }
  async put(bytes: Uint8Array): Promise<CID> {
    const cid = CID.createV1(raw.code, await sha256.digest(bytes));
    await writeFile(join(this.dir, cid.toString()), bytes);
    return cid;
  }
  async putDag(value: unknown): Promise<CID> {
    const bytes = dagCbor.encode(value);
    const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes));
    await writeFile(join(this.dir, cid.toString()), bytes);
    return cid;
  }
  async get(cid: CID | string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(join(this.dir, cid.toString())));
  }
  async getDag<T>(cid: CID | string): Promise<T> {
    return dagCbor.decode(await this.get(cid));
  }
  async pin(): Promise<void> {}
  async unpin(): Promise<void> {}
}

let root: string;
let source: string;
let store: DirectoryStore;
let node: { identity: OwnedIdentity; keyStore: MemoryKeyStore };
let fiduciaries: Array<{ identity: OwnedIdentity; keyStore: MemoryKeyStore }>;
let backup: CreatedBackup;
let shares: EnvelopeShare[];
let round = 0;

async function makeBackup(): Promise<CreatedBackup> {
  return createBackup({
    source: { dataDir: source },
    signer: identitySigner(node.identity, node.keyStore),
    identity: node.identity.head,
    store,
    fiduciaries: fiduciaries.map((f) => ({ id: f.identity.id.toString(), publicKey: f.identity.document.keys.kem })),
    threshold: 2,
    recovery: recoveryPublicKey(generateRecoverySecret()),
  });
}

export default {
  suite: 'backup',
  setup: async () => {
    root = await mkdtemp(join(tmpdir(), 'milagro-backup-bench-'));
    source = join(root, 'source');
    await mkdir(join(source, 'ipfs'), { recursive: true });
    await mkdir(join(root, 'blocks'));
    store = new DirectoryStore(join(root, 'blocks'));
    const handle = await open(join(source, 'ipfs', 'store'), 'w');
    const piece = randomBytes(4 * 1024 * 1024);
    for (let written = 0; written < SIZE; written += piece.length) await handle.write(piece);
    await handle.close();
    await writeFile(join(source, 'keys'), randomBytes(8192));
    const party = async (name: string) => {
      const keyStore = new MemoryKeyStore();
      return { identity: await createIdentity({ keyStore, store, labelPrefix: name }), keyStore };
    };
    node = await party('node');
    fiduciaries = [await party('f1'), await party('f2'), await party('f3')];
    backup = await makeBackup();
    const envelope = await readEnvelope(store, backup.manifest.envelope);
    const sender = { id: node.identity.id.toString(), publicKey: node.identity.document.keys.sign };
    shares = [];
    for (const f of fiduciaries.slice(0, 2)) shares.push(await unwrapShare(envelope, { sender, recipient: await identityRecipientKey(f.identity, f.keyStore) }));
  },
  teardown: async () => {
    await rm(root, { recursive: true, force: true });
  },
  cases: [
    {
      name: 'copy 256 MiB file to file (disk floor)',
      bytes: SIZE,
      iterations: 3,
      time: 1,
      fn: async () => {
        const target = join(root, `copy-${round++}`);
        await copyFile(join(source, 'ipfs', 'store'), target);
        await rm(target);
      },
    },
    {
      name: 'backup 256 MiB store (snapshot, seal 2-of-3, blocks, manifest)',
      baseline: 'copy 256 MiB file to file (disk floor)',
      bytes: SIZE,
      iterations: 3,
      time: 1,
      fn: async () => {
        await makeBackup();
      },
    },
    {
      name: 'restore 256 MiB store (blocks, open with 2 shares, unpack, check, move)',
      baseline: 'copy 256 MiB file to file (disk floor)',
      bytes: SIZE,
      iterations: 3,
      time: 1,
      fn: async () => {
        const target = join(root, `restored-${round++}`);
        await restoreBackup({ store, manifest: backup.cid, nodeSigningKey: node.identity.document.keys.sign, shares, dataDir: target });
        await rm(target, { recursive: true, force: true });
      },
    },
  ],
} satisfies BenchSuite;
